"""The files of a case on cases' pages (see cases/panels.py); registered by UploadsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from cases.models import Case, RequestedSpecialty
from cases.panels import contributes_to
from uploads import services
from uploads.models import Kind, Upload, UploadStatus


@contributes_to("detail", "intake-files", "check")
def file_list(case: Case, user: Any) -> dict[str, Any]:
    return services.file_list_context(case)


@contributes_to("submitted")
def receipt(case: Case, user: Any) -> dict[str, Any]:
    return {"files": services.receipt_files(case)}


@contributes_to("intake-measurements")
def photo_choices(case: Case, user: Any) -> dict[str, Any]:
    """The case's accepted photos, which a measurement may point at."""
    photos = Upload.objects.filter(case=case, kind=Kind.IMAGE, status=UploadStatus.ACCEPTED)
    return {"photos": [(str(p.pk), p.original_name) for p in photos.order_by("created_at")]}


@contributes_to("check")
def missing_files(case: Case, user: Any) -> dict[str, Any]:
    """What a specialist of the requested specialty needs to see and the patient has not sent."""
    kinds = services.accepted_kinds(case)
    warnings = []
    if case.specialty == RequestedSpecialty.RADIOLOGY and "dicom" not in kinds:
        warnings.append(_("You have not added any imaging (DICOM). A radiologist needs the images themselves."))
    if case.specialty == RequestedSpecialty.DERMATOLOGY and "image" not in kinds:
        warnings.append(_("You have not added a photo. A dermatologist needs clear photos of the skin."))
    if case.specialty == RequestedSpecialty.ONCOLOGY and not kinds & {"pdf", "dicom"}:
        warnings.append(
            _("You have not added any report or imaging. An oncologist needs the pathology and imaging reports.")
        )
    return {"warnings": warnings}
