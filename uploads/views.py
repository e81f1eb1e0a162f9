from __future__ import annotations

import uuid
from urllib.parse import unquote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import StopUpload
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

import audit
from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from cases.access import case_for_user
from cases.models import Case
from core.responses import attachment, inline_image
from uploads import services
from uploads.access import upload_for_user
from uploads.handler import EncryptingUploadHandler, Problem
from uploads.keys import patient_key_for
from uploads.limits import MB
from uploads.models import Upload, UploadStatus


def _problem_text(problem: Problem) -> str:
    """What went wrong with the file and what the patient can do about it (as the widget says it)."""
    values = {"name": problem.name or _("The upload"), "mb": problem.limit // MB, "n": problem.limit}
    if problem.code == "too_large":
        advice = {
            "pdf": _(
                "“%(name)s” is larger than %(mb)d MB, the limit for a PDF. Save or scan it again at a lower "
                "quality, or split it into several PDFs, and send those."
            ),
            "dicom": _(
                "“%(name)s” is larger than %(mb)d MB, the limit for one imaging (DICOM) file. Ask the hospital "
                "for a copy of the images on a CD or USB stick and send the folder."
            ),
            "zip": _(
                "“%(name)s” is larger than %(mb)d MB, the limit for a ZIP. Send the folder of images itself, or "
                "several smaller ZIPs."
            ),
        }
        text = advice.get(problem.detected or "") or _(
            "“%(name)s” is larger than %(mb)d MB, the limit for this kind of file. Send a smaller copy, for "
            "example a photo taken with a phone."
        )
        return text % values
    if problem.code == "case_quota" and not problem.name:  # the request was refused before a file was read
        return (
            _(
                "What you sent does not fit: a case can hold %(mb)d MB of files. Remove files the specialist does "
                "not need from the list below, or send fewer or smaller files at a time."
            )
            % values
        )
    if problem.code == "case_quota":
        return (
            _(
                "“%(name)s” does not fit: a case can hold %(mb)d MB of files. Remove files the specialist does not "
                "need from the list below, or send a smaller copy of this one."
            )
            % values
        )
    if problem.code == "case_full":
        return (
            ngettext(
                "“%(name)s” was not added: a case can hold %(n)d file. Remove files the specialist does not need, "
                "or send a folder of images as one ZIP.",
                "“%(name)s” was not added: a case can hold %(n)d files. Remove files the specialist does not need, "
                "or send a folder of images as one ZIP.",
                problem.limit,
            )
            % values
        )
    if problem.code == "incomplete":
        return _("“%(name)s” did not arrive completely. Send it again.") % values
    return (
        _("“%(name)s” is empty. Choose the file again; if it is still empty, save it again from where it came.")
        % values
    )


def _back(request: HttpRequest, case: Case) -> str:
    url = request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return reverse("uploads:files", args=[case.pk])


def _files_page(request: HttpRequest, case: Case, status: int = 200) -> HttpResponse:
    return render(
        request,
        "uploads/files.html",
        {"case": case, "next": request.GET.get("next", ""), **services.file_list_context(case)},
        status=status,
    )


@role_required(Role.PATIENT)
def files(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    return _files_page(request, case_for_user(request, case_id, owner_only=True))


@csrf_exempt  # checked by csrf_protect below, once our handler is in place (Django docs pattern)
@require_POST
@role_required(Role.PATIENT)
def upload(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    if not case.is_open:
        raise Http404
    handler = EncryptingUploadHandler(
        request, patient_key=patient_key_for(case.patient), limits=services.limits_for(case)
    )
    request.upload_handlers = [handler]  # before anything reads the body
    recorded: list[Upload] = []
    try:
        response = csrf_protect(_receive)(request, case, handler, recorded)
    except StopUpload:  # the request as a whole is over what the case can still take
        response = _answer(request, case, handler, recorded)
    finally:
        if not recorded:  # nothing was committed: remove what was stored
            handler.discard_received()
    return response


def _receive(
    request: AuthedRequest, case: Case, handler: EncryptingUploadHandler, recorded: list[Upload]
) -> HttpResponse:
    request.FILES.getlist("files")  # parse: the handler streams each file into storage
    recorded += services.upload_receive(
        actor=request.user, case=case, patient_key=handler.patient_key, received=handler.received
    )
    return _answer(request, case, handler, recorded)


@require_http_methods(["PUT"])  # CSRF: the middleware checks X-CSRFToken, and never reads a PUT body
@role_required(Role.PATIENT)
def upload_file(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """One file as the whole request body, for the upload widget: streamed from the socket through
    the encryptor into storage, with the limits of `upload` but without the multipart parser.
    The file name comes percent-encoded in X-File-Name (a name is never put in a URL)."""
    case = case_for_user(request, case_id, owner_only=True)
    if not case.is_open:
        raise Http404
    handler = EncryptingUploadHandler(
        request, patient_key=patient_key_for(case.patient), limits=services.limits_for(case)
    )
    recorded: list[Upload] = []
    try:
        handler.receive_body(
            request,
            name=unquote(request.headers.get("X-File-Name", "")),
            content_type=request.content_type or "",
            content_length=_content_length(request),
        )
        recorded += services.upload_receive(
            actor=request.user, case=case, patient_key=handler.patient_key, received=handler.received
        )
    except StopUpload:
        pass
    finally:
        if not recorded:
            handler.discard_received()
    return _answer(request, case, handler, recorded, json=True)


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _answer(
    request: AuthedRequest, case: Case, handler: EncryptingUploadHandler, recorded: list[Upload], *, json: bool = False
) -> HttpResponse:
    problems = [_problem_text(p) for p in handler.problems]
    status = 413 if any(p.code in ("too_large", "case_quota") for p in handler.problems) else 200
    if json or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "files": [
                    {
                        "id": str(u.pk),
                        "name": u.original_name,
                        "status": u.status,
                        "status_url": reverse("uploads:status", args=[case.pk]),
                    }
                    for u in recorded
                ],
                "problems": problems,
            },
            status=status,
        )
    for problem in problems:
        messages.error(request, problem)
    if recorded:
        messages.success(
            request,
            ngettext(
                "%(n)d file received. We are checking it now.",
                "%(n)d files received. We are checking them now.",
                len(recorded),
            )
            % {"n": len(recorded)},
        )
    if status == 413:
        return _files_page(request, case, status=413)
    return redirect(_back(request, case))


@role_required(Role.PATIENT)
def status(request: AuthedRequest, case_id: uuid.UUID) -> JsonResponse:
    """Live status for the upload page's script (the page itself refreshes without it)."""
    case = case_for_user(request, case_id, owner_only=True)
    return JsonResponse(
        {
            "files": [
                {
                    "id": str(u.pk),
                    "name": u.original_name,
                    "status": u.status,
                    "status_label": u.status_label,
                    "reason": str(services.REJECTIONS.get(u.reject_code, ("", ""))[0]) if u.reject_code else "",
                }
                for u in services.file_list_context(case)["uploads"]
            ]
        }
    )


def _stream(request: HttpRequest, upload: Upload, *, thumbnail: bool) -> StreamingHttpResponse:
    if (
        upload.status != UploadStatus.ACCEPTED
        or (thumbnail and not upload.thumb_wrapped_key)
        or upload.kind == "archive"
    ):
        raise Http404
    audit.record(
        request=request,
        event_type="upload.download",
        action=audit.Action.READ,
        entity_type="Upload",
        entity_id=str(upload.pk),
        case_id=upload.case_id,
        patient_id=upload.case.patient_id,
        detail={"thumbnail": thumbnail},
    )
    response = StreamingHttpResponse(
        services.open_object(upload, thumbnail=thumbnail), content_type="image/jpeg" if thumbnail else upload.mime
    )
    name = upload.original_name
    if thumbnail or upload.mime == "image/jpeg":
        name = services.kept_name(name, "image/jpeg")  # a HEIC photo is kept as JPEG
    attachment(response, name)
    if not thumbnail:
        response["Content-Length"] = str(upload.stored_size)
    return response


@login_required
def download(request: HttpRequest, upload_id: uuid.UUID) -> StreamingHttpResponse:
    return _stream(request, upload_for_user(request, upload_id), thumbnail=False)


@require_POST
@role_required(Role.PATIENT)
def remove(request: AuthedRequest, upload_id: uuid.UUID) -> HttpResponse:
    """The patient takes back a file they sent (uploads.services.upload_remove says when)."""
    upload = upload_for_user(request, upload_id)
    if upload.case.patient_id != request.user.pk:
        raise Http404
    try:
        services.upload_remove(actor=request.user, upload=upload)
    except services.NotRemovable as e:
        messages.error(request, str(e.reason))
    else:
        messages.success(request, _("“%(name)s” was removed.") % {"name": upload.original_name})
    return redirect(_back(request, upload.case))


@login_required
def thumbnail(request: HttpRequest, upload_id: uuid.UUID) -> StreamingHttpResponse:
    return _stream(request, upload_for_user(request, upload_id), thumbnail=True)


@role_required(Role.PATIENT)
def backup(request: AuthedRequest, case_id: uuid.UUID) -> StreamingHttpResponse:
    """The patient's own copy of everything they sent."""
    case = case_for_user(request, case_id, owner_only=True)
    audit.record(
        request=request,
        event_type="upload.backup",
        action=audit.Action.READ,
        entity_type="Case",
        entity_id=str(case.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
    )
    return attachment(
        StreamingHttpResponse(services.backup_zip(case), content_type="application/zip"), f"{case.reference}.zip"
    )


@login_required
def image(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponseBase:
    """A kept photo (the sanitised copy), for the review pages' viewers."""
    upload = upload_for_user(request, upload_id)
    if not services.is_inline_image(upload):
        raise Http404
    response = StreamingHttpResponse(services.open_object(upload), content_type=upload.mime)
    response["Content-Length"] = str(upload.stored_size)
    return inline_image(response)


@login_required
def frame(request: HttpRequest, upload_id: uuid.UUID, index: int) -> HttpResponseBase:
    """One frame of a kept DICOM file, rendered on the server as a PNG."""
    upload = upload_for_user(request, upload_id)
    try:
        png = services.dicom_frame_png(upload, index)
    except services.FrameUnavailable:
        raise Http404 from None
    return inline_image(HttpResponse(png, content_type="image/png"))
