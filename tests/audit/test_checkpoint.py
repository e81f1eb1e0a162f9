from __future__ import annotations

import json
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from audit import Action, AuditEvent, record
from audit.checkpoint import PREFIX, checkpoint_write, latest_checkpoint
from core import storage
from core.signing import key_id
from tests.audit.chain import _audit_verify, _triggers_bypassed
from tests.factories import AdminFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_checkpoints")]


def _events(n: int) -> list[AuditEvent]:
    return [record(event_type="login", action=Action.EXECUTE, detail={"n": i}) for i in range(n)]


def test_it_writes_a_signed_checkpoint_of_the_chain_head_to_the_bucket() -> None:
    assert settings.S3_BUCKET, "this test runs against the S3 test server"
    events = _events(3)

    with time_machine.travel("2025-03-04 05:06:07Z", tick=False):
        summary = checkpoint_write()

    assert summary["ok"] is True
    assert list(storage.names(PREFIX)) == [f"{PREFIX}20250304T050607.000000Z.json"]
    stored = json.loads(b"".join(storage.read(summary["name"])))
    assert stored["count"] == 3
    assert stored["head_id"] == events[-1].id
    assert stored["head_hash"] == events[-1].hash
    assert stored["at"] == "2025-03-04T05:06:07.000000+00:00"
    assert stored["key_id"] == key_id()
    checkpoint = latest_checkpoint()
    assert checkpoint is not None and checkpoint.valid and checkpoint.head_id == events[-1].id
    assert _audit_verify()[0] == 0


def test_audit_verify_detects_rows_cut_off_the_end_of_the_chain() -> None:
    events = _events(5)
    checkpoint_write()
    with _triggers_bypassed() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id >= %s", [events[3].id])

    assert _audit_verify() == (1, f"BROKEN: truncated: checkpoint at id {events[-1].id} not found")


def test_audit_verify_detects_an_emptied_table() -> None:
    events = _events(2)
    checkpoint_write()
    with _triggers_bypassed() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")

    assert _audit_verify() == (1, f"BROKEN: truncated: checkpoint at id {events[-1].id} not found")


def test_a_forged_checkpoint_is_refused() -> None:
    _events(2)
    name = checkpoint_write()["name"]
    stored = json.loads(b"".join(storage.read(name)))
    forged = {**stored, "count": 1, "head_id": 1, "head_hash": AuditEvent.objects.get(id=1).hash}
    writer = storage.open_writer(name.replace(".json", "9.json"))  # sorts after the real one
    writer.write(json.dumps(forged).encode())
    writer.close()

    code, message = _audit_verify()
    assert code == 1
    assert message.startswith("BROKEN: checkpoint audit-checkpoints/") and message.endswith("signature invalid")
    latest = latest_checkpoint()
    assert latest is not None and latest.name == name  # the forged one is never trusted


def test_a_broken_chain_writes_no_checkpoint_and_alerts_the_admins(django_capture_on_commit_callbacks: Any) -> None:
    admin = AdminFactory()
    AdminFactory(is_active=False)
    events = _events(3)
    with _triggers_bypassed() as cursor:
        cursor.execute("UPDATE audit_auditevent SET detail = %s WHERE id = %s", ['{"n": 99}', events[1].id])

    with django_capture_on_commit_callbacks(execute=True):
        summary = checkpoint_write()

    assert summary == {"ok": False, "broken_id": events[1].id}
    assert list(storage.names(PREFIX)) == []
    failed = AuditEvent.objects.get(event_type="audit.verify.failed")
    assert failed.detail == {"broken_id": events[1].id} and failed.outcome == "8"
    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert str(events[1].id) in mail.outbox[0].body
