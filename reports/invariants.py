"""The reports' part of the storage check (secondopinion/invariants.py runs it): every rendered
report PDF is stored and no render is stuck or failed."""

from __future__ import annotations

import uuid

from core.invariants import Findings, Store
from reports.models import RenderStatus, SignedDocument

PREFIXES = ("reports/",)


def object_id(name: str, prefix: str) -> str | None:
    try:
        return str(uuid.UUID(name[len(prefix) :].removesuffix(".pdf")))
    except ValueError:
        return None


def check(store: Store, found: Findings) -> set[str]:
    """Adds the signed documents' findings; returns the ids of every document row."""
    document_ids: set[str] = set()
    pending, failed, pdf_missing, destroyed = [], [], [], []
    documents = SignedDocument.objects.values_list("id", "render_status", "signed_at", "patient_key__destroyed_at")
    for pk, render_status, signed_at, key_destroyed in documents.iterator(2000):
        did = str(pk)
        document_ids.add(did)
        if signed_at > store.now:
            continue
        if key_destroyed is not None:
            destroyed.append(did)
        elif render_status == RenderStatus.PENDING and signed_at < store.cutoff:
            pending.append(did)
        elif render_status == RenderStatus.FAILED:
            failed.append(did)
        elif render_status == RenderStatus.READY and f"reports/{did}.pdf" not in store.objects["reports/"]:
            pdf_missing.append(did)
    found.rows["documents"] = len(document_ids)
    found.add("render_not_final", pending)
    found.add("render_failed", failed)
    found.add("pdf_missing", pdf_missing)
    found.add("key_destroyed", destroyed)
    return document_ids
