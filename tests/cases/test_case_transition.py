from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from django.db import connection

from audit.models import AuditEvent
from cases.models import TRANSITIONS, Case, CaseEvent, Status
from cases.services import ConcurrentTransition, InvalidTransition, case_transition
from tests.factories import CaseFactory, PatientFactory, SpecialistFactory

ALLOWED = sorted((str(old), str(new)) for old, targets in TRANSITIONS.items() for new in targets)
FORBIDDEN = sorted((str(old), str(new)) for old in Status for new in Status if new not in TRANSITIONS[old])


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert len(ALLOWED) + len(FORBIDDEN) == len(Status) ** 2


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_it_makes_every_allowed_move_and_records_it(old: str, new: str) -> None:
    specialist = SpecialistFactory()
    case = CaseFactory(status=old, specialist=specialist)

    case_transition(case=case, to=new, actor=specialist, reason="test_reason")

    assert case.status == new
    case.refresh_from_db()
    assert case.status == new
    event = CaseEvent.objects.get(case=case)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (old, new, specialist, "test_reason")
    audit_event = AuditEvent.objects.get(event_type="case.status", case_id=case.pk)
    assert audit_event.actor_id == specialist.pk
    assert audit_event.detail == {"from": old, "to": new, "reason": "test_reason"}


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), FORBIDDEN)
def test_it_refuses_every_forbidden_move_and_changes_nothing(old: str, new: str) -> None:
    case = CaseFactory(status=old)
    before = Case.objects.values().get(pk=case.pk)

    with pytest.raises(InvalidTransition) as exc_info:
        case_transition(case=case, to=new, actor=case.patient, reason="test_reason")

    assert (exc_info.value.old, exc_info.value.new) == (old, new)
    assert case.status == old
    assert Case.objects.values().get(pk=case.pk) == before
    assert not CaseEvent.objects.filter(case=case).exists()
    assert not AuditEvent.objects.filter(event_type="case.status", case_id=case.pk).exists()


def test_withdrawn_is_final_and_closed_reopens_only_for_a_second_opinion() -> None:
    assert TRANSITIONS[Status.WITHDRAWN] == set()
    assert TRANSITIONS[Status.CLOSED] == {Status.TRIAGE}


@pytest.mark.django_db
@pytest.mark.parametrize("final", [Status.WITHDRAWN, Status.CLOSED])
def test_it_refuses_to_reopen_a_withdrawn_or_closed_case(final: Status) -> None:
    case = CaseFactory(status=final)
    for target in set(Status) - TRANSITIONS[final]:
        with pytest.raises(InvalidTransition):
            case_transition(case=case, to=target, actor=case.patient)
    case.refresh_from_db()
    assert case.status == final
    assert not CaseEvent.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_withdrawal_is_allowed_from_every_open_state() -> None:
    for status in Status:
        if status in {Status.WITHDRAWN, Status.CLOSED}:
            continue
        case = CaseFactory(status=status)
        case_transition(case=case, to=Status.WITHDRAWN, actor=case.patient, reason="patient_withdrew")
        assert Case.objects.get(pk=case.pk).status == Status.WITHDRAWN


def _race(case: Case, moves: list[str], actor: Any) -> tuple[list[str], list[BaseException]]:
    """Each thread starts from its own copy of the same loaded Case (as two requests would)
    and its own database connection."""
    start = threading.Barrier(len(moves))
    won: list[str] = []
    errors: list[BaseException] = []

    def move(copy_of_case: Case, to: str) -> None:
        try:
            start.wait()
            case_transition(case=copy_of_case, to=to, actor=actor, reason="race")
            won.append(to)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(copy.copy(case), to)) for to in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, errors


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a database where writers wait for row locks")
@pytest.mark.parametrize(
    "moves",
    [[Status.TRIAGE, Status.TRIAGE], [Status.ASSIGNED, Status.WITHDRAWN]],
    ids=["same-move", "different-moves"],
)
def test_of_two_concurrent_moves_exactly_one_wins(transactional_db: Any, moves: list[str]) -> None:
    patient, specialist = PatientFactory(), SpecialistFactory()
    CaseFactory(patient=patient, status=Status.SUBMITTED)
    loaded = Case.objects.get(patient=patient)

    won, errors = _race(loaded, moves, specialist)

    assert len(won) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], ConcurrentTransition), errors
    assert Case.objects.get(pk=loaded.pk).status == won[0]
    assert list(CaseEvent.objects.filter(case=loaded).values_list("old_status", "new_status")) == [
        (Status.SUBMITTED, won[0])
    ]
    assert AuditEvent.objects.filter(event_type="case.status", case_id=loaded.pk).count() == 1
