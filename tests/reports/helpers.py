"""Building blocks of the report tests: a case in review with questions, a complete draft."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import User
from cases.models import Case, Question, Status
from reports.models import Answer, Certainty, DiagnosisAgreement, InPerson, Report, TreatmentAgreement
from tests.cases.helpers import accept_consent
from tests.factories import CaseFactory, publish_consent_v1

COMPLETE = {
    "summary": "The mole looks benign; keep watching it.",
    "findings": "Symmetric, 6 mm, regular border.",
    "diagnosis_agreement": DiagnosisAgreement.CONFIRMED,
    "treatment_agreement": TreatmentAgreement.MODIFIED,
    "agreement_comment": "Surgery is not needed now.",
    "certainty": Certainty.MODERATE,
    "certainty_reason": "Photos only, no dermoscopy.",
    "recommendations": "Photograph it monthly with a ruler.",
    "alternatives": "Removal: certain answer, small scar.",
    "suggested_tests": "Dermoscopy in 3 months.",
    "in_person": InPerson.SOON,
    "in_person_reason": "Dermoscopy needs a visit.",
    "limitations": "No physical examination.",
}


def case_in_review(patient: User, specialist: User, *, questions: int = 2, **kwargs: Any) -> Case:
    publish_consent_v1()
    case = CaseFactory(patient=patient, specialist=specialist, status=Status.IN_REVIEW,
                       submitted_at=timezone.now(), due_at=timezone.now() + timezone.timedelta(days=3), **kwargs)
    for i in range(questions):
        Question.objects.create(case=case, position=i, text=f"Question {i + 1}?")
    accept_consent(case)
    return case


def complete_draft(case: Case, author: User, **overrides: Any) -> Report:
    report = Report.objects.create(case=case, round=case.round, author=author, **{**COMPLETE, **overrides})
    for question in case.questions.all():
        Answer.objects.create(report=report, question=question, text=f"Answer to {question.text}")
    return report
