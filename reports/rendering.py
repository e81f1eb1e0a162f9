"""Signed documents to PDF: the frozen snapshot (SignedDocument.content) and the key photos it
names, rendered with WeasyPrint in the document's language, encrypted like any stored file.

WeasyPrint fetches nothing but our own assets (core/pdf.py, SECURITY.md row 19). Every text of the snapshot goes through Django's
autoescaping, so markup in a field is printed as text and never becomes an element.

The work runs in a worker (reports.tasks.render_document_task): claim by a conditional UPDATE,
render in memory (no plaintext PDF ever touches disk), store, then record in a short
transaction. A re-run overwrites the same object name; a ready document is left alone."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst
from weasyprint.urls import URLFetcher

import audit
from accounts.models import Sex, Specialty
from cases.models import RequestedSpecialty
from core import storage
from core.claims import Claims
from core.crypto import decrypt_stream
from core.pdf import ASSETS_URL, data_uri, html_to_pdf
from reports.charts import Point, trend_svg
from reports.models import (
    AddendumKind,
    Certainty,
    DiagnosisAgreement,
    InPerson,
    RenderStatus,
    Report,
    SignedDocument,
    TreatmentAgreement,
)
from reports.snapshot import REPORT_FIELDS, choice_label
from uploads.keys import unwrap_data_key
from uploads.models import Kind, Upload, UploadStatus
from uploads.services import open_object, store_bytes

log = logging.getLogger(__name__)

PDF_PURPOSE = "report"
CLAIM_TIMEOUT = timedelta(seconds=settings.WORK_CLAIM_TIMEOUT)  # a claimed document not rendered by then is taken again
LOST_AFTER = timedelta(seconds=settings.WORK_LOST_AFTER)  # pending and unclaimed this long: its message was lost
MAX_ATTEMPTS = 5
MAX_PHOTO_BYTES = 2 * 1024 * 1024  # a thumbnail is far smaller; never pull a whole file into a PDF


# --- What the template shows -------------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def specialty_labels(codes: list[str]) -> list[str]:
    labels = dict(Specialty.choices) | dict(RequestedSpecialty.choices)
    return [str(labels.get(code, code)) for code in codes]


def _jurisdictions(codes: list[str]) -> list[str]:
    from django_countries import countries

    return [countries.name(code) or code for code in codes]


def _person(person: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": person.get("name", ""),
        "specialties": specialty_labels(person.get("specialties", [])),
        "licence": person.get("licence", ""),
        "jurisdictions": _jurisdictions(person.get("jurisdictions", [])),
    }


def _measurements(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Table rows in the unit the patient used, and the trend chart (a data: URI, or "")."""
    table, points = [], []
    for row in rows:
        try:
            value_mm = Decimal(row["value_mm"])
            on = date.fromisoformat(row["measured_on"])
        except (KeyError, ValueError, InvalidOperation):
            continue
        shown = value_mm / 10 if row.get("unit") == "cm" else value_mm
        table.append(
            {
                "site": row.get("site", ""),
                "on": on,
                "value": f"{shown.normalize():f}",
                "unit": "cm" if row.get("unit") == "cm" else "mm",
            }
        )
        points.append(Point(site=str(row.get("site", "")), on=on, value_mm=value_mm))
    svg = trend_svg(points, y_label="mm") if len({p.on for p in points}) > 1 else ""
    return table, data_uri("image/svg+xml", svg.encode("utf-8")) if svg else ""


def _photos(content: dict[str, Any]) -> list[str]:
    """Thumbnails of the key photos named in the snapshot, as data: URIs. Only accepted photos of
    this case: anything else named there (another case's upload, a rejected file) is skipped."""

    wanted = []
    for value in content.get("key_photos", []):
        try:
            wanted.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not wanted:
        return []
    found = {
        u.pk: u
        for u in Upload.objects.select_related("patient_key").filter(
            pk__in=wanted,
            case__reference=content.get("case", {}).get("reference", ""),
            status=UploadStatus.ACCEPTED,
            kind=Kind.IMAGE,
            thumb_wrapped_key__isnull=False,
        )
    }
    photos = []
    for pk in wanted:
        upload = found.get(pk)
        if upload is None:
            continue
        data = bytearray()
        for chunk in open_object(upload, thumbnail=True):
            data += chunk
            if len(data) > MAX_PHOTO_BYTES:
                break
        if len(data) <= MAX_PHOTO_BYTES:
            photos.append(data_uri("image/jpeg", bytes(data)))
    return photos


def verification_url(code: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("reports:verify_code", args=[code])


def _qr(url: str) -> str:
    import segno

    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))


@dataclass(frozen=True)
class Signature:
    """What the PDF prints to let anyone check it: the hash of the signed content and the code."""

    content_sha256: str
    verification_code: str


def _context(
    content: dict[str, Any], *, draft: bool, signature: Signature | None, photos: list[bytes] | None
) -> dict[str, Any]:
    case = content.get("case", {})
    report = content.get("report", {})
    table, chart = _measurements(content.get("measurements", []))
    tz_name = content.get("time_zone") or "UTC"
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz_name = "UTC"
    fields = {
        name: capfirst(Report._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
        for name in REPORT_FIELDS
    }
    url = verification_url(signature.verification_code) if signature and not draft else ""
    return {
        "draft": draft,
        "labels": fields,
        "version": content.get("version"),
        "case": {
            "reference": case.get("reference", ""),
            "submitted_at": _when(case.get("submitted_at")),
            "specialty": choice_label(RequestedSpecialty.choices, case.get("specialty", "")),
            "patient_name": case.get("patient_name", ""),
            "patient_birth_date": date.fromisoformat(born) if (born := case.get("patient_birth_date")) else None,
            "patient_sex": choice_label(Sex.choices, case.get("patient_sex", "")),
            "patient_gender_identity": case.get("patient_gender_identity", ""),
            "first_opinion": case.get("first_opinion", {}),
        },
        "report": report,
        "diagnosis": choice_label(DiagnosisAgreement.choices, report.get("diagnosis_agreement", "")),
        "treatment": choice_label(TreatmentAgreement.choices, report.get("treatment_agreement", "")),
        "certainty": choice_label(Certainty.choices, report.get("certainty", "")),
        "in_person": choice_label(InPerson.choices, report.get("in_person", "")),
        "in_person_needed": report.get("in_person") in (InPerson.SOON, InPerson.URGENT),
        "answers": content.get("answers", []),
        "contributors": [
            {**_person(c), "note": c.get("note", ""), "noted_at": _when(c.get("noted_at"))}
            for c in content.get("contributors", [])
        ],
        "measurements": table,
        "chart": chart,
        "photos": _photos(content) if photos is None else [data_uri("image/jpeg", p) for p in photos],
        "addenda": [
            {
                "kind": choice_label(AddendumKind.choices, a.get("kind", "")),
                "body": a.get("body", ""),
                "signed_at": _when(a.get("signed_at")),
                "author": _person(a.get("author", {})),
                "follow_ups": a.get("follow_ups", []),
            }
            for a in content.get("addenda", [])
        ],
        "author": _person(content.get("author", {})),
        "signer": _person(content.get("signer", {})),
        "report_signed_at": _when(content.get("report_signed_at")),
        "signed_at": _when(content.get("signed_at")),
        "time_zone": tz_name,
        "show_local_time": tz_name != "UTC",
        "signature": signature if not draft else None,
        "verify_url": url,
        "qr": _qr(url) if url else "",
        "assets_url": ASSETS_URL,
    }


def render_html(
    content: dict[str, Any],
    *,
    language: str,
    draft: bool = False,
    signature: Signature | None = None,
    photos: list[bytes] | None = None,
) -> str:
    """The HTML the PDF is made from (for a preview, or to render). `draft` prints a watermark
    and no verification code; otherwise `signature` gives the content hash and the code.
    `photos` (JPEG thumbnails) replaces loading the key photos the snapshot names from storage."""
    with translation.override(language), timezone.override(ZoneInfo("UTC")):
        return render_to_string(
            "reports/pdf/report.html", _context(content, draft=draft, signature=signature, photos=photos)
        )


def render_pdf(
    content: dict[str, Any],
    *,
    language: str,
    draft: bool = False,
    signature: Signature | None = None,
    photos: list[bytes] | None = None,
    url_fetcher: URLFetcher | None = None,
) -> bytes:
    """The PDF, in memory (see render_html). `url_fetcher` is for tests that watch what is
    fetched; it defaults to (and should always be) an AssetFetcher."""
    html = render_html(content, language=language, draft=draft, signature=signature, photos=photos)
    return html_to_pdf(html, url_fetcher=url_fetcher)


def document_pdf(document: SignedDocument) -> bytes:
    """The PDF of a signed document, as the worker renders it."""
    return render_pdf(
        document.content,
        language=document.language,
        signature=Signature(document.content_sha256, document.verification_code),
    )


def open_document(document: SignedDocument) -> Iterator[bytes]:
    """Decrypt a rendered document's PDF chunk by chunk (for the download view)."""
    assert document.patient_key is not None and document.render_status == RenderStatus.READY
    key = unwrap_data_key(document.patient_key, document.id, PDF_PURPOSE, bytes(document.pdf_wrapped_key or b""))
    return decrypt_stream(key, document.id, PDF_PURPOSE, storage.read(document.pdf_name))


# --- The worker's side -------------------------------------------------------------------------

# Rendering work: a pending document waits until a worker claims it (core/claims.py).
WORK = Claims(
    model=SignedDocument,
    waiting=Q(render_status=RenderStatus.PENDING, render_claimed_at__isnull=True),
    held=Q(render_status=RenderStatus.PENDING, render_claimed_at__isnull=False),
    queued_at="signed_at",
    timeout=CLAIM_TIMEOUT,
    lost_after=LOST_AFTER,
    max_attempts=MAX_ATTEMPTS,
    claimed_at="render_claimed_at",
    attempts="render_attempts",
)


def _claim(document_id: uuid.UUID | str) -> SignedDocument | None:
    """Take the document for this worker: a conditional UPDATE, so two workers never both do it."""
    if not WORK.claim(document_id):
        return None
    return SignedDocument.objects.select_related("patient_key", "report__case").get(pk=document_id)


def document_render(*, document_id: uuid.UUID | str) -> None:
    """Render, encrypt and store a signed document's PDF. Safe to run twice or after a crash:
    a ready document is left alone, and a re-run overwrites the same object."""
    document = _claim(document_id)
    if document is None:
        return
    try:
        assert document.patient_key is not None
        pdf = document_pdf(document)  # slow work: outside any transaction
        wrapped = store_bytes(document.patient_key, document.id, PDF_PURPOSE, document.pdf_name, pdf)
    except Exception:
        # Let the retry (or the sweeper) take it again at once instead of after CLAIM_TIMEOUT.
        SignedDocument.objects.filter(
            pk=document.pk, render_status=RenderStatus.PENDING, render_claimed_at=document.render_claimed_at
        ).update(render_claimed_at=None)
        raise
    with transaction.atomic():
        # Only if the claim is still ours: a worker that took it over after CLAIM_TIMEOUT wins.
        done = SignedDocument.objects.filter(
            pk=document.pk,
            render_status=RenderStatus.PENDING,
            render_claimed_at=document.render_claimed_at,
        ).update(
            render_status=RenderStatus.READY,
            rendered_at=timezone.now(),
            pdf_wrapped_key=wrapped,
            pdf_size=len(pdf),
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        )
        if done:
            case = document.report.case
            audit.record(
                event_type="report_document.render",
                action=audit.Action.EXECUTE,
                entity_type="SignedDocument",
                entity_id=str(document.pk),
                case_id=case.pk,
                patient_id=case.patient_id,
                detail={"version": document.version, "size": len(pdf)},
            )


def document_render_failed(*, document_id: uuid.UUID | str) -> None:
    """After the last retry: mark it failed (staff see it; the sweeper leaves it alone)."""
    with transaction.atomic():
        document = (
            SignedDocument.objects.select_related("report__case")
            .filter(pk=document_id, render_status=RenderStatus.PENDING)
            .first()
        )
        if document is None:
            return
        SignedDocument.objects.filter(pk=document.pk, render_status=RenderStatus.PENDING).update(
            render_status=RenderStatus.FAILED, render_claimed_at=None
        )
        case = document.report.case
        audit.record(
            event_type="report_document.render.failed",
            action=audit.Action.EXECUTE,
            outcome=audit.Outcome.SERIOUS_FAILURE,
            entity_type="SignedDocument",
            entity_id=str(document.pk),
            case_id=case.pk,
            patient_id=case.patient_id,
            detail={"attempts": document.render_attempts},
        )
    log.warning("rendering signed document %s failed after %d attempts", document.pk, document.render_attempts)


def documents_sweep() -> dict[str, int]:
    """Recover lost work: re-queue documents whose task message was lost or whose worker died;
    fail those that used up their attempts."""
    from reports.tasks import render_document_task

    requeued = 0
    for pk in WORK.stuck():
        render_document_task.delay(str(pk))
        requeued += 1
    failed = 0
    for pk in WORK.exhausted():
        document_render_failed(document_id=pk)
        failed += 1
    return {"requeued": requeued, "failed": failed}
