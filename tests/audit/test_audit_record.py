from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory

from accounts.models import User
from audit import Action, AuditEvent, Outcome, record, verify_chain
from audit.models import GENESIS_HASH

pytestmark = pytest.mark.django_db


def test_it_builds_a_valid_chain_that_audit_verify_accepts() -> None:
    patient_id = uuid.uuid4()
    events = [
        record(event_type="register", action=Action.CREATE, patient_id=patient_id),
        record(event_type="login.failed", action=Action.EXECUTE, outcome=Outcome.MINOR_FAILURE),
        record(
            event_type="case.read",
            action=Action.READ,
            entity_type="Case",
            entity_id=uuid.uuid4(),
            case_id=str(uuid.uuid4()),
            detail={"codes": ["año", 1, True, None], "file": uuid.uuid4(), "nested": {"b": 2, "a": 1}},
        ),
    ]

    assert [e.prev_hash for e in events] == [GENESIS_HASH, events[0].hash, events[1].hash]
    stored = list(AuditEvent.objects.order_by("id"))
    assert [e.hash for e in stored] == [e.hash for e in events]
    assert all(e.compute_hash() == e.hash for e in stored)
    assert stored[0].patient_id == patient_id

    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert out.getvalue().splitlines()[0] == f"OK: 3 events, chain head {events[-1].hash}"


def test_it_accepts_an_empty_chain() -> None:
    assert verify_chain().ok
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert out.getvalue().splitlines()[0] == f"OK: 0 events, chain head {GENESIS_HASH}"


def test_it_takes_actor_role_ip_and_user_agent_from_the_request() -> None:
    user = User.objects.create_user(email="spec@example.org", password=None, full_name="x", role="specialist")
    request = RequestFactory().get("/", REMOTE_ADDR="2001:DB8:0:0::7", HTTP_USER_AGENT="Browser/1.0 " + "x" * 300)
    request.user = user

    event = record(request=request, event_type="login", action=Action.EXECUTE)

    stored = AuditEvent.objects.get()
    assert stored.actor_id == user.pk
    assert stored.actor_role == "specialist"
    assert stored.source_ip == "2001:db8::7"
    assert stored.user_agent == ("Browser/1.0 " + "x" * 300)[:256]
    assert stored.compute_hash() == stored.hash == event.hash


@pytest.mark.parametrize("address", ["203.0.113.7", "2001:DB8:0:0:0:0:0:7", "::ffff:192.0.2.1", "1:0:1:1:1:1:1:1"])
def test_the_hash_survives_how_the_database_spells_an_ip_address(address: str) -> None:
    record(request=RequestFactory().get("/", REMOTE_ADDR=address), event_type="login", action=Action.EXECUTE)

    assert verify_chain().ok


def test_it_records_no_actor_for_an_anonymous_request() -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="not an address")
    request.user = AnonymousUser()

    event = record(request=request, event_type="login.failed", action=Action.EXECUTE)

    assert (event.actor_id, event.actor_role, event.source_ip) == (None, "", None)
    assert verify_chain().ok


def test_an_explicit_actor_wins_over_the_request_user() -> None:
    admin = User.objects.create_user(email="a@example.org", full_name="x", role="admin")
    invited = User.objects.create_user(email="i@example.org", full_name="x")
    request = RequestFactory().get("/")
    request.user = admin

    event = record(request=request, actor=invited, event_type="invite.accepted", action="U")

    assert (event.actor_id, event.actor_role) == (invited.pk, "patient")


def test_it_leaves_no_event_when_the_action_rolls_back() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        record(event_type="register", action=Action.CREATE)
        raise RuntimeError("the action failed")

    assert not AuditEvent.objects.exists()
    assert record(event_type="register", action=Action.CREATE).prev_hash == GENESIS_HASH
    assert verify_chain().ok


def test_it_refuses_free_values_in_detail() -> None:
    with pytest.raises(TypeError):
        record(event_type="x", action=Action.EXECUTE, detail={"score": 0.5})
    assert not AuditEvent.objects.exists()
