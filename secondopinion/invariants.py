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
Each app checks its own rows (uploads/invariants.py, reports/invariants.py); this module, at the
top, lists the store once, runs them, finds the orphans and owns the report.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

import audit
from accounts.emails import email_admins, email_kind
from accounts.models import User
from core import storage
from core.invariants import Findings, Store
from lifecycle import invariants as lifecycle_invariants
from reports import invariants as reports_invariants
from uploads import invariants as uploads_invariants

log = logging.getLogger(__name__)

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
    "erasure_not_done": gettext_noop("approved erasure requests not carried out"),
}
LAST_RUN = "integrity-check:last"  # cache key: the daily check's summary, for /healthz/detail
REPAIRABLE = ("raw_left", "orphan")


# Each app's part: its prefixes in the store, how an object name maps to a row id, the check.
PARTS = (uploads_invariants, reports_invariants)


def check(*, grace: timedelta = DEFAULT_GRACE) -> Findings:
    # The listing comes first: a row created after it started may have objects the listing
    # missed, so rows newer than `now` are left for the next run.
    now = timezone.now()
    store = Store(objects={prefix: {} for part in PARTS for prefix in part.PREFIXES}, now=now, cutoff=now - grace)
    found = Findings()
    for prefix, objects in store.objects.items():
        for name, modified in storage.listing(prefix):
            objects[name] = modified
            found.objects += 1
    orphans = []
    for part in PARTS:
        known = part.check(store, found)
        for prefix in part.PREFIXES:
            for name, modified in store.objects[prefix].items():
                if part.object_id(name, prefix) not in known and modified < store.cutoff:
                    orphans.append(name)
    found.add("orphan", orphans)
    lifecycle_invariants.check(store, found)
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
    found = check()
    counts = {category: len(ids) for category, ids in found.items.items()}
    summary = {
        "at": timezone.now().isoformat(timespec="seconds"),
        "ok": found.ok,
        "objects": found.objects,
        "findings": counts,
    }
    cache.set(LAST_RUN, summary, timeout=3 * 86400)
    if not found.ok:
        with transaction.atomic():
            audit.record(
                event_type="storage.check.failed",
                action=audit.Action.EXECUTE,
                outcome=audit.Outcome.SERIOUS_FAILURE,
                detail={"findings": counts},
            )
            email_admins(name="integrity-check-failed", params={"counts": counts})
    return summary


@email_kind("integrity-check-failed")
def _integrity_email(user: User, params: dict[str, Any]) -> dict[str, Any]:
    return {"lines": [[CATEGORIES[category], n] for category, n in params["counts"].items()]}
