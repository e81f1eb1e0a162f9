from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

import audit
from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from accounts.stepup import stepup_required
from cases.access import case_for_user
from reports import verify
from reports.access import document_for_user
from reports.models import RenderStatus, SignedDocument


@role_required(Role.SPECIALIST)
def workspace(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The review workspace of a case the specialist leads, was consulted on or reported on."""
    case = case_for_user(request, case_id)
    return render(request, "reports/workspace.html", {"case": case})


# --- Signed report PDFs: download, public verification ------------------------------------------

def _send_document(request: HttpRequest, document: SignedDocument) -> StreamingHttpResponse:
    from reports.rendering import open_document
    from uploads.views import _attachment

    audit.record(request=request, event_type="report_document.download", action=audit.Action.READ,
                 entity_type="SignedDocument", entity_id=str(document.pk), case_id=document.report.case_id,
                 patient_id=document.report.case.patient_id, detail={"version": document.version})
    response = StreamingHttpResponse(open_document(document), content_type="application/pdf")
    _attachment(response, f"second-opinion-{document.report.case.reference}-v{document.version}.pdf")
    response["Content-Length"] = str(document.pdf_size)
    return response


@login_required
def download(request: HttpRequest, document_id: uuid.UUID) -> HttpResponse:
    """A signed report's PDF, for whoever may read the case, after a fresh factor (step-up:
    SECURITY.md row 6, "report release"; staff too, since the file leaves our control)."""
    document = document_for_user(request, document_id)
    if document.render_status != RenderStatus.READY:
        raise Http404
    send = cast(Callable[..., HttpResponse], _send_document)  # a StreamingHttpResponse, which the decorator passes on
    return stepup_required(send)(request, document)


def _verify_page(request: HttpRequest, form: verify.VerifyCodeForm, *, problem: str = "", status: int = 200) -> HttpResponse:
    return render(request, "reports/verify.html", {"form": form, "problem": problem,
                                                   "max_mb": settings.REPORT_VERIFY_MAX_MB}, status=status)


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
