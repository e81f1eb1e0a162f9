"""Cases with stored files and a rendered report, certificates, and a copy of the bucket."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from cases.models import Case, Message, Status
from core import signing, storage
from lifecycle.certificates import PURPOSE, canonical
from lifecycle.models import DeletionCertificate, DeletionRequest, DeletionStatus
from reports.models import RenderStatus, SignedDocument
from tests.factories import accepted_upload
from tests.reports.signed import case_in_review, signed_document
from uploads.services import store_bytes

MATRIX_CERTIFICATE_ID = uuid.UUID("5e1f0c3a-8d2b-4c6e-9f1a-2b3c4d5e6f70")


def rendered(document: SignedDocument) -> SignedDocument:
    """Mark a signed document rendered, with a small placeholder PDF stored encrypted."""
    data = b"%PDF-1.7 placeholder " + document.pk.bytes
    assert document.patient_key is not None
    document.pdf_wrapped_key = store_bytes(document.patient_key, document.id, "report", document.pdf_name, data)
    document.pdf_size, document.pdf_sha256 = len(data), hashlib.sha256(data).hexdigest()
    document.render_status, document.rendered_at = RenderStatus.READY, timezone.now()
    document.save(update_fields=["pdf_wrapped_key", "pdf_size", "pdf_sha256", "render_status", "rendered_at"])
    return document


def full_case(
    patient: User, *, status: str = Status.CLOSED, closed_at: datetime | None = None, country: str = "ES"
) -> Case:
    """A case with a photo, a signed and rendered report and a message, then closed (or left open)."""
    case = case_in_review(patient=patient, country=country)
    rendered(signed_document(case, photos=1, measurements=False))
    accepted_upload(case)
    Message.objects.create(case=case, author=patient, body="Private words")
    if status != Status.IN_REVIEW:
        Case.objects.filter(pk=case.pk).update(status=status, closed_at=closed_at or timezone.now())
    case.refresh_from_db()
    return case


def object_names(case: Case) -> list[str]:
    names = []
    for upload in case.uploads.all():
        names += [upload.stored_name] + ([upload.thumb_name] if upload.thumb_wrapped_key else [])
    names += [d.pdf_name for d in SignedDocument.objects.filter(report__case=case)]
    return names


def bucket_copy(names: list[str]) -> dict[str, bytes]:
    """What a backup of the bucket holds: the ciphertext of each object, downloaded with boto3."""
    client, bucket = storage._s3()
    return {name: client.get_object(Bucket=bucket, Key=name)["Body"].read() for name in names}


def matrix_certificate(patient: User) -> DeletionCertificate:
    """A done erasure with a certificate (fixed id) for a patient who kept the account."""
    content: dict[str, Any] = {
        "format": "secondopinion/deletion-certificate/1",
        "certificate_id": str(MATRIX_CERTIFICATE_ID),
        "kind": "erasure",
        "issued_at": "2025-01-01T00:00:00+00:00",
        "patient_ref": str(patient.pk),
        "requested_at": None,
        "approved_by": "policy",
        "cases": [],
        "keys_destroyed": [],
        "completed_at": "2025-01-01T00:00:00+00:00",
        "key_id": signing.key_id(),
    }
    data = canonical(content)
    certificate = DeletionCertificate.objects.create(
        id=MATRIX_CERTIFICATE_ID,
        kind="erasure",
        patient_ref=patient.pk,
        content=data.decode(),
        signature=signing.sign(PURPOSE, data),
        key_id=signing.key_id(),
    )
    DeletionRequest.objects.create(
        patient=patient,
        patient_ref=patient.pk,
        keep_account=True,
        status=DeletionStatus.DONE,
        certificate=certificate,
        completed_at=timezone.now(),
    )
    return certificate
