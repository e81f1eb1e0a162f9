from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from audit import Action, AuditEvent, record
from tests.audit.chain import _triggers_bypassed

pytestmark = pytest.mark.django_db


def _audit_verify() -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("audit_verify", stdout=out, stderr=err)
    assert out.getvalue() == ""
    return exit_.value.code, err.getvalue().strip()


@pytest.fixture
def events() -> list[AuditEvent]:
    return [record(event_type="login", action=Action.EXECUTE, detail={"n": n}) for n in range(5)]


def test_it_names_the_row_whose_detail_was_edited(events: list[AuditEvent]) -> None:
    with _triggers_bypassed() as cursor:
        cursor.execute("UPDATE audit_auditevent SET detail = %s WHERE id = %s", ['{"n": 99}', events[2].id])

    assert _audit_verify() == (1, f"BROKEN at event id={events[2].id}: hash mismatch (row edited)")


def test_it_names_the_row_after_a_deleted_one(events: list[AuditEvent]) -> None:
    with _triggers_bypassed() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[2].id])

    assert _audit_verify() == (
        1,
        f"BROKEN at event id={events[3].id}: prev_hash does not match previous event"
        f" id={events[1].id} (row deleted or inserted)",
    )


def test_it_names_the_new_first_row_when_the_first_is_deleted(events: list[AuditEvent]) -> None:
    with _triggers_bypassed() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[0].id])

    code, message = _audit_verify()
    assert code == 1
    assert message.startswith(f"BROKEN at event id={events[1].id}: prev_hash does not match")
