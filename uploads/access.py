"""The one way views reach an upload: through its case's access rule, audited."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest

import audit
from cases.access import can_read_case
from uploads.models import Upload


def upload_for_user(request: HttpRequest, upload_id: uuid.UUID | str) -> Upload:
    upload = Upload.objects.select_related("case", "patient_key").filter(pk=upload_id).first()
    if upload is None or not can_read_case(request.user, upload.case):
        audit.record(
            request=request,
            event_type="upload.read.denied",
            action=audit.Action.READ,
            outcome=audit.Outcome.MINOR_FAILURE,
            entity_type="Upload",
            entity_id=str(upload_id),
            case_id=upload.case_id if upload else None,
            patient_id=upload.case.patient_id if upload else None,
        )
        raise Http404
    audit.record(
        request=request,
        event_type="upload.read",
        action=audit.Action.READ,
        entity_type="Upload",
        entity_id=str(upload.pk),
        case_id=upload.case_id,
        patient_id=upload.case.patient_id,
    )
    return upload
