"""Exports of an audit search: CSV and a FHIR R4 Bundle of AuditEvent resources.

Both stream: the events are read in chunks and written out as they come.

CSV columns (fixed; a change here is a change of the documented format):
  id, at (UTC, ISO 8601), action (C/R/U/D/E), event_type, outcome (0/4/8/12), actor_id,
  actor_role, source_ip, entity_type, entity_id, case_id, case_reference, patient_id,
  detail (JSON of codes and ids), hash
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

import audit
from accounts.models import User
from audit.fhir import bundle_chunks
from audit.models import AuditEvent
from console.review import case_references

CSV_COLUMNS = [
    "id",
    "at",
    "action",
    "event_type",
    "outcome",
    "actor_id",
    "actor_role",
    "source_ip",
    "entity_type",
    "entity_id",
    "case_id",
    "case_reference",
    "patient_id",
    "detail",
    "hash",
]
CHUNK = 2000
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Line:
    """csv.writer writes into this; each row comes back as a string."""

    def write(self, value: str) -> str:
        return value


def _chunks(events: QuerySet[AuditEvent]) -> Iterator[list[AuditEvent]]:
    # Keyset pages (ids descend): a bounded number of rows in memory, and no long cursor.
    last_id = None
    while True:
        page = events.filter(id__lt=last_id) if last_id is not None else events
        rows = list(page.order_by("-id")[:CHUNK])
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for rows in _chunks(events):
        references = case_references({e.case_id for e in rows if e.case_id})
        for e in rows:
            yield writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        e.id,
                        e.at.astimezone(UTC).isoformat(timespec="microseconds"),
                        e.action,
                        e.event_type,
                        e.outcome,
                        e.actor_id,
                        e.actor_role,
                        e.source_ip,
                        e.entity_type,
                        e.entity_id,
                        e.case_id,
                        references.get(e.case_id, "") if e.case_id else "",
                        e.patient_id,
                        json.dumps(e.detail, sort_keys=True, separators=(",", ":")) if e.detail else "",
                        e.hash,
                    )
                ]
            )


def fhir_chunks(events: QuerySet[AuditEvent]) -> Iterator[bytes]:
    def every_event() -> Iterator[AuditEvent]:
        for rows in _chunks(events):
            yield from rows

    return bundle_chunks(every_event(), timestamp=timezone.now().isoformat(timespec="seconds"))


@transaction.atomic
def audit_export(*, actor: User, events: QuerySet[AuditEvent], fmt: str, filters: dict[str, str]) -> Any:
    """Audit the export (format, row count, filters as codes and ids), then hand back the stream.
    Events written after this one are not in the export: it ends at the current last id."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    events = events.filter(id__lte=last)
    audit.record(
        actor=actor,
        event_type="audit.export",
        action=audit.Action.EXECUTE,
        entity_type="AuditEvent",
        detail={"format": fmt, "rows": events.count(), "filters": filters},
    )
    return csv_lines(events) if fmt == "csv" else fhir_chunks(events)
