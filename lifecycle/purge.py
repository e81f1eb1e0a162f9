"""The one purge engine behind retention and erasure: destroy a case's stored objects, then its
rows, and leave an audit event that lists what was destroyed (ids and SHA-256s only).

Each "case.purge" event carries the case's manifest and the id of the run it belongs to, written
in the same transaction that deletes the rows. A certificate is built from those events, so a
run that crashed half-way and is started again still lists every case it destroyed.

Storage deletes run outside any database transaction; a missing object is fine, so a re-run
after a crash deletes what is left and reaches the same end state.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from django.db import transaction
from django.utils import timezone

import audit
from accounts.models import PatientKey
from audit.models import AuditEvent
from cases.models import Case, Status
from core import storage
from reports.models import SignedDocument
from uploads.models import Upload

PURGE_EVENT = "case.purge"


class CaseOnHold(Exception):
    """A legal hold stops the purge of this case."""

    def __init__(self, case: Case) -> None:
        super().__init__(case.pk)
        self.case = case


def case_manifest(case: Case) -> dict[str, Any]:
    """What a purge of `case` destroys: its reference, every upload (DICOM members included)
    and every signed report document, by id and SHA-256."""
    uploads = Upload.objects.filter(case=case).order_by("created_at", "id")
    documents = SignedDocument.objects.filter(report__case=case).order_by("signed_at", "id")
    return {
        "reference": case.reference,
        "files": [{"id": str(u.pk), "sha256": u.sha256, "kind": u.kind, "size": u.size} for u in uploads],
        "reports": [{"id": str(d.pk), "sha256": d.pdf_sha256} for d in documents],
    }


def _object_names(case: Case) -> list[str]:
    names: list[str] = []
    for upload in Upload.objects.filter(case=case).only("id"):
        names += [upload.raw_name, upload.stored_name, upload.thumb_name]
    names += [d.pdf_name for d in SignedDocument.objects.filter(report__case=case).only("id")]
    return names


def patient_keys_destroy(*, patient_id: uuid.UUID, run: uuid.UUID | str, reason: str) -> list[str]:
    """Crypto-shredding: destroy every live key of the patient; the ids of those destroyed now."""
    destroyed = []
    with transaction.atomic():
        for key in PatientKey.objects.select_for_update().live().filter(patient_id=patient_id):
            key.destroy()
            destroyed.append(str(key.pk))
        if destroyed:
            audit.record(
                event_type="patient_key.destroy",
                action=audit.Action.DELETE,
                entity_type="PatientKey",
                patient_id=patient_id,
                detail={"run": str(run), "reason": reason, "keys": destroyed},
            )
    return destroyed


def case_purge(
    *, case_id: uuid.UUID | str, run: uuid.UUID | str, reason: str, actor: Any = None
) -> dict[str, Any] | None:
    """Destroy one case: its objects in storage, then its rows (the cascade takes questions,
    timeline, measurements, messages, uploads, reports, consents and events). Returns the
    manifest, or None when the case is already gone. Raises CaseOnHold under a legal hold."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return None
    if case.on_legal_hold:
        raise CaseOnHold(case)
    manifest = case_manifest(case)
    for name in _object_names(case):  # slow: outside the transaction
        storage.delete(name)
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            return None
        if case.on_legal_hold:  # placed while the objects were being deleted: keep the rows
            raise CaseOnHold(case)
        manifest = case_manifest(case)  # rows created meanwhile (their objects go next run)
        Case.objects.filter(pk=case.pk).delete()
        audit.record(
            actor=actor,
            event_type=PURGE_EVENT,
            action=audit.Action.DELETE,
            entity_type="Case",
            entity_id=str(case.pk),
            case_id=case.pk,
            patient_id=case.patient_id,
            detail={"run": str(run), "reason": reason, **manifest},
        )
    return manifest


def run_manifests(run: uuid.UUID | str) -> list[dict[str, Any]]:
    """The manifests of every case a run purged, from its audit events (crash-safe)."""
    events = AuditEvent.objects.filter(event_type=PURGE_EVENT, detail__run=str(run)).order_by("id")
    return [
        {
            "reference": e.detail.get("reference", ""),
            "files": e.detail.get("files", []),
            "reports": e.detail.get("reports", []),
        }
        for e in events
    ]


def destroyed_keys(patient_id: uuid.UUID) -> list[dict[str, Any]]:
    keys = PatientKey.objects.filter(patient_id=patient_id, destroyed_at__isnull=False).order_by("destroyed_at")
    return [{"id": str(k.pk), "kek_id": k.kek_id, "destroyed_at": iso(k.destroyed_at)} for k in keys]


def iso(value: Any) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def draft_delete(*, actor: Any, case: Case) -> bool:
    """The patient deletes a draft they will not send: its files and rows, as a purge does (and
    recorded as one). False when the case is no longer a draft (sent meanwhile, from another tab)."""
    # Out of "draft" first, in one conditional UPDATE: a submit racing in another tab finds it
    # gone, or this finds it submitted and deletes nothing.
    if not Case.objects.filter(pk=case.pk, status=Status.DRAFT).update(
        status=Status.WITHDRAWN, closed_at=timezone.now()
    ):
        return False
    case_purge(case_id=case.pk, run=uuid.uuid4(), reason="draft_deleted", actor=actor)
    return True
