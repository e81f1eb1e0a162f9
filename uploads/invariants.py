"""Whether every stored file and report is where the database says, and nothing is left dangling.

`manage.py check_invariants` runs it (after a restore, after an outage, or from cron). Each
finding is a category with the ids it concerns (object ids are UUIDs: no patient data):

- work that never finished: uploads still received/checking, report PDFs still pending, renders
  that failed, older than `grace` (the sweeper normally finishes or fails them well before);
- rows without their object: an accepted file, thumbnail or rendered report PDF missing from
  the store;
- rows that cannot be read any more: a file or report under a destroyed patient key, left by an
  erasure or purge that stopped half-way;
- erasures approved but not carried out (the sweeper retries them);
- objects without a row: orphans under the prefixes the application writes (raw/, files/,
  thumbs/, reports/) and raw uploads left after validation finished. Both are ciphertext whose
  data key is gone with (or was cleared from) the row, so nobody can read them; `repair` deletes
  them.

One listing of the store and a few queries; memory grows with the number of objects (ids only).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

import audit
from core import storage
from uploads.models import Upload, UploadStatus

log = logging.getLogger(__name__)

PREFIXES = ("raw/", "files/", "thumbs/", "reports/")
DEFAULT_GRACE = timedelta(hours=2)  # past every retry of the sweeper (5 attempts x claim timeout)

# Category -> what it means, for the report. Order is the order of the report.
CATEGORIES = {
    "upload_not_final": gettext_noop("uploads still received or being checked"),
    "render_not_final": gettext_noop("signed reports whose PDF is still being prepared"),
    "render_failed": gettext_noop("signed reports whose PDF could not be rendered"),
    "file_missing": gettext_noop("accepted files whose stored copy is missing"),
    "thumbnail_missing": gettext_noop("accepted files whose thumbnail is missing"),
    "pdf_missing": gettext_noop("rendered reports whose PDF is missing"),
    "key_destroyed": gettext_noop("files or reports left under a destroyed patient key"),
    "raw_left": gettext_noop("raw uploads kept after validation finished (unreadable)"),
    "orphan": gettext_noop("stored objects no row refers to (unreadable)"),
}  # then the categories contributed from above (contribute()), in the order they register
LAST_RUN = "integrity-check:last"  # cache key: the daily check's summary, for /healthz/detail
REPAIRABLE = ("raw_left", "orphan")

ContributedCheck = Callable[[datetime], Iterable[str]]  # the cutoff -> the ids found
CONTRIBUTED: list[tuple[str, ContributedCheck]] = []


def contribute(category: str, meaning: str) -> Callable[[ContributedCheck], ContributedCheck]:
    """For an app above uploads, from its AppConfig.ready(): add one category to the check
    (the erasures not carried out, say), so that uploads imports no higher app."""
    def register(check: ContributedCheck) -> ContributedCheck:
        CATEGORIES[category] = meaning
        CONTRIBUTED.append((category, check))
        return check
    return register


@dataclass
class Findings:
    items: dict[str, list[str]] = field(default_factory=dict)
    objects: int = 0
    uploads: int = 0
    documents: int = 0

    def add(self, category: str, ids: Iterable[str]) -> None:
        ids = sorted(ids)
        if ids:
            self.items.setdefault(category, []).extend(ids)

    @property
    def ok(self) -> bool:
        return not self.items


def _object_id(name: str, prefix: str) -> str | None:
    rest = name[len(prefix):]
    if prefix == "reports/":
        rest = rest.removesuffix(".pdf")
    try:
        return str(uuid.UUID(rest))
    except ValueError:
        return None


def check(*, grace: timedelta = DEFAULT_GRACE) -> Findings:
    from reports.models import RenderStatus, SignedDocument

    now = timezone.now()
    cutoff = now - grace
    found = Findings()
    # The listing comes first: a row created after it started may have objects the listing
    # missed, so rows newer than `now` are left for the next run.
    stored: dict[str, dict[str, datetime]] = {prefix: {} for prefix in PREFIXES}
    for prefix in PREFIXES:
        for name, modified in storage.listing(prefix):
            stored[prefix][name] = modified
            found.objects += 1

    upload_ids: set[str] = set()
    rows = Upload.objects.values_list("id", "status", "created_at", "processed_at", "stored_wrapped_key",
                                      "thumb_wrapped_key", "patient_key__destroyed_at")
    not_final, file_missing, thumb_missing, raw_left, destroyed = [], [], [], [], []
    for pk, status, created_at, processed_at, stored_key, thumb_key, key_destroyed in rows.iterator(2000):
        uid = str(pk)
        upload_ids.add(uid)
        found.uploads += 1
        if created_at > now:
            continue
        if key_destroyed is not None:
            destroyed.append(uid)
            continue
        if status in (UploadStatus.RECEIVED, UploadStatus.SCANNING):
            if created_at < cutoff:
                not_final.append(uid)
            continue
        if status == UploadStatus.ACCEPTED and stored_key is not None and f"files/{uid}" not in stored["files/"]:
            file_missing.append(uid)
        if status == UploadStatus.ACCEPTED and thumb_key is not None and f"thumbs/{uid}" not in stored["thumbs/"]:
            thumb_missing.append(uid)
        raw = f"raw/{uid}"
        if raw in stored["raw/"] and (processed_at is None or processed_at < cutoff):
            raw_left.append(raw)
    found.add("upload_not_final", not_final)
    found.add("file_missing", file_missing)
    found.add("thumbnail_missing", thumb_missing)
    found.add("raw_left", raw_left)

    document_ids: set[str] = set()
    pending, failed, pdf_missing = [], [], []
    documents = SignedDocument.objects.values_list("id", "render_status", "signed_at", "patient_key__destroyed_at")
    for pk, render_status, signed_at, key_destroyed in documents.iterator(2000):
        did = str(pk)
        document_ids.add(did)
        found.documents += 1
        if signed_at > now:
            continue
        if key_destroyed is not None:
            destroyed.append(did)
        elif render_status == RenderStatus.PENDING and signed_at < cutoff:
            pending.append(did)
        elif render_status == RenderStatus.FAILED:
            failed.append(did)
        elif render_status == RenderStatus.READY and f"reports/{did}.pdf" not in stored["reports/"]:
            pdf_missing.append(did)
    found.add("render_not_final", pending)
    found.add("render_failed", failed)
    found.add("pdf_missing", pdf_missing)
    found.add("key_destroyed", destroyed)

    orphans = []
    for prefix, objects in stored.items():
        known = document_ids if prefix == "reports/" else upload_ids
        for name, modified in objects.items():
            if _object_id(name, prefix) not in known and modified < cutoff:
                orphans.append(name)
    found.add("orphan", orphans)

    for category, contributed in CONTRIBUTED:
        found.add(category, contributed(cutoff))
    return found


class RepairRefused(Exception):
    """Too many orphans: more likely the wrong database or bucket than lost rows."""


def repair(found: Findings, *, force: bool = False) -> int:
    """Delete what nobody can read any more: orphans and raw uploads left after validation.
    Returns how many objects were deleted. Refuses (unless `force`) when more than a tenth of the
    objects (and over 100) would go: a database restored without its bucket, or pointed at
    another clinic's bucket, makes everything look orphaned."""
    names = [name for category in REPAIRABLE for name in found.items.get(category, [])]
    doomed = len(names)
    if not force and doomed > max(100, found.objects // 10):
        raise RepairRefused(f"{doomed} of {found.objects} objects would be deleted")
    for name in names:
        storage.delete(name)
    if names:
        log.info("deleted unreadable objects", extra={"count": doomed})
    return doomed


def check_and_report() -> dict[str, Any]:
    """The daily check (beat): keep a summary for /healthz/detail; when anything is found, audit
    it and e-mail the active administrators the counts (ids stay in `check_invariants`)."""
    from accounts.emails import email_user
    from accounts.models import Role, User

    found = check()
    counts = {category: len(ids) for category, ids in found.items.items()}
    summary = {"at": timezone.now().isoformat(timespec="seconds"), "ok": found.ok, "objects": found.objects,
               "findings": counts}
    cache.set(LAST_RUN, summary, timeout=3 * 86400)
    if not found.ok:
        with transaction.atomic():
            audit.record(event_type="storage.check.failed", action=audit.Action.EXECUTE,
                         outcome=audit.Outcome.SERIOUS_FAILURE, detail={"findings": counts})
            for admin in User.objects.filter(role=Role.ADMIN, is_active=True):
                email_user(user=admin, name="integrity-check-failed", params={"counts": counts})
    return summary
