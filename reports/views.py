from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import render

from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from cases.access import case_for_user


@role_required(Role.SPECIALIST)
def workspace(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The review workspace of a case the specialist leads, was consulted on or reported on."""
    case = case_for_user(request, case_id)
    return render(request, "reports/workspace.html", {"case": case})


# --- Queue, claim, assignment and consultation (issue 5) ---------------------------------

from django.contrib import messages  # noqa: E402
from django.db.models import QuerySet  # noqa: E402
from django.http import Http404, HttpRequest  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

import audit  # noqa: E402
from cases.models import Case, Consultation  # noqa: E402
from cases.services import (  # noqa: E402
    AlreadyTaken,
    ConcurrentTransition,
    InvalidTransition,
    NotEligible,
    ThreadClosed,
    case_assign,
    case_claim,
    case_start_review,
    consultation_invite,
    consultation_note,
)
from reports import queue  # noqa: E402


def _audit_list(request: HttpRequest, event_type: str, cases: list[Case]) -> None:
    # One event per page view, naming the cases shown: a constant cost whatever the page size.
    audit.record(request=request, event_type=event_type, action=audit.Action.READ, entity_type="Case",
                 detail={"cases": [c.pk for c in cases]})


def _not_found(request: HttpRequest, case_id: uuid.UUID, case: Case | None) -> Http404:
    """Missing and not allowed look the same; the denial is audited."""
    audit.record(request=request, event_type="case.take.denied", action=audit.Action.UPDATE,
                 outcome=audit.Outcome.MINOR_FAILURE, entity_type="Case", entity_id=str(case_id),
                 case_id=case.pk if case else None, patient_id=case.patient_id if case else None)
    return Http404()


def _first_error(form: object) -> str:
    errors = getattr(form, "errors", {})
    return next((str(e[0]) for e in errors.values()), _("Check the form and try again."))


@role_required(Role.SPECIALIST)
def queue_list(request: AuthedRequest) -> HttpResponse:
    """The cases this specialist may claim, most urgent first, with only what is needed to choose."""
    profile = getattr(request.user, "specialist_profile", None)
    form = queue.QueueFilterForm(request.GET or None, specialties=profile.specialties if profile else [])
    now = timezone.now()
    cases: QuerySet[Case] = Case.objects.claimable_by(request.user)
    if form.is_valid():
        cases = queue.filter_queue(cases, form.cleaned_data, now)
    page = queue.paginate(cases, request.GET.get("page"), queue.queue_rows)
    _audit_list(request, "queue.read", list(page))
    return render(request, "reports/queue.html", {
        "form": form, "page_obj": page, "now": now, "at_risk_before": now + queue.AT_RISK_WITHIN,
        "my_cases": queue.my_cases(request.user)})


@require_POST
@role_required(Role.SPECIALIST)
def claim(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    # Not through case_for_user: nobody may read the case before taking it; the service decides.
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise _not_found(request, case_id, None)
    try:
        case_claim(case=case, specialist=request.user)
    except NotEligible:
        raise _not_found(request, case_id, case) from None
    except AlreadyTaken:
        if Case.objects.filter(pk=case.pk, specialist=request.user).exists():  # a double click
            return redirect("reports:workspace", case.pk)
        messages.error(request, _("Another specialist took this case first. Choose another one."))
        return redirect("reports:queue")
    messages.success(request, _("Case %(reference)s is yours. The review has started.") % {"reference": case.reference})
    return redirect("reports:workspace", case.pk)


@require_POST
@role_required(Role.SPECIALIST)
def start_review(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The specialist an admin assigned the case to starts the review."""
    case = case_for_user(request, case_id)
    try:
        case_start_review(case=case, specialist=request.user)
    except NotEligible:
        raise Http404 from None
    except (InvalidTransition, ConcurrentTransition):
        messages.info(request, _("The review of this case has already started."))
    else:
        messages.success(request, _("The review has started."))
    return redirect("reports:workspace", case.pk)


@require_POST
@role_required(Role.SPECIALIST)
def consult_invite(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The lead asks a colleague (any specialty) for their view."""
    case = case_for_user(request, case_id)
    if case.specialist_id != request.user.pk:
        raise Http404
    form = queue.ConsultInviteForm(request.POST, lead=request.user)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("reports:workspace", case.pk)
    try:
        consultation_invite(request=request, case=case, lead=request.user, colleague=form.cleaned_data["colleague"])
    except NotEligible:
        messages.error(request, _("You can consult a colleague only while the case is in review."))
    else:
        messages.success(request, _("Your colleague has been asked to look at the case."))
    return redirect("reports:workspace", case.pk)


@require_POST
@role_required(Role.SPECIALIST)
def consult_note(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The consulted colleague writes or edits their note; nobody else can."""
    case = case_for_user(request, case_id)
    consultation = Consultation.objects.filter(case=case, round=case.round, colleague=request.user).first()
    if consultation is None:
        raise Http404
    consultation.case = case
    form = queue.ConsultNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("reports:workspace", case.pk)
    try:
        consultation_note(request=request, consultation=consultation, note=form.cleaned_data["note"])
    except ThreadClosed:
        messages.error(request, _("The review is finished: notes can no longer change."))
    else:
        messages.success(request, _("Your note has been saved."))
    return redirect("reports:workspace", case.pk)


@role_required(Role.ADMIN)
def assignment_list(request: AuthedRequest) -> HttpResponse:
    """Cases waiting for a specialist, with the specialists each may go to. No clinical text."""
    page = queue.paginate(Case.objects.unassigned(), request.GET.get("page"), queue.assignment_rows)
    cases = list(page)
    eligible = queue.assignable_specialists(cases, list(queue.active_specialists()))
    _audit_list(request, "assignment_queue.read", cases)
    now = timezone.now()
    return render(request, "console/assign.html", {
        "page_obj": page, "rows": [(c, eligible[c.pk]) for c in cases], "now": now,
        "at_risk_before": now + queue.AT_RISK_WITHIN})


@require_POST
@role_required(Role.ADMIN)
def assign(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise _not_found(request, case_id, None)
    form = queue.AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("reports:assignment_list")
    try:
        case_assign(case=case, specialist=form.cleaned_data["specialist"], admin=request.user)
    except AlreadyTaken:
        messages.error(request, _("Case %(reference)s is no longer waiting: another specialist took it first.")
                       % {"reference": case.reference})
    except NotEligible:
        messages.error(request, _("That specialist cannot take case %(reference)s: check their specialties and "
                                  "the countries where they are licensed.") % {"reference": case.reference})
    else:
        messages.success(request, _("Case %(reference)s has been assigned.") % {"reference": case.reference})
    return redirect("reports:assignment_list")
