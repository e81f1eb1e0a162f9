from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from accounts.stepup import has_recent_stepup, stepup_redirect
from cases.access import case_for_user
from cases.models import Case
from reports import services, snapshot
from reports.forms import AddendumForm, ConfirmForm, FollowUpForm, ReportForm
from reports.models import Report


@role_required(Role.SPECIALIST)
def workspace(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The review workspace of a case the specialist leads, was consulted on or reported on."""
    case = case_for_user(request, case_id)
    return render(request, "reports/workspace.html", {"case": case})


# --- Report authoring (lead specialist) -------------------------------------------------------

def _photo_choices(case: Case) -> list[tuple[str, str]]:
    from uploads.models import Kind, Upload, UploadStatus

    photos = Upload.objects.filter(case=case, kind=Kind.IMAGE, status=UploadStatus.ACCEPTED).order_by("created_at")
    return [(str(u.pk), f"{u.original_name} ({date_format(u.created_at, 'SHORT_DATE_FORMAT')})") for u in photos]


def _report_form(report: Report, data: Any = None) -> ReportForm:
    case = report.case
    return ReportForm(data, instance=report, questions=list(case.questions.all()), photos=_photo_choices(case),
                      answers={a.question_id: a.text for a in report.answers.all()})


def _lead_report(request: AuthedRequest, case_id: uuid.UUID) -> tuple[Case, Report | None]:
    """The case (access-checked) and its report for the current round, if this specialist
    leads it; None when the report is already signed or the specialist is not the lead."""
    case = case_for_user(request, case_id)
    existing = case.reports.filter(round=case.round).first()
    if existing is not None and existing.is_signed:
        return case, None
    try:
        return case, services.report_draft_for(case=case, author=request.user)
    except services.NotAllowed as e:
        messages.error(request, e.message)
        return case, None


@role_required(Role.SPECIALIST)
def edit(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case, report = _lead_report(request, case_id)
    if report is None:
        return redirect("reports:workspace", case.pk)
    form = _report_form(report, request.POST if request.method == "POST" else None)
    autosave = request.headers.get("X-Autosave") == "1"
    if request.method == "POST":
        if not form.is_valid():
            if autosave:
                return JsonResponse({"saved": False}, status=400)
            return render(request, "reports/edit.html", {"case": case, "report": report, "form": form}, status=400)
        try:
            services.report_save_draft(request=request, report=report, fields=form.sections(), answers=form.answers())
        except services.NotAllowed as e:
            if autosave:
                return JsonResponse({"saved": False}, status=409)
            messages.error(request, e.message)
            return redirect("reports:workspace", case.pk)
        if autosave:
            return JsonResponse({"saved": True, "at": date_format(timezone.localtime(), "TIME_FORMAT")})
        if "preview" in request.POST:
            return redirect("reports:preview", case.pk)
        if "sign" in request.POST:
            return redirect("reports:sign", case.pk)
        messages.success(request, _("Draft saved."))
        return redirect("reports:edit", case.pk)
    return render(request, "reports/edit.html", {"case": case, "report": report, "form": form})


def _draft_context(report: Report) -> dict[str, Any]:
    content = snapshot.build(report, version=0, signer=report.author, signed_at=timezone.now())
    return {"content": content, "sections": snapshot.sections(content),
            "problems": services.signing_problems(report)}


@role_required(Role.SPECIALIST)
def preview(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The draft as the patient will read it, with what still stops signing."""
    case, report = _lead_report(request, case_id)
    if report is None:
        return redirect("reports:workspace", case.pk)
    return render(request, "reports/preview.html", {"case": case, "report": report, **_draft_context(report)})


@role_required(Role.SPECIALIST)
def sign(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """Signing needs a fresh second factor (step-up) and a complete report."""
    case, report = _lead_report(request, case_id)
    if report is None:
        return redirect("reports:workspace", case.pk)
    if not has_recent_stepup(request):
        return stepup_redirect(request)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_sign(request=request, report=report, signer=request.user)
        except services.CannotSign as e:
            for problem in e.problems:
                messages.error(request, problem)
            return redirect("reports:sign", case.pk)
        messages.success(request, _("The report is signed. The patient has been told it is ready."))
        return redirect("reports:workspace", case.pk)
    return render(request, "reports/sign.html", {"case": case, "report": report, "form": form,
                                                 **_draft_context(report)})


def _own_signed_report(request: AuthedRequest, case_id: uuid.UUID) -> Report:
    """The latest report this specialist signed on the case (addenda are added to it)."""
    case = case_for_user(request, case_id)
    report = case.reports.signed().filter(author=request.user).select_related("case").order_by("-round").first()
    if report is None:
        raise Http404
    return report


@role_required(Role.SPECIALIST)
def addendum(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """Draft an addendum to a signed report: a correction, or the answers to follow-ups."""
    report = _own_signed_report(request, case_id)
    draft = services.addendum_draft_for(report=report, author=request.user)
    form = AddendumForm(request.POST if request.method == "POST" else None, addendum=draft)
    if request.method == "POST" and form.is_valid():
        services.addendum_save_draft(request=request, addendum=draft, body=form.cleaned_data["body"],
                                     answers=form.answers())
        if "sign" in request.POST:
            return redirect("reports:addendum_sign", report.case_id)
        messages.success(request, _("Draft saved."))
        return redirect("reports:addendum", report.case_id)
    return render(request, "reports/addendum.html", {"case": report.case, "report": report, "addendum": draft,
                                                     "form": form})


@role_required(Role.SPECIALIST)
def addendum_sign(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    report = _own_signed_report(request, case_id)
    if not has_recent_stepup(request):
        return stepup_redirect(request)
    draft = services.addendum_draft_for(report=report, author=request.user)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.addendum_sign(request=request, addendum=draft, signer=request.user)
        except services.CannotSign as e:
            for problem in e.problems:
                messages.error(request, problem)
            return redirect("reports:addendum", report.case_id)
        messages.success(request, _("The addendum is signed. The patient has been told."))
        return redirect("reports:workspace", report.case_id)
    return render(request, "reports/addendum_sign.html", {"case": report.case, "report": report, "addendum": draft,
                                                          "form": form})


# --- Delivery (patient) --------------------------------------------------------------------------

def _back_to_case(request: AuthedRequest, case: Case, error: services.NotAllowed | None = None) -> HttpResponse:
    if error is not None:
        messages.error(request, error.message)
    return redirect(reverse("cases:detail", args=[case.pk]) + "#report")


@require_POST
@role_required(Role.PATIENT)
def follow_up(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write your question."))
        return _back_to_case(request, case)
    try:
        services.follow_up_ask(request=request, case=case, text=form.cleaned_data["text"])
    except services.NotAllowed as e:
        return _back_to_case(request, case, e)
    messages.success(request, _("Your question was sent. The specialist answers in a signed addendum."))
    return _back_to_case(request, case)


@require_POST
@role_required(Role.PATIENT)
def close(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    try:
        services.case_close(request=request, case=case)
    except services.NotAllowed as e:
        return _back_to_case(request, case, e)
    messages.success(request, _("Your case is closed. You can still read and download the report."))
    return _back_to_case(request, case)


@require_POST
@role_required(Role.PATIENT)
def second_opinion(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    try:
        services.second_opinion_request(request=request, case=case)
    except services.NotAllowed as e:
        return _back_to_case(request, case, e)
    messages.success(request, _("We are looking for a second specialist to review your case."))
    return _back_to_case(request, case)
