"""A patient's data export (GDPR Art. 20 portability): everything of theirs as a ZIP, and their
health record as a FHIR R4 Bundle (lifecycle/fhir.py).

Both start from `ExportPlan.of(patient)`: the patient's own cases, their kept files and their
rendered report PDFs, each with its name in the ZIP. Nothing is ever looked up by anything but
`Case.patient`, so another patient's data cannot enter an export. Files and PDFs are decrypted
chunk by chunk into the streamed ZIP (uploads.services.zip_stream): no plaintext on disk.

answers.json (FORMAT 1) is documented in templates/lifecycle/export_readme.txt; keys are stable and
new keys are only ever added."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation

import audit
from accounts.models import User
from cases.models import Case
from reports.models import RenderStatus, Report, SignedDocument
from reports.rendering import open_document
from reports.snapshot import REPORT_FIELDS
from uploads.models import Upload
from uploads.services import kept_files, open_object, safe_name, unique_name, zip_stream

FORMAT = 1


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class ExportPlan:
    """What one patient's export holds: cases, kept files and rendered PDFs, with ZIP paths."""

    patient: User
    cases: list[Case]
    files: list[tuple[Upload, str]] = field(default_factory=list)
    documents: list[tuple[SignedDocument, str]] = field(default_factory=list)
    paths: dict[Any, str] = field(default_factory=dict)  # object id -> path in the ZIP

    @classmethod
    def of(cls, patient: User) -> ExportPlan:
        reports = Report.objects.signed().prefetch_related(
            "answers__question",
            "follow_ups",
            Prefetch("documents", queryset=SignedDocument.objects.select_related("patient_key").order_by("version")),
        )
        cases = list(
            Case.objects.filter(patient=patient)
            .order_by("created_at")
            .prefetch_related(
                "questions",
                "surgeries",
                "medications",
                "timeline",
                "measurements",
                "consents__version",
                "messages__author",
                "events",
                Prefetch("reports", queryset=reports),
            )
        )
        plan = cls(patient=patient, cases=cases)
        references = {case.pk: case.reference for case in cases}
        taken: set[str] = set()
        for upload in kept_files(cases):
            name = unique_name(safe_name(upload.original_name, upload.mime), taken)
            plan.files.append((upload, f"files/{references[upload.case_id]}/{name}"))
        for case in cases:
            for report in case.reports.all():
                for document in report.documents.all():
                    if document.render_status == RenderStatus.READY:
                        plan.documents.append((document, f"reports/{document_path(case, report, document)}"))
        plan.paths = {item.pk: path for item, path in [*plan.files, *plan.documents]}
        return plan

    def counts(self) -> dict[str, int]:
        return {"cases": len(self.cases), "files": len(self.files), "reports": len(self.documents)}

    def path_of(self, obj: Upload | SignedDocument) -> str | None:
        """Where `obj` is in the ZIP (None: not in it, e.g. a PDF still being rendered)."""
        return self.paths.get(obj.pk)


def document_path(case: Case, report: Report, document: SignedDocument) -> str:
    """SO-XXXX-XXXX-v2.pdf; a second specialist's report (round 2) says so."""
    round_part = f"-round{report.round}" if report.round > 1 else ""
    return f"{case.reference}{round_part}-v{document.version}.pdf"


# --- answers.json ---------------------------------------------------------------------------------


def _report(plan: ExportPlan, report: Report) -> dict[str, Any]:
    return {
        "round": report.round,
        "signed_at": _iso(report.signed_at),
        **{name: getattr(report, name) for name in REPORT_FIELDS},
        "answers": [{"question": a.question.text, "answer": a.text} for a in report.answers.all()],
        "follow_ups": [
            {"question": f.text, "asked_at": _iso(f.asked_at), "answer": f.answer} for f in report.follow_ups.all()
        ],
        "documents": [
            {
                "version": d.version,
                "signed_at": _iso(d.signed_at),
                "verification_code": d.verification_code,
                "pdf": plan.path_of(d),
                "pdf_sha256": d.pdf_sha256 or None,
                # "pending": still being rendered, not in this ZIP yet; "failed": ask us for it.
                "pdf_status": d.render_status,
            }
            for d in report.documents.all()
        ],
    }


def _case(plan: ExportPlan, case: Case) -> dict[str, Any]:
    files = [(u, path) for u, path in plan.files if u.case_id == case.pk]
    photo_paths = {str(u.pk): path for u, path in files}
    return {
        "reference": case.reference,
        "status": case.status,
        "created_at": _iso(case.created_at),
        "submitted_at": _iso(case.submitted_at),
        "due_at": _iso(case.due_at),
        "closed_at": _iso(case.closed_at),
        "round": case.round,
        "specialty": case.specialty,
        "country": str(case.country),
        "intake": {
            "red_flags": list(case.red_flags),
            "reason": case.reason,
            "expectations": case.expectations,
            "first_opinion": {
                "diagnosis": case.first_diagnosis,
                "treatment": case.first_treatment,
                "by": case.first_opinion_by,
                "year": case.first_opinion_year,
                "month": case.first_opinion_month,
            },
            "diagnoses": case.diagnoses,
            "allergies": case.allergies,
            "family_history": case.family_history,
        },
        "questions": [q.text for q in case.questions.all()],
        "surgeries": [
            {"what": s.what, "centre": s.centre, "year": s.year, "month": s.month, "day": s.day}
            for s in case.surgeries.all()
        ],
        "medications": [{"name": m.name, "dose": m.dose, "since": m.since} for m in case.medications.all()],
        "timeline": [
            {
                "year": t.year,
                "month": t.month,
                "day": t.day,
                "what": t.what,
                "symptoms": t.symptoms,
                "response": t.response,
            }
            for t in case.timeline.all()
        ],
        "measurements": [
            {
                "site": m.site,
                "value_mm": str(m.value_mm),
                "unit": m.unit,
                "method": m.method,
                "measured_on": _iso(m.measured_on),
                "photo": photo_paths.get(str(m.photo_id)) if m.photo_id else None,
            }
            for m in case.measurements.all()
        ],
        "consents": [
            {
                "version": c.version.version,
                "language": c.language,
                "text_sha256": c.text_sha256,
                "accepted_at": _iso(c.accepted_at),
                "withdrawn_at": _iso(c.withdrawn_at),
            }
            for c in case.consents.all()
        ],
        "messages": [
            {
                "from": "you" if m.author_id == case.patient_id else (m.author.role if m.author else ""),
                "kind": m.kind,
                "sent_at": _iso(m.sent_at),
                "body": m.body,
            }
            for m in case.messages.all()
        ],
        "status_history": [
            {"from": e.old_status, "to": e.new_status, "at": _iso(e.at), "reason": e.reason} for e in case.events.all()
        ],
        "files": [
            {
                "name": u.original_name,
                "path": path,
                "kind": u.kind,
                "mime": u.mime,
                "size": u.stored_size,
                "sha256_as_sent": u.sha256,
                "uploaded_at": _iso(u.created_at),
            }
            for u, path in files
        ],
        "reports": [_report(plan, r) for r in case.reports.all()],
    }


def answers_json(plan: ExportPlan) -> bytes:
    data = {
        "format": FORMAT,
        "exported_at": _iso(timezone.now()),
        "patient": {"name": plan.patient.full_name, "email": plan.patient.email, "language": plan.patient.language},
        "cases": [_case(plan, case) for case in plan.cases],
    }
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _readme(plan: ExportPlan) -> bytes:
    with translation.override(plan.patient.language):
        text = render_to_string("lifecycle/export_readme.txt", {"plan": plan, "counts": plan.counts()})
    return text.encode("utf-8")


def _bytes(data: bytes) -> Callable[[], Iterable[bytes]]:
    return lambda: [data]


def _members(plan: ExportPlan) -> Iterator[tuple[str, Callable[[], Iterable[bytes]]]]:
    yield "README.txt", _bytes(_readme(plan))
    yield "answers.json", _bytes(answers_json(plan))
    for upload, path in plan.files:
        yield path, functools.partial(open_object, upload)
    for document, path in plan.documents:
        yield path, functools.partial(open_document, document)


# --- Services ---------------------------------------------------------------------------------------


@transaction.atomic
def _audited_plan(patient: User, event_type: str) -> ExportPlan:
    """The plan, read in one transaction with its audit event (counts only, never names)."""
    plan = ExportPlan.of(patient)
    audit.record(
        actor=patient,
        event_type=event_type,
        action=audit.Action.READ,
        entity_type="User",
        entity_id=str(patient.pk),
        patient_id=patient.pk,
        detail=plan.counts(),
    )
    return plan


def patient_export_zip(*, patient: User) -> Iterator[bytes]:
    """The patient's own export (they are the actor) as a ZIP stream. Storage is read as the ZIP
    streams out, after the transaction."""
    return zip_stream(_members(_audited_plan(patient, "export.zip")))


def patient_export_fhir(*, patient: User) -> bytes:
    """The patient's own health record as a FHIR R4 Bundle (JSON). The report PDFs are
    read from storage after the transaction."""
    from lifecycle.fhir import bundle_json  # lifecycle.fhir imports this module

    return bundle_json(_audited_plan(patient, "export.fhir"))
