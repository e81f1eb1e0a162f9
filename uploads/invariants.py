"""The uploads' part of the storage check (secondopinion/invariants.py runs it): every accepted
file and thumbnail is stored, no upload is stuck, no raw upload is kept after validation."""

from __future__ import annotations

import uuid

from core.invariants import Findings, Store
from uploads.models import Upload, UploadStatus

PREFIXES = ("raw/", "files/", "thumbs/")


def object_id(name: str, prefix: str) -> str | None:
    try:
        return str(uuid.UUID(name[len(prefix) :]))
    except ValueError:
        return None


def check(store: Store, found: Findings) -> set[str]:
    """Adds the uploads' findings; returns the ids of every upload row (objects under PREFIXES
    with another id are orphans)."""
    stored = store.objects
    upload_ids: set[str] = set()
    rows = Upload.objects.values_list(
        "id",
        "status",
        "created_at",
        "processed_at",
        "stored_wrapped_key",
        "thumb_wrapped_key",
        "patient_key__destroyed_at",
    )
    not_final, file_missing, thumb_missing, raw_left, destroyed = [], [], [], [], []
    count = 0
    for pk, status, created_at, processed_at, stored_key, thumb_key, key_destroyed in rows.iterator(2000):
        uid = str(pk)
        upload_ids.add(uid)
        count += 1
        if created_at > store.now:
            continue
        if key_destroyed is not None:
            destroyed.append(uid)
            continue
        if status in (UploadStatus.RECEIVED, UploadStatus.SCANNING):
            if created_at < store.cutoff:
                not_final.append(uid)
            continue
        if status == UploadStatus.ACCEPTED and stored_key is not None and f"files/{uid}" not in stored["files/"]:
            file_missing.append(uid)
        if status == UploadStatus.ACCEPTED and thumb_key is not None and f"thumbs/{uid}" not in stored["thumbs/"]:
            thumb_missing.append(uid)
        raw = f"raw/{uid}"
        if raw in stored["raw/"] and (processed_at is None or processed_at < store.cutoff):
            raw_left.append(raw)
    found.rows["uploads"] = count
    found.add("upload_not_final", not_final)
    found.add("file_missing", file_missing)
    found.add("thumbnail_missing", thumb_missing)
    found.add("raw_left", raw_left)
    found.add("key_destroyed", destroyed)
    return upload_ids
