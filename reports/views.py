from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from cases import services as case_services
from cases.access import case_for_user
from cases.forms import MessageForm
from cases.models import Case, MessageKind, Status
from reports import workspace as ws
from uploads import services as upload_services
from uploads.access import upload_for_user
from uploads.models import Upload, UploadStatus


@role_required(Role.SPECIALIST)
def workspace(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The review workspace of a case the specialist leads, was consulted on or reported on."""
    case = case_for_user(request, case_id)
    return render(request, "reports/workspace.html", ws.context(case, user=request.user))


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
    return render(request, "reports/photo.html", {
        "case": upload.case, "upload": upload, "zoom": zoom_key if zoom_key in ws.ZOOMS else "fit",
        "zooms": list(ws.ZOOMS), "size": size})


@role_required(Role.SPECIALIST)
def compare(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """Two photos of the case side by side, at the same width, with their dates."""
    case = case_for_user(request, case_id)
    photos = upload_services.review_files(case)["photos"]
    # Sent with both photos chosen; from a photo's page only the first ("?a=") comes pre-selected.
    form = ws.CompareForm(request.GET if "b" in request.GET else None, photos=photos,
                          initial={"a": request.GET.get("a")})
    pair = None
    if form.is_valid():
        by_id = {str(u.pk): u for u in photos}
        pair = [by_id[form.cleaned_data["a"]], by_id[form.cleaned_data["b"]]]
    return render(request, "reports/compare.html", {"case": case, "compare_form": form, "form": form,
                                                    "pair": pair, "photos": photos})


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
    return render(request, "reports/series.html", {
        "case": upload.case, "series": found, "first": found.first, "n": n, "total": len(images),
        "current": current, "index": index, "previous": n - 1 if n > 1 else None,
        "next": n + 1 if n < len(images) else None})


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
        messages.success(request, _("Request sent. The case now waits for the patient's answer.")
                         if kind == MessageKind.REQUEST else _("Message sent."))
    return redirect(reverse("reports:workspace", args=[case.pk]) + "#messages")


def _deliver(request: AuthedRequest, case: Case, kind: str, body: str) -> bool:
    """Send, or tell the user why it could not be sent."""
    not_in_review = _("A request for information can only be sent while the case is in review.")
    if kind == MessageKind.REQUEST and case.status != Status.IN_REVIEW:
        messages.error(request, not_in_review)
        return False
    try:
        case_services.message_send(request=request, case=case, author=request.user, body=body, kind=kind)
    except case_services.ThreadClosed:
        messages.error(request, _("This case is not open for messages."))
        return False
    except (case_services.InvalidTransition, case_services.ConcurrentTransition):
        messages.error(request, not_in_review)
        return False
    return True


@require_POST
@role_required(Role.SPECIALIST)
def message(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    return _send(request, case_id, MessageKind.MESSAGE)


@require_POST
@role_required(Role.SPECIALIST)
def request_information(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    return _send(request, case_id, MessageKind.REQUEST)
