"""The audit chain is keyed and checkpointed in every deployment (SECURITY.md row 41). Seen before:
the chain was a plain SHA-256, so whoever could write the database could edit a row and recompute
every later hash, and `audit_verify` said OK; the embedded default never wrote a checkpoint."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.db import connection

from audit import Action, AuditEvent, record
from audit.checkpoint import latest_checkpoint
from audit.models import GENESIS_HASH
from tests.audit.chain import _audit_verify, _triggers_bypassed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_checkpoints")]


def _events(n: int) -> list[AuditEvent]:
    return [record(event_type="login", action=Action.EXECUTE, detail={"n": i}) for i in range(n)]


def _rewrite_without_the_key(first: int, *, keep_key_id: bool) -> None:
    """What a database writer without the key can do: edit event `first` and recompute the
    SHA-256 chain of it and every later event, as the old `compute_hash` did."""
    with _triggers_bypassed() as cursor:
        cursor.execute("UPDATE audit_auditevent SET detail = %s WHERE id = %s", ['{"n": 99}', first])
        prev = AuditEvent.objects.filter(id__lt=first).order_by("-id").values_list("hash", flat=True).first()
        for event in AuditEvent.objects.filter(id__gte=first).order_by("id"):
            event.prev_hash = prev or GENESIS_HASH
            if not keep_key_id:
                event.chain_key = None
            prev = hashlib.sha256(event.prev_hash.encode() + event.canonical_json()).hexdigest()
            cursor.execute(
                "UPDATE audit_auditevent SET prev_hash = %s, hash = %s, chain_key = %s WHERE id = %s",
                [event.prev_hash, prev, event.chain_key, event.id],
            )


def test_an_edit_with_the_chain_recomputed_is_found() -> None:
    events = _events(5)
    assert all(e.chain_key for e in events)
    _rewrite_without_the_key(events[2].id, keep_key_id=True)
    assert _audit_verify() == (1, f"BROKEN at event id={events[2].id}: hash mismatch (row edited)")


def test_a_chain_recomputed_as_unkeyed_is_found() -> None:
    events = _events(5)
    _rewrite_without_the_key(events[2].id, keep_key_id=False)
    assert _audit_verify() == (
        1,
        f"BROKEN at event id={events[2].id}: unkeyed hash after keyed events (row rewritten without the chain key)",
    )


def test_a_whole_chain_rewritten_as_unkeyed_is_found_by_the_checkpoint(settings: Any) -> None:
    events = _events(3)
    from audit.checkpoint import checkpoint_write

    assert checkpoint_write()["ok"]
    _rewrite_without_the_key(events[0].id, keep_key_id=False)
    code, message = _audit_verify()
    assert code == 1 and f"checkpoint at id {events[-1].id}: hash differs" in message


def test_events_from_before_the_key_still_verify() -> None:
    """Rows written by the unkeyed chain (before 2026-12) keep their SHA-256; later ones are keyed."""
    with connection.cursor() as cursor:
        prev = GENESIS_HASH
        for i in (1, 2):
            legacy = AuditEvent(id=i, event_type="login", action=Action.EXECUTE, detail={"old": i}, prev_hash=prev)
            legacy.hash = prev = hashlib.sha256(prev.encode() + legacy.canonical_json()).hexdigest()
            legacy.save(force_insert=True)
    assert cursor is not None
    new = _events(2)
    assert new[0].prev_hash == prev and new[0].chain_key
    code, message = _audit_verify()
    assert (code, message.splitlines()[0]) == (0, f"OK: 4 events, chain head {new[-1].hash}")


def test_a_checkpoint_is_written_every_n_events_without_beat(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AUDIT_CHECKPOINT_EVERY = 4
    with django_capture_on_commit_callbacks(execute=True):
        _events(3)
    assert latest_checkpoint() is None
    with django_capture_on_commit_callbacks(execute=True):
        events = _events(1)
    checkpoint = latest_checkpoint()
    assert checkpoint is not None and (checkpoint.count, checkpoint.head_id) == (4, events[0].id)


def test_audit_verify_says_how_much_of_the_tail_no_checkpoint_covers(settings: Any) -> None:
    _events(2)
    assert "No signed checkpoint yet: none of the 2 events is covered" in _audit_verify()[1]
    from audit.checkpoint import checkpoint_write

    checkpoint_write()
    _events(3)
    code, message = _audit_verify()
    assert code == 0 and "covers 2 events" in message and "3 later events are not covered yet" in message


def test_a_checkpoint_is_asked_for_once_an_hour_of_a_process_life(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    import time

    from audit import services

    monkeypatch.setattr(services, "_next_hourly_checkpoint", time.monotonic() - 1)  # an hour has passed
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        events = _events(2)
    assert len(callbacks) == 1  # the second event waits for the next hour
    checkpoint = latest_checkpoint()
    assert checkpoint is not None and checkpoint.head_id == events[-1].id
