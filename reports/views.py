from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import audit
from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from accounts.stepup import has_recent_stepup, stepup_redirect
from cases import services as case_services
from cases.access import case_for_user
from cases.forms import MessageForm
from cases.models import Case, Consultation, MessageKind, Status
from cases.services import (
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
from core.responses import attachment
from reports import queue, services, snapshot, verify
from reports import statistics as stats
from reports import workspace as ws
from reports.access import document_for_user
from reports.forms import AddendumForm, ConfirmForm, FollowUpForm, ReportForm, StatisticsForm
from reports.models import RenderStatus, Report, SignedDocument
from uploads import services as upload_services
from uploads.access import upload_for_user
from uploads.models import Upload, UploadStatus


@role_required(Role.SPECIALIST)
def workspace(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The review workspace of a case the specialist leads, was consulted on or reported on."""
    case = case_for_user(request, case_id)
    return render(request, "reports/workspace.html", ws.context(case, user=request.user))


# --- Report authoring (lead specialist) -------------------------------------------------------


def _report_form(report: Report, evidence: dict[str, Any], data: Any = None) -> ReportForm:
    case = report.case
    return ReportForm(
        data,
        instance=report,
        questions=list(case.questions.all()),
        photos=[(str(item["upload"].pk), item["label"]) for item in evidence["photo_items"]],
        answers={a.question_id: a.text for a in report.answers.all()},
    )


def _edit_page(
    request: AuthedRequest, report: Report, form: ReportForm, evidence: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(
        request, "reports/edit.html", {"case": report.case, "report": report, "form": form, **evidence}, status=status
    )


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
    evidence = ws.evidence(case)
    form = _report_form(report, evidence, request.POST if request.method == "POST" else None)
    autosave = request.headers.get("X-Autosave") == "1"
    if request.method == "POST":
        if not form.is_valid():
            if autosave:
                return JsonResponse({"saved": False}, status=400)
            return _edit_page(request, report, form, evidence, status=400)
        try:
            services.report_save_draft(
                actor=request.user, report=report, fields=form.sections(), answers=form.answers()
            )
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
    return _edit_page(request, report, form, evidence)


def _draft_context(report: Report) -> dict[str, Any]:
    content = snapshot.build(report, version=0, signer=report.author, signed_at=timezone.now())
    return {"content": content, "sections": snapshot.sections(content), "problems": services.signing_problems(report)}


@role_required(Role.SPECIALIST)
def preview(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The draft as the patient will read it, with what still stops signing."""
    case, report = _lead_report(request, case_id)
    if report is None:
        return redirect("reports:workspace", case.pk)
    return render(
        request, "reports/preview.html", {"case": case, "report": report, "preview_pdf": True, **_draft_context(report)}
    )


@role_required(Role.SPECIALIST)
def preview_pdf(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponseBase:
    """The draft rendered exactly as the PDF will be, watermarked "draft", never stored."""
    from reports.rendering import render_pdf

    case, report = _lead_report(request, case_id)
    if report is None:
        return redirect("reports:workspace", case.pk)
    content = snapshot.build(report, version=0, signer=report.author, signed_at=timezone.now())
    pdf = render_pdf(content, language=case.patient.language, draft=True)
    response = StreamingHttpResponse(iter([pdf]), content_type="application/pdf")
    return attachment(response, f"draft-{case.reference}.pdf")


@role_required(Role.SPECIALIST)
def sign(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """Signing needs a fresh second factor (step-up) and a complete report."""
    case, report = _lead_report(request, case_id)
    if report is None:
        return redirect("reports:workspace", case.pk)
    if request.method == "GET" and services.signing_problems(report):
        return redirect("reports:preview", case.pk)  # what is missing, before asking for a code
    if not has_recent_stepup(request):
        return stepup_redirect(request)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_sign(report=report, signer=request.user)
        except services.CannotSign as e:
            for problem in e.problems:
                messages.error(request, problem)
            return redirect("reports:sign", case.pk)
        messages.success(request, _("The report is signed. The patient has been told it is ready."))
        return redirect("reports:workspace", case.pk)
    return render(
        request, "reports/sign.html", {"case": case, "report": report, "form": form, **_draft_context(report)}
    )


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
        services.addendum_save_draft(
            actor=request.user, addendum=draft, body=form.cleaned_data["body"], answers=form.answers()
        )
        if "sign" in request.POST:
            return redirect("reports:addendum_sign", report.case_id)
        messages.success(request, _("Draft saved."))
        return redirect("reports:addendum", report.case_id)
    return render(
        request, "reports/addendum.html", {"case": report.case, "report": report, "addendum": draft, "form": form}
    )


@role_required(Role.SPECIALIST)
def addendum_sign(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    report = _own_signed_report(request, case_id)
    if not has_recent_stepup(request):
        return stepup_redirect(request)
    draft = services.addendum_draft_for(report=report, author=request.user)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.addendum_sign(addendum=draft, signer=request.user)
        except services.CannotSign as e:
            for problem in e.problems:
                messages.error(request, problem)
            return redirect("reports:addendum", report.case_id)
        messages.success(request, _("The addendum is signed. The patient has been told."))
        return redirect("reports:workspace", report.case_id)
    return render(
        request, "reports/addendum_sign.html", {"case": report.case, "report": report, "addendum": draft, "form": form}
    )


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
        services.follow_up_ask(actor=request.user, case=case, text=form.cleaned_data["text"])
    except services.NotAllowed as e:
        return _back_to_case(request, case, e)
    messages.success(request, _("Your question was sent. The specialist answers in a signed addendum."))
    return _back_to_case(request, case)


@require_POST
@role_required(Role.PATIENT)
def close(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    try:
        services.case_close(actor=request.user, case=case)
    except services.NotAllowed as e:
        return _back_to_case(request, case, e)
    messages.success(request, _("Your case is closed. You can still read and download the report."))
    return _back_to_case(request, case)


@require_POST
@role_required(Role.PATIENT)
def second_opinion(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    try:
        services.second_opinion_request(actor=request.user, case=case)
    except services.NotAllowed as e:
        return _back_to_case(request, case, e)
    messages.success(request, _("We are looking for a second specialist to review your case."))
    return _back_to_case(request, case)


# --- Signed report PDFs: download, public verification ------------------------------------------


def _send_document(request: HttpRequest, document: SignedDocument) -> StreamingHttpResponse:
    from reports.rendering import open_document

    audit.record(
        request=request,
        event_type="report_document.download",
        action=audit.Action.READ,
        entity_type="SignedDocument",
        entity_id=str(document.pk),
        case_id=document.report.case_id,
        patient_id=document.report.case.patient_id,
        detail={"version": document.version},
    )
    response = StreamingHttpResponse(open_document(document), content_type="application/pdf")
    attachment(response, f"second-opinion-{document.report.case.reference}-v{document.version}.pdf")
    response["Content-Length"] = str(document.pdf_size)
    return response


@login_required
def download(request: AuthedRequest, document_id: uuid.UUID) -> HttpResponseBase:
    """A signed report's PDF, for whoever may read the case, after a fresh factor (step-up:
    SECURITY.md row 6, "report release"; staff too, since the file leaves our control)."""
    document = document_for_user(request, document_id)
    if document.render_status != RenderStatus.READY:
        raise Http404
    if not has_recent_stepup(request):
        case = document.report.case
        then = reverse("reports:workspace" if request.user.is_specialist else "cases:detail", args=[case.pk])
        return stepup_redirect(request, then=then, done="download")
    return _send_document(request, document)


def _verify_page(
    request: HttpRequest, form: verify.VerifyCodeForm, *, problem: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "reports/verify.html",
        {"form": form, "problem": problem, "max_mb": settings.REPORT_VERIFY_MAX_MB},
        status=status,
    )


def _verify_result(request: HttpRequest, result: verify.Result, *, method: str) -> HttpResponse:
    return render(request, "reports/verify_result.html", {"result": result, "method": method})


def _too_many(request: HttpRequest, method: str) -> HttpResponse:
    verify.record(request, method=method, result="rate_limited")
    minutes = settings.REPORT_VERIFY_RATE[1] // 60
    return render(request, "reports/verify_limited.html", {"minutes": minutes}, status=429)


@csrf_exempt  # checked by csrf_protect below, once our handler is in place (as uploads:upload does)
@require_http_methods(["GET", "POST"])
def verify_report(request: HttpRequest) -> HttpResponse:
    """Check a report by its verification code or by uploading the PDF (public, no sign-in)."""
    if request.method == "GET":
        return _verify_page(request, verify.VerifyCodeForm())
    if verify.over_limit(request):
        return _too_many(request, "post")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > verify.max_bytes() + 64 * 1024:  # refuse before reading a byte of the body
        verify.record(request, method="upload", result="too_large")
        return _verify_page(request, verify.VerifyCodeForm(), problem="too_large", status=413)
    handler = verify.HashingUploadHandler(request, limit=verify.max_bytes())
    request.upload_handlers = [handler]  # before anything reads the body
    return csrf_protect(_verify_post)(request, handler)


def _verify_post(request: HttpRequest, handler: verify.HashingUploadHandler) -> HttpResponse:
    form = verify.VerifyCodeForm(request.POST)
    if handler.too_large:
        verify.record(request, method="upload", result="too_large")
        return _verify_page(request, verify.VerifyCodeForm(), problem="too_large", status=413)
    if handler.sha256:
        document, result = verify.by_pdf_sha256(handler.sha256)
        verify.record(request, method="upload", result=result.status, document=document)
        return _verify_result(request, result, method="upload")
    if "code" not in request.POST:
        verify.record(request, method="upload", result="no_file")
        return _verify_page(request, verify.VerifyCodeForm(), problem="no_file", status=400)
    if not form.is_valid():
        verify.record(request, method="code", result="malformed")
        return _verify_page(request, form, status=400)
    document, result = verify.by_code(form.cleaned_data["code"])
    verify.record(request, method="code", result=result.status, document=document)
    return _verify_result(request, result, method="code")


@require_GET
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code's target: the same answer as typing the code."""
    if verify.over_limit(request):
        return _too_many(request, "qr")
    normalised = verify.normalise_code(code)
    document, result = verify.by_code(normalised) if normalised else (None, verify.Result(found=False))
    verify.record(request, method="qr", result=result.status, document=document)
    return _verify_result(request, result, method="code")


# --- Queue, claim, assignment and consultation (issue 5) ---------------------------------


def _audit_list(request: HttpRequest, event_type: str, cases: list[Case]) -> None:
    # One event per page view, naming the cases shown: a constant cost whatever the page size.
    audit.record(
        request=request,
        event_type=event_type,
        action=audit.Action.READ,
        entity_type="Case",
        detail={"cases": [c.pk for c in cases]},
    )


def _not_found(request: HttpRequest, case_id: uuid.UUID, case: Case | None) -> Http404:
    """Missing and not allowed look the same; the denial is audited."""
    audit.record(
        request=request,
        event_type="case.take.denied",
        action=audit.Action.UPDATE,
        outcome=audit.Outcome.MINOR_FAILURE,
        entity_type="Case",
        entity_id=str(case_id),
        case_id=case.pk if case else None,
        patient_id=case.patient_id if case else None,
    )
    return Http404()


def _first_error(form: object) -> str:
    errors = getattr(form, "errors", {})
    return next((str(e[0]) for e in errors.values()), _("Check the form and try again."))


@role_required(Role.SPECIALIST)
def specialist_home(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "reports/specialist_home.html",
        {
            "profile": getattr(request.user, "specialist_profile", None),
            "waiting": Case.objects.claimable_by(request.user).count(),
            "my_cases": queue.my_cases(request.user),
        },
    )


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
    return render(
        request,
        "reports/queue.html",
        {
            "form": form,
            "page_obj": page,
            "now": now,
            "at_risk_before": now + queue.AT_RISK_WITHIN,
            "my_cases": queue.my_cases(request.user),
        },
    )


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
        consultation_invite(case=case, lead=request.user, colleague=form.cleaned_data["colleague"])
    except NotEligible:
        messages.error(request, _("You can consult a colleague only while the case is in review."))
    else:
        messages.success(request, _("Your colleague has been asked to look at the case."))
    return redirect("reports:workspace", case.pk)


def _case_upload(request: HttpRequest, case_id: uuid.UUID, upload_id: uuid.UUID) -> Upload:
    """An upload of this case, through the upload access rule (audited)."""
    upload = upload_for_user(request, upload_id)
    if upload.case_id != case_id:
        raise Http404
    return upload


@role_required(Role.SPECIALIST)
def photo(request: AuthedRequest, case_id: uuid.UUID, upload_id: uuid.UUID) -> HttpResponse:
    """One photo at full size, with zoom (links without JavaScript, buttons with it)."""
    upload = _case_upload(request, case_id, upload_id)
    if not upload_services.is_inline_image(upload):
        raise Http404
    zoom_key = request.GET.get("zoom", "fit")
    zoom = ws.ZOOMS.get(zoom_key)
    width, height = upload.info.get("width"), upload.info.get("height")
    size = (width * zoom // 100, height * zoom // 100) if zoom and width and height else None
    return render(
        request,
        "reports/photo.html",
        {
            "case": upload.case,
            "upload": upload,
            "zoom": zoom_key if zoom_key in ws.ZOOMS else "fit",
            "zooms": list(ws.ZOOMS),
            "size": size,
        },
    )


@role_required(Role.SPECIALIST)
def compare(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """Two photos of the case side by side, at the same width, with their dates."""
    case = case_for_user(request, case_id)
    photos = upload_services.review_files(case)["photos"]
    # Sent with both photos chosen; from a photo's page only the first ("?a=") comes pre-selected.
    form = ws.CompareForm(
        request.GET if "b" in request.GET else None, photos=photos, initial={"a": request.GET.get("a")}
    )
    pair = None
    if form.is_valid():
        by_id = {str(u.pk): u for u in photos}
        pair = [by_id[form.cleaned_data["a"]], by_id[form.cleaned_data["b"]]]
    return render(
        request,
        "reports/compare.html",
        {"case": case, "compare_form": form, "form": form, "pair": pair, "photos": photos},
    )


@role_required(Role.SPECIALIST)
def series(request: AuthedRequest, case_id: uuid.UUID, upload_id: uuid.UUID) -> HttpResponse:
    """One DICOM series, one image at a time (?n=1..N), each rendered on the server."""
    upload = _case_upload(request, case_id, upload_id)
    if upload.kind != "dicom" or upload.status != UploadStatus.ACCEPTED:
        raise Http404
    found = upload_services.series_of(upload)
    images = upload_services.series_images(found)
    try:
        n = int(request.GET.get("n", "1"))
    except ValueError:
        n = 0
    if not images or not 1 <= n <= len(images):
        raise Http404
    current, index = images[n - 1]
    return render(
        request,
        "reports/series.html",
        {
            "case": upload.case,
            "series": found,
            "first": found.first,
            "n": n,
            "total": len(images),
            "current": current,
            "index": index,
            "previous": n - 1 if n > 1 else None,
            "next": n + 1 if n < len(images) else None,
        },
    )


def _send(request: AuthedRequest, case_id: uuid.UUID, kind: str) -> HttpResponse:
    """A message or a request for information from the lead specialist to the patient."""
    case = case_for_user(request, case_id)
    if case.specialist_id != request.user.pk:  # colleagues and earlier authors only read
        raise Http404
    form_class = ws.RequestInformationForm if kind == MessageKind.REQUEST else MessageForm
    form = form_class(request.POST, prefix=kind)
    if not form.is_valid():
        forms = {"request_form" if kind == MessageKind.REQUEST else "message_form": form}
        return render(request, "reports/workspace.html", ws.context(case, user=request.user, **forms))
    if _deliver(request, case, kind, form.cleaned_data["body"]):
        messages.success(
            request,
            _("Request sent. The case now waits for the patient's answer.")
            if kind == MessageKind.REQUEST
            else _("Message sent."),
        )
    return redirect(reverse("reports:workspace", args=[case.pk]) + "#messages")


def _deliver(request: AuthedRequest, case: Case, kind: str, body: str) -> bool:
    """Send, or tell the user why it could not be sent."""
    not_in_review = _("A request for information can only be sent while the case is in review.")
    if kind == MessageKind.REQUEST and case.status != Status.IN_REVIEW:
        messages.error(request, not_in_review)
        return False
    try:
        case_services.message_send(case=case, author=request.user, body=body, kind=kind)
    except case_services.ThreadClosed:
        messages.error(request, _("This case is not open for messages."))
        return False
    except (case_services.InvalidTransition, case_services.ConcurrentTransition):
        messages.error(request, not_in_review)
        return False
    return True


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
        consultation_note(actor=request.user, consultation=consultation, note=form.cleaned_data["note"])
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
    return render(
        request,
        "console/assign.html",
        {
            "page_obj": page,
            "rows": [(c, eligible[c.pk]) for c in cases],
            "now": now,
            "at_risk_before": now + queue.AT_RISK_WITHIN,
        },
    )


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
        messages.error(
            request,
            _("Case %(reference)s is no longer waiting: another specialist took it first.")
            % {"reference": case.reference},
        )
    except NotEligible:
        messages.error(
            request,
            _(
                "That specialist cannot take case %(reference)s: check their specialties and "
                "the countries where they are licensed."
            )
            % {"reference": case.reference},
        )
    else:
        messages.success(request, _("Case %(reference)s has been assigned.") % {"reference": case.reference})
    return redirect("reports:assignment_list")


@require_POST
@role_required(Role.SPECIALIST)
def message(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    return _send(request, case_id, MessageKind.MESSAGE)


@require_POST
@role_required(Role.SPECIALIST)
def request_information(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    return _send(request, case_id, MessageKind.REQUEST)


# --- Anonymised statistics (admins) ------------------------------------------------------------------


@role_required(Role.ADMIN)
def statistics(request: AuthedRequest) -> HttpResponse:
    form = StatisticsForm(request.GET or None, year=timezone.localdate().year)
    period = form.cleaned_data["period"] if form.is_valid() else StatisticsForm.DEFAULT
    start, end = stats.period_bounds(period)
    rows = stats.statistics(start=start, end=end)
    if request.GET.get("format") == "csv" and form.is_valid():
        return _statistics_csv(rows, period)
    return render(
        request,
        "console/statistics.html",
        {"form": form, "rows": rows, "period": period, "threshold": stats.THRESHOLD, "agreements": stats.AGREEMENTS},
        status=400 if form.errors else 200,
    )


def _statistics_csv(rows: list[stats.Row], period: str) -> HttpResponse:
    import csv

    response = attachment(HttpResponse(content_type="text/csv; charset=utf-8"), f"statistics-{period}.csv")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Specialty"),
            _("Cases submitted"),
            _("Reported"),
            _("Median turnaround (days)"),
            _("90th percentile (days)"),
            _("Within the SLA (%)"),
            *(str(a.label) for a in stats.AGREEMENTS),
            _("In-person evaluation recommended"),
            _("In-person evaluation recommended (%)"),
        ]
    )
    for row in rows:
        writer.writerow(row.csv())
    return response
