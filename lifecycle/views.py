"""Retention, legal hold, erasure requests and deletion certificates (pages and actions)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

import audit
from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from accounts.stepup import has_recent_stepup, stepup_redirect, stepup_required
from cases.access import case_for_user
from core import ratelimit, signing
from core.responses import attachment
from lifecycle import certificates, erasure, retention
from lifecycle.forms import ErasureForm, LegalHoldForm, RefuseForm, RetentionPolicyForm
from lifecycle.models import DeletionCertificate, DeletionRequest, DeletionStatus, RetentionPolicy

UPLOAD_FIELD = "certificate"


def _posted(request: HttpRequest) -> Any:
    """The submitted data, bound even when empty (an empty POST must show its errors)."""
    return request.POST if request.method == "POST" else None


# --- Retention policies (admins) ---------------------------------------------------------------


def _retention_page(request: AuthedRequest, form: RetentionPolicyForm) -> HttpResponse:
    return render(
        request,
        "lifecycle/retention.html",
        {
            "form": form,
            "policies": RetentionPolicy.objects.all(),
            "default_days": retention.keep_days_for(""),
            "has_default": RetentionPolicy.objects.filter(country="").exists(),
            "certificates": retention.recent_purges(),
            "audit_years": settings.AUDIT_RETENTION_YEARS,
        },
        status=400 if form.errors else 200,
    )


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirm") == "yes"


@role_required(Role.ADMIN)
def retention_policies(request: AuthedRequest) -> HttpResponse:
    """A valid change is shown for confirmation first; only the confirmed POST saves it."""
    form = RetentionPolicyForm(_posted(request))
    if request.method != "POST" or not form.is_valid():
        return _retention_page(request, form)
    country, keep_days = form.cleaned_data["country"], form.cleaned_data["keep_days"]
    if not _confirmed(request):
        current = RetentionPolicy.objects.filter(country=country).values_list("keep_days", flat=True).first()
        return render(
            request,
            "lifecycle/retention_confirm.html",
            {
                "form": form,
                "country": country,
                "keep_days": keep_days,
                "old_days": current if current is not None else retention.keep_days_for(country),
            },
        )
    retention.policy_save(actor=request.user, country=country, keep_days=keep_days)
    messages.success(request, _("Retention policy saved."))
    return redirect("lifecycle:retention")


@require_POST
@role_required(Role.ADMIN)
def retention_remove(request: AuthedRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(RetentionPolicy, pk=policy_id)
    if not _confirmed(request):
        fallback = retention.keep_days_for("", {}) if not policy.country else retention.keep_days_for("")
        return render(request, "lifecycle/retention_remove.html", {"policy": policy, "fallback_days": fallback})
    retention.policy_remove(actor=request.user, policy=policy)
    messages.success(request, _("Retention policy removed."))
    return redirect("lifecycle:retention")


# --- Legal hold (admins) -----------------------------------------------------------------------


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("lifecycle:retention")
    return redirect(target)


@role_required(Role.ADMIN)
def legal_hold(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, metadata_only=True)
    form = LegalHoldForm(
        _posted(request), prefix="hold", initial={"reason": case.legal_hold_reason, "note": case.legal_hold_note}
    )
    if request.method == "POST" and form.is_valid():
        retention.legal_hold_set(actor=request.user, case=case, **form.cleaned_data)
        messages.success(request, _("Case %(reference)s is on legal hold.") % {"reference": case.reference})
        return _back(request)
    return render(
        request,
        "lifecycle/legal_hold.html",
        {"case": case, "form": form, "next": request.POST.get("next", "")},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.ADMIN)
def legal_hold_release(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, metadata_only=True)
    retention.legal_hold_release(actor=request.user, case=case)
    messages.success(request, _("The legal hold on case %(reference)s is lifted.") % {"reference": case.reference})
    return _back(request)


# --- Erasure requests --------------------------------------------------------------------------


@role_required(Role.PATIENT)
@stepup_required
def erase(request: AuthedRequest) -> HttpResponse:
    """What erasure does, and the request (after a fresh step-up)."""
    pending = erasure.open_request(request.user)
    form = ErasureForm(_posted(request))
    if request.method == "POST" and pending is None and form.is_valid():
        keep = form.cleaned_data["account"] == "keep"
        try:
            deletion_request = erasure.erasure_request(patient=request.user, keep_account=keep)
        except erasure.AlreadyRequested:
            return redirect("accounts:security")
        if keep or deletion_request.status in (DeletionStatus.REFUSED, DeletionStatus.PENDING):
            return redirect("accounts:security")
        return render(request, "lifecycle/erase_received.html", {"deletion_request": deletion_request})
    return render(
        request, "lifecycle/erase.html", {"form": form, "pending": pending}, status=400 if form.errors else 200
    )


def _certificate_response(certificate: DeletionCertificate, fmt: str, language: str) -> HttpResponse:
    if fmt == "json":
        body, mime = certificates.certificate_json(certificate), "application/json"
    elif fmt == "pdf":
        body, mime = certificates.certificate_pdf(certificate, language=language), "application/pdf"
    else:
        raise Http404
    return attachment(HttpResponse(body, content_type=mime), certificates.certificate_filename(certificate, fmt))


def _record_download(request: AuthedRequest, certificate: DeletionCertificate, fmt: str) -> None:
    audit.record(
        actor=request.user,
        event_type="certificate.download",
        action=audit.Action.READ,
        entity_type="DeletionCertificate",
        entity_id=str(certificate.pk),
        patient_id=certificate.patient_ref,
        detail={"format": fmt},
    )


@role_required(Role.PATIENT)
def erase_certificate(request: AuthedRequest, fmt: str) -> HttpResponse:
    """The certificate of the patient's done erasure (they kept the account)."""
    done = (
        DeletionRequest.objects.filter(patient=request.user, status=DeletionStatus.DONE, certificate__isnull=False)
        .select_related("certificate")
        .first()
    )
    if done is None or done.certificate is None or fmt not in ("json", "pdf"):
        raise Http404
    _record_download(request, done.certificate, fmt)
    return _certificate_response(done.certificate, fmt, request.user.language)


@role_required(Role.ADMIN)
def deletion_requests(request: AuthedRequest) -> HttpResponse:
    rows = DeletionRequest.objects.select_related("certificate")[:100]
    return render(
        request,
        "lifecycle/deletion_requests.html",
        {"rows": rows, "refuse_form": RefuseForm(), "labels": erasure.RefusalCode.LABELS},
    )


@require_POST
@role_required(Role.ADMIN)
def deletion_approve(request: AuthedRequest, request_id: uuid.UUID) -> HttpResponse:
    deletion_request = get_object_or_404(DeletionRequest, pk=request_id)
    if not has_recent_stepup(request):
        return stepup_redirect(request)
    erasure.erasure_approve(actor=request.user, deletion_request=deletion_request)
    deletion_request.refresh_from_db()
    if deletion_request.status == DeletionStatus.REFUSED:
        messages.error(request, _("Refused: one of the patient's cases is on legal hold."))
    else:
        messages.success(request, _("Approved. The deletion runs in the background."))
    return redirect("lifecycle:deletion_requests")


@require_POST
@role_required(Role.ADMIN)
def deletion_refuse(request: AuthedRequest, request_id: uuid.UUID) -> HttpResponse:
    deletion_request = get_object_or_404(DeletionRequest, pk=request_id)
    form = RefuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose why the request is refused."))
        return redirect("lifecycle:deletion_requests")
    erasure.erasure_refuse(actor=request.user, deletion_request=deletion_request, code=form.cleaned_data["code"])
    messages.success(request, _("Request refused."))
    return redirect("lifecycle:deletion_requests")


# --- Certificates ------------------------------------------------------------------------------


@role_required(Role.ADMIN)
def certificate_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "lifecycle/certificates.html", {"certificates": DeletionCertificate.objects.all()[:200]})


@role_required(Role.ADMIN)
def certificate_download(request: AuthedRequest, certificate_id: uuid.UUID, fmt: str) -> HttpResponse:
    certificate = get_object_or_404(DeletionCertificate, pk=certificate_id)
    if fmt not in ("json", "pdf"):
        raise Http404
    _record_download(request, certificate, fmt)
    return _certificate_response(certificate, fmt, request.LANGUAGE_CODE)


class MemoryUploadHandler(FileUploadHandler):
    """Keeps the one uploaded certificate in memory, up to `limit` bytes; nothing touches disk."""

    def __init__(self, request: HttpRequest, *, limit: int) -> None:
        super().__init__(request)
        self.limit, self.data, self.too_large, self.received = limit, bytearray(), False, False

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if field_name != UPLOAD_FIELD or self.received:
            raise SkipFile
        self.received = True

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if len(self.data) + len(raw_data) > self.limit:
            self.too_large, self.data = True, bytearray()
            raise StopUpload(connection_reset=False)
        self.data += raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # nothing goes into request.FILES


def _verify_page(request: HttpRequest, *, problem: str = "", status: int = 200) -> HttpResponse:
    return render(
        request,
        "lifecycle/verify.html",
        {
            "problem": problem,
            "public_key": signing.public_key_pem(),
            "key_id": signing.key_id(),
            "max_mb": certificates.MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


def _record_verify(request: HttpRequest, result: str) -> None:
    audit.record(
        request=request,
        event_type="certificate.verify",
        action=audit.Action.EXECUTE,
        outcome=audit.Outcome.SUCCESS if result == "valid" else audit.Outcome.MINOR_FAILURE,
        detail={"result": result},
    )


@csrf_exempt  # checked by csrf_protect below, once our handler is in place (as reports:verify does)
@require_http_methods(["GET", "POST"])
def certificate_verify(request: HttpRequest) -> HttpResponse:
    """Public: check a deletion certificate (JSON or PDF). Nothing is stored."""
    if request.method == "GET":
        return _verify_page(request)
    if ratelimit.over_limit(request, scope="certificate-verify", rate=settings.REPORT_VERIFY_RATE):
        _record_verify(request, "rate_limited")
        return render(
            request, "reports/verify_limited.html", {"minutes": settings.REPORT_VERIFY_RATE[1] // 60}, status=429
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > certificates.MAX_BYTES + 64 * 1024:  # refuse before reading a byte of the body
        _record_verify(request, "too_large")
        return _verify_page(request, problem="too_large", status=413)
    handler = MemoryUploadHandler(request, limit=certificates.MAX_BYTES)
    request.upload_handlers = [handler]
    return csrf_protect(_verify_post)(request, handler)


def _verify_post(request: HttpRequest, handler: MemoryUploadHandler) -> HttpResponse:
    request.POST  # noqa: B018 - parses the body through our handler
    if handler.too_large:
        _record_verify(request, "too_large")
        return _verify_page(request, problem="too_large", status=413)
    if not handler.data:
        _record_verify(request, "no_file")
        return _verify_page(request, problem="no_file", status=400)
    result = certificates.certificate_verify(bytes(handler.data))
    _record_verify(request, "valid" if result.valid else result.reason)
    return render(request, "lifecycle/verify_result.html", {"result": result, "c": result.content})
