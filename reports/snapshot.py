"""What a signature covers: a frozen, JSON-serialisable snapshot of a report (with the case facts
it rests on and every signed addendum), and its canonical SHA-256.

The PDF is rendered from the snapshot alone (plus the key photos it names), so a signed report
reads the same however the case changes afterwards. Codes (certainty, agreement...) are stored
as codes; the renderer shows them in the document's language."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.conf import settings

from accounts.models import User
from cases.models import Measurement
from reports.models import Addendum, Report

FORMAT = 1
REPORT_FIELDS = (
    "summary",
    "findings",
    "diagnosis_agreement",
    "treatment_agreement",
    "agreement_comment",
    "certainty",
    "certainty_reason",
    "recommendations",
    "alternatives",
    "suggested_tests",
    "in_person",
    "in_person_reason",
    "limitations",
)


def choice_label(choices: Any, code: str) -> str:
    """The label of a TextChoices code in the active language (the code itself if unknown)."""
    return str(dict(choices).get(code, code)) if code else ""


def canonical_json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _person(user: User) -> dict[str, Any]:
    profile = getattr(user, "specialist_profile", None)
    return {
        "name": user.full_name,
        "specialties": list(profile.specialties) if profile else [],
        "licence": profile.licence_number if profile else "",
        "jurisdictions": list(profile.jurisdictions) if profile else [],
    }


def _addendum(addendum: Addendum) -> dict[str, Any]:
    assert addendum.signed_at is not None
    return {
        "kind": addendum.kind,
        "body": addendum.body,
        "signed_at": addendum.signed_at.isoformat(),
        "author": _person(addendum.author),
        "follow_ups": [
            {"question": f.text, "answer": f.answer} for f in addendum.follow_ups.order_by("asked_at", "id")
        ],
    }


def build(report: Report, *, version: int, signer: User, signed_at: datetime) -> dict[str, Any]:
    """The snapshot of `report` as signed now by `signer` (the report's author), with its
    signed addenda. For an unsigned draft (the preview) the signing times are those given."""
    case = report.case
    return {
        "format": FORMAT,
        "version": version,
        "round": report.round,
        "time_zone": case.patient.time_zone or settings.TIME_ZONE,  # the PDF adds local times in it
        "case": {
            "reference": case.reference,
            "specialty": case.specialty,
            "country": str(case.country),
            "patient_name": case.patient.full_name,
            "patient_birth_date": case.patient.birth_date.isoformat() if case.patient.birth_date else None,
            "patient_sex": case.patient.sex,
            "patient_gender_identity": case.patient.gender_identity,
            "submitted_at": case.submitted_at.isoformat() if case.submitted_at else None,
            "first_opinion": {
                "diagnosis": case.first_diagnosis,
                "treatment": case.first_treatment,
                "by": case.first_opinion_by,
                "month": case.first_opinion_month,
                "year": case.first_opinion_year,
            },
        },
        "report": {name: getattr(report, name) for name in REPORT_FIELDS},
        "answers": [
            {"question": a.question.text, "answer": a.text}
            for a in report.answers.select_related("question").order_by("question__position", "question_id")
        ],
        "contributors": [
            {**_person(c.colleague), "note": c.note, "noted_at": c.noted_at.isoformat() if c.noted_at else None}
            for c in case.consultations.filter(round=report.round, noted_at__isnull=False).select_related(
                "colleague__specialist_profile"
            )
        ],
        "measurements": [
            {"site": m.site, "measured_on": m.measured_on.isoformat(), "value_mm": str(m.value_mm), "unit": m.unit}
            for m in Measurement.objects.filter(case=case)
        ],
        "key_photos": [str(pk) for pk in report.key_photos],
        "author": _person(report.author),
        "report_signed_at": (report.signed_at or signed_at).isoformat(),
        "signer": _person(signer),
        "signed_at": signed_at.isoformat(),
        "addenda": [
            _addendum(a)
            for a in report.addenda.filter(signed_at__isnull=False)
            .select_related("author__specialist_profile")
            .order_by("signed_at", "id")
        ],
    }


def sections(content: dict[str, Any]) -> list[dict[str, str]]:
    """The report's sections in reading order, codes turned into labels in the active language:
    what the case page, the preview and the side-by-side comparison show."""
    from django.utils.translation import gettext as _

    from reports.models import Certainty, DiagnosisAgreement, InPerson, TreatmentAgreement

    r = content["report"]
    agreement = "\n".join(
        part
        for part in [
            _("Diagnosis: %(label)s") % {"label": choice_label(DiagnosisAgreement.choices, r["diagnosis_agreement"])}
            if r["diagnosis_agreement"]
            else "",
            _("Treatment: %(label)s") % {"label": choice_label(TreatmentAgreement.choices, r["treatment_agreement"])}
            if r["treatment_agreement"]
            else "",
            r["agreement_comment"],
        ]
        if part
    )
    rows = [
        ("summary", _("Summary"), r["summary"]),
        ("findings", _("Findings"), r["findings"]),
        ("agreement", _("Agreement with the first opinion"), agreement),
        (
            "certainty",
            _("Level of certainty"),
            "\n".join(p for p in [choice_label(Certainty.choices, r["certainty"]), r["certainty_reason"]] if p),
        ),
        ("recommendations", _("Recommendations"), r["recommendations"]),
        ("alternatives", _("Alternatives, with their risks and benefits"), r["alternatives"]),
        ("suggested_tests", _("Suggested tests"), r["suggested_tests"]),
        (
            "in_person",
            _("In-person evaluation"),
            "\n".join(p for p in [choice_label(InPerson.choices, r["in_person"]), r["in_person_reason"]] if p),
        ),
        ("limitations", _("Limitations of a remote review"), r["limitations"]),
    ]
    return [{"key": key, "title": title, "text": text} for key, title, text in rows]
