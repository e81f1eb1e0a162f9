"""Signed reports for tests, made the way the app makes them: a case in review assigned to the
author, questions, measurements, key photos, a filled-in report signed with report_sign."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from cases.models import Case, Consultation, Measurement, Question, Status
from reports.models import Addendum, Answer, Report, SignedDocument
from reports.services import addendum_sign, report_sign
from tests.factories import CaseFactory, SpecialistFactory, accepted_upload

FIELDS: dict[str, str] = {
    "summary": "The lesion looks like a benign compound naevus.",
    "findings": "Symmetric pigment network, no regression structures.",
    "diagnosis_agreement": "refined",
    "treatment_agreement": "modified",
    "agreement_comment": "The first diagnosis was close; the follow-up interval should be shorter.",
    "certainty": "moderate",
    "certainty_reason": "Photos only, no dermoscopy.",
    "recommendations": "Photograph it every three months.",
    "alternatives": "Excision: certain diagnosis, but a scar.",
    "suggested_tests": "Dermoscopy at the next visit.",
    "in_person": "soon",
    "in_person_reason": "A dermoscopic exam would settle it.",
    "limitations": "A remote review cannot feel texture or see the lesion under polarised light.",
}
XSS = {
    "summary": '<img src="file:///etc/passwd"> <script>alert(1)</script>',
    "findings": '<link rel="attachment" href="file:///etc/passwd">',
    "recommendations": '<img src="http://169.254.169.254/latest/meta-data/">',
}


def photo(seed: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (40 * seed % 255, 120, 200 - 20 * seed % 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def case_in_review(*, patient: Any = None, specialist: Any = None, questions: int = 2, **fields: Any) -> Case:
    specialist = specialist or SpecialistFactory()
    case: Case = CaseFactory(
        status=Status.IN_REVIEW,
        specialist=specialist,
        submitted_at=timezone.now(),
        due_at=timezone.now() + timedelta(days=3),
        **({"patient": patient} if patient else {}),
        **fields,
    )
    for i in range(questions):
        Question.objects.create(case=case, position=i, text=f"Question {i + 1}: is this serious?")
    return case


def draft_report(case: Case, *, photos: int = 2, measurements: bool = True, **fields: str) -> Report:
    """A complete report by the case's specialist, ready to sign."""
    report = Report.objects.create(case=case, author=case.specialist, **(FIELDS | fields))
    for question in case.questions.all():
        Answer.objects.create(report=report, question=question, text=f"Answer to question {question.position + 1}.")
    if measurements:
        for months, mm in ((0, "4.00"), (3, "4.50"), (6, "5.20")):
            Measurement.objects.create(
                case=case,
                site="Left shoulder",
                value_mm=Decimal(mm),
                unit="mm",
                method="ruler",
                measured_on=date(2024, 1, 1) + timedelta(days=30 * months),
            )
    report.key_photos = [str(accepted_upload(case, photo(i), f"photo-{i}.jpg").pk) for i in range(photos)]
    report.save(update_fields=["key_photos"])
    return report


def consult(case: Case, note: str = "I agree with the assessment.") -> Consultation:
    colleague = SpecialistFactory(full_name="Dr Colleague Radiology")
    return Consultation.objects.create(
        case=case, colleague=colleague, invited_by=case.specialist, note=note, noted_at=timezone.now()
    )


def signed_document(case: Case | None = None, **report_fields: Any) -> SignedDocument:
    case = case or case_in_review()
    report = draft_report(case, **report_fields)
    return report_sign(report=report, signer=case.specialist)


def sign_addendum(document: SignedDocument, body: str = "A correction: the size was 5.2 mm.") -> SignedDocument:
    report = document.report
    addendum = Addendum.objects.create(report=report, author=report.author, body=body)
    return addendum_sign(addendum=addendum, signer=report.author)
