from __future__ import annotations

import contextlib
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from cases import coverage, intake, panels, services
from cases.access import active_break_glass, case_for_user
from cases.access_log import access_log_page
from cases.forms import AboutYouForm, ConsentForm, MessageForm, TitleForm
from cases.models import Case, ConsentVersion, MessageKind, Status


def _draft(request: HttpRequest, case_id: uuid.UUID) -> Case | HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    if not case.is_draft:
        return redirect("cases:detail", case.pk)
    return case


@role_required(Role.PATIENT)
def patient_home(request: AuthedRequest) -> HttpResponse:
    cases = Case.objects.filter(patient=request.user).order_by("-created_at")
    return render(request, "cases/patient_home.html", {"cases": cases})


@role_required(Role.PATIENT)
def start(request: AuthedRequest) -> HttpResponse:
    form = TitleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        case = services.case_create(patient=request.user, title=form.cleaned_data["title"])
        return redirect("cases:step", case.pk, intake.STEPS[0].slug)
    return render(request, "cases/start.html", {"form": form, "offers": coverage.offers()})


@role_required(Role.PATIENT)
def title(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """Rename a case (the name only its patient sees), from Check your answers or the case page."""
    case = case_for_user(request, case_id, owner_only=True)
    form = TitleForm(request.POST if request.method == "POST" else None, instance=case)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("cases:check" if case.is_draft else "cases:detail", case.pk)
    return render(request, "cases/title.html", {"case": case, "form": form})


@role_required(Role.PATIENT)
def about_you(request: AuthedRequest) -> HttpResponse:
    """The patient's date of birth and sex, outside a case (the account page links here)."""
    form = AboutYouForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your details are saved."))
        return redirect("accounts:security")
    return render(request, "cases/about_you.html", {"form": form})


@role_required(Role.PATIENT)
def step(request: AuthedRequest, case_id: uuid.UUID, slug: str) -> HttpResponse:
    case = _draft(request, case_id)
    if isinstance(case, HttpResponse):
        return case
    current = intake.BY_SLUG.get(slug)
    if current is None:
        return redirect("cases:step", case.pk, intake.STEPS[0].slug)
    back, forward = intake.neighbours(current)
    from_check = request.GET.get("from") == "check"
    next_url = (
        reverse("cases:check", args=[case.pk])
        if from_check or forward is None
        else reverse("cases:step", args=[case.pk, forward.slug])
    )
    if current.slug == "consent":
        return _consent_step(request, case, current, back, next_url)
    contributed = panels.context(f"intake-{current.slug}", case, request.user)
    form = intake.build_form(
        current, case, request.POST if request.method == "POST" else None, photos=contributed.get("photos")
    )
    if request.method == "POST" and (form is None or form.is_valid()):
        with transaction.atomic():
            # Answers change only while the case is a draft, even if another tab just sent it.
            if not Case.objects.select_for_update().filter(pk=case.pk, status=Status.DRAFT).exists():
                return redirect("cases:detail", case.pk)
            intake.save(current, case, form)
        if current.slug == "urgent" and case.has_red_flags:
            return redirect("cases:emergency", case.pk)
        if "another" in request.POST:
            return redirect(request.get_full_path())
        return redirect(next_url)
    return render(
        request,
        current.template,
        {
            "case": case,
            "step": current,
            "form": form,
            "back": back,
            "from_check": from_check,
            "number": intake.STEPS.index(current) + 1,
            "total": len(intake.STEPS),
            "next": request.path,
            "continue_url": next_url,
            **contributed,
        },
    )


def _consent_step(
    request: AuthedRequest, case: Case, current: intake.Step, back: intake.Step | None, next_url: str
) -> HttpResponse:
    version = ConsentVersion.current()
    language = get_language() or "en"
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and version is not None and form.is_valid():
        services.consent_accept(actor=request.user, case=case, version=version, language=language)
        return redirect(next_url)
    return render(
        request,
        current.template,
        {
            "case": case,
            "step": current,
            "form": form,
            "back": back,
            "version": version,
            "consent_text": version.text_for(language) if version else "",
            "accepted": services.consent_is_current(case),
            "number": intake.STEPS.index(current) + 1,
            "total": len(intake.STEPS),
        },
    )


@role_required(Role.PATIENT)
def emergency(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    return render(request, "cases/emergency.html", {"case": case})


@role_required(Role.PATIENT)
def check(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _draft(request, case_id)
    if isinstance(case, HttpResponse):
        return case
    return render(
        request,
        "cases/check.html",
        {
            **panels.context("check", case, request.user),  # the files (uploads/panels.py)
            "case": case,
            "problems": services.submission_problems(case),
            "warnings": services.completeness_warnings(case),
        },
    )


@require_POST
@role_required(Role.PATIENT)
def submit(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    try:
        services.case_submit(actor=request.user, case=case)
    except services.NotReady as e:
        for problem in e.problems:
            messages.error(request, problem)
        return redirect("cases:check", case.pk)
    return redirect("cases:submitted", case.pk)


@role_required(Role.PATIENT)
def submitted(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    if case.is_draft:
        return redirect("cases:check", case.pk)
    return render(request, "cases/submitted.html", {"case": case, **panels.context("submitted", case, request.user)})


def _detail_context(request: HttpRequest, case: Case, message_form: MessageForm) -> dict[str, object]:
    # The files and the signed reports come from the apps above (uploads/panels.py, reports/panels.py);
    # reports marks them read when the patient is the one looking.
    return {
        **panels.context("detail", case, request.user),
        "case": case,
        "events": case.events.all(),
        "thread": case.messages.select_related("author"),
        "message_form": message_form,
        "can_write": case.status not in {Status.DRAFT, Status.CLOSED, Status.WITHDRAWN},
        "consent_outdated": case.is_open and not case.is_draft and not services.consent_is_current(case),
        # Waiting for a specialist that nobody active can be: no date is promised.
        "stranded": case.status in {Status.SUBMITTED, Status.TRIAGE}
        and case.specialist_id is None
        and not coverage.can_be_taken(case),
    }


@login_required
def detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id)
    context = _detail_context(request, case, MessageForm())
    context["break_glass"] = active_break_glass(request.user, case)  # an admin's emergency read
    return render(request, "cases/detail.html", context)


@require_POST
@role_required(Role.PATIENT, Role.SPECIALIST)  # an admin's break-glass access reads, never writes
def message(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id)
    form = MessageForm(request.POST)
    # Only the lead specialist asks the patient for information (it pauses the SLA).
    kind = (
        MessageKind.REQUEST
        if request.POST.get("kind") == MessageKind.REQUEST and case.specialist_id == request.user.pk
        else MessageKind.MESSAGE
    )
    if form.is_valid():
        try:
            services.message_send(case=case, author=request.user, body=form.cleaned_data["body"], kind=kind)
        except services.ThreadClosed:
            messages.error(request, _("This case is not open for messages."))
            return redirect("cases:detail", case.pk)
        except services.InvalidTransition:
            messages.error(request, _("A request for information can only be sent while the case is in review."))
            return redirect("cases:detail", case.pk)
        messages.success(request, _("Message sent."))
        return redirect("cases:detail", case.pk)
    return render(request, "cases/detail.html", {**_detail_context(request, case, form), "form": form})


@role_required(Role.PATIENT)
def withdraw(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    if not case.is_open:
        return redirect("cases:detail", case.pk)
    if request.method == "POST":
        with contextlib.suppress(services.ConcurrentTransition):  # someone else withdrew it first
            services.case_withdraw(actor=request.user, case=case)
        messages.success(request, _("Your case %(reference)s has been withdrawn.") % {"reference": case.reference})
        return redirect("cases:detail", case.pk)
    return render(request, "cases/withdraw.html", {"case": case})


@require_POST
@role_required(Role.PATIENT)
def consent_withdraw(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    if case.is_open:
        with contextlib.suppress(services.ConcurrentTransition):
            services.consent_withdraw(actor=request.user, case=case)
        messages.success(
            request,
            _("You have withdrawn your consent, and your case %(reference)s is withdrawn.")
            % {"reference": case.reference},
        )
    return redirect("cases:detail", case.pk)


@role_required(Role.PATIENT)
def consent(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """Accept a newly published consent version for a case already sent."""
    case = case_for_user(request, case_id, owner_only=True)
    version = ConsentVersion.current()
    if not case.is_open or case.is_draft or version is None or services.consent_is_current(case):
        return redirect("cases:detail", case.pk)
    language = get_language() or "en"
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.consent_accept(actor=request.user, case=case, version=version, language=language)
        messages.success(request, _("Thank you. Work on your case goes on."))
        return redirect("cases:detail", case.pk)
    return render(
        request,
        "cases/consent_update.html",
        {"case": case, "form": form, "version": version, "consent_text": version.text_for(language)},
    )


@require_GET
@role_required(Role.PATIENT)
def access_log(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """Which staff member did what with the patient's case, and when (from the audit trail)."""
    case = case_for_user(request, case_id, owner_only=True)
    page = access_log_page(case=case, page=request.GET.get("page"))
    return render(request, "cases/access_log.html", {"case": case, "page_obj": page})
