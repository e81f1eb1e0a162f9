from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from accounts.models import User
from cases.models import Case, MessageKind, SpecialtySetting, Status
from cases.services import case_submit, case_transition, message_send
from tests.cases.helpers import ready_case

pytestmark = pytest.mark.usefixtures("consent_version", "every_specialty_in_spain")

SUBMITTED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(SUBMITTED_AT, tick=False) as traveller:
        yield traveller


def _submit(patient: User, **kwargs: Any) -> Case:
    case = ready_case(patient, **kwargs)
    case_submit(actor=patient, case=case)
    case.refresh_from_db()
    return case


def _in_review(patient: User, specialist: User) -> Case:
    case = _submit(patient)
    Case.objects.filter(pk=case.pk).update(specialist=specialist)
    case.refresh_from_db()
    case_transition(case=case, to=Status.ASSIGNED, actor=specialist)
    case_transition(case=case, to=Status.IN_REVIEW, actor=specialist)
    return case


def test_it_gives_a_case_72_hours_by_default(clock: Any, patient_a: User) -> None:
    case = _submit(patient_a)

    assert case.status == Status.SUBMITTED
    assert case.submitted_at == SUBMITTED_AT
    assert case.due_at == SUBMITTED_AT + timedelta(hours=72)
    assert case.sla_paused_at is None


def test_it_uses_the_turnaround_of_the_specialty(clock: Any, patient_a: User) -> None:
    SpecialtySetting.objects.create(specialty="dermatology", turnaround_hours=24)
    SpecialtySetting.objects.create(specialty="oncology", turnaround_hours=120)

    dermatology = _submit(patient_a, specialty="dermatology")
    oncology = _submit(patient_a, specialty="oncology")
    cardiology = _submit(patient_a, specialty="cardiology")

    assert dermatology.due_at == SUBMITTED_AT + timedelta(hours=24)
    assert oncology.due_at == SUBMITTED_AT + timedelta(hours=120)
    assert cardiology.due_at == SUBMITTED_AT + timedelta(hours=72)


def test_it_pauses_while_waiting_for_the_patient(clock: Any, patient_a: User, specialist: User) -> None:
    case = _in_review(patient_a, specialist)
    clock.shift(timedelta(hours=5))

    case_transition(case=case, to=Status.AWAITING_PATIENT, actor=specialist)

    case.refresh_from_db()
    assert case.sla_paused_at == SUBMITTED_AT + timedelta(hours=5)
    assert case.due_at == SUBMITTED_AT + timedelta(hours=72)


def test_it_extends_the_due_date_by_exactly_the_paused_time(clock: Any, patient_a: User, specialist: User) -> None:
    case = _in_review(patient_a, specialist)
    due = case.due_at
    case_transition(case=case, to=Status.AWAITING_PATIENT, actor=specialist)
    clock.shift(timedelta(days=2))

    case_transition(case=case, to=Status.IN_REVIEW, actor=specialist)

    case.refresh_from_db()
    assert case.due_at == due + timedelta(days=2)
    assert case.sla_paused_at is None


def test_two_pauses_add_up(clock: Any, patient_a: User, specialist: User) -> None:
    case = _in_review(patient_a, specialist)
    due = case.due_at

    case_transition(case=case, to=Status.AWAITING_PATIENT, actor=specialist)
    clock.shift(timedelta(days=1))
    case_transition(case=case, to=Status.IN_REVIEW, actor=specialist)
    clock.shift(timedelta(hours=3))  # not paused: the clock runs
    case_transition(case=case, to=Status.AWAITING_PATIENT, actor=specialist)
    clock.shift(timedelta(hours=5, minutes=30))
    case_transition(case=case, to=Status.IN_REVIEW, actor=specialist)

    case.refresh_from_db()
    assert case.due_at == due + timedelta(days=1, hours=5, minutes=30)
    assert case.sla_paused_at is None


def test_the_patients_reply_resumes_the_clock(clock: Any, patient_a: User, specialist: User) -> None:
    case = _in_review(patient_a, specialist)
    due = case.due_at
    message_send(
        case=case,
        author=specialist,
        body="Please send a photo of the mole.",
        kind=MessageKind.REQUEST,
    )
    case.refresh_from_db()
    assert (case.status, case.sla_paused_at) == (Status.AWAITING_PATIENT, SUBMITTED_AT)
    clock.shift(timedelta(hours=36))

    case = Case.objects.get(pk=case.pk)  # a new request loads the case again
    message_send(case=case, author=patient_a, body="Here it is.")

    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    assert case.due_at == due + timedelta(hours=36)
    assert case.sla_paused_at is None
    assert case.events.last().reason == "patient_answered"  # type: ignore[union-attr]
