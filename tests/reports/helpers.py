"""Building blocks of the report tests: a case in review with questions, a complete draft, a case
waiting in the queue, a specialist with a given profile, a reported case for the statistics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from cases.models import Case, ConsentAcceptance, Question, Status
from reports.models import Answer, Certainty, DiagnosisAgreement, InPerson, Report, TreatmentAgreement
from tests.cases.helpers import accept_consent
from tests.factories import CaseFactory, SpecialistFactory, add_totp, publish_consent_v1

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
    case = CaseFactory(
        patient=patient,
        specialist=specialist,
        status=Status.IN_REVIEW,
        submitted_at=timezone.now(),
        due_at=timezone.now() + timezone.timedelta(days=3),
        **kwargs,
    )
    for i in range(questions):
        Question.objects.create(case=case, position=i, text=f"Question {i + 1}?")
    accept_consent(case)
    return case


def complete_draft(case: Case, author: User, **overrides: Any) -> Report:
    report = Report.objects.create(case=case, round=case.round, author=author, **{**COMPLETE, **overrides})
    for question in case.questions.all():
        Answer.objects.create(report=report, question=question, text=f"Answer to {question.text}")
    return report


QUESTION = "Should I have the mole removed or can we wait and watch it?"


def waiting_case(
    *, due_in: timedelta = timedelta(hours=48), consent: bool = True, question: str = QUESTION, **kwargs: Any
) -> Case:
    """A submitted case in the open queue (dermatology, Spain, like the default specialist)."""
    now = timezone.now()
    fields: dict[str, Any] = {"status": Status.SUBMITTED, "submitted_at": now, "due_at": now + due_in, **kwargs}
    case = CaseFactory(**fields)
    if question:
        Question.objects.create(case=case, text=question)
    if consent:
        ConsentAcceptance.objects.create(case=case, version=publish_consent_v1(), text_sha256="0" * 64, language="en")
    return case


def specialist_with(**profile: Any) -> User:
    user = SpecialistFactory(**{f"profile__{k}": v for k, v in profile.items()})
    add_totp(user)
    return user


def reported_case(
    specialist: User,
    *,
    specialty: str,
    took_days: float,
    sla_days: float = 7,
    agreement: str = "confirmed",
    in_person: str = "no",
    submitted_days_ago: float = 20,
    patient: User | None = None,
) -> Case:
    submitted = timezone.now() - timedelta(days=submitted_days_ago)
    case = CaseFactory(
        specialty=specialty,
        status=Status.REPORT_READY,
        specialist=specialist,
        submitted_at=submitted,
        due_at=submitted + timedelta(days=sla_days),
        **({"patient": patient} if patient else {}),
    )
    Report.objects.create(
        case=case,
        round=1,
        author=specialist,
        summary="s",
        diagnosis_agreement=agreement,
        in_person=in_person,
        signed_at=submitted + timedelta(days=took_days),
    )
    return case
