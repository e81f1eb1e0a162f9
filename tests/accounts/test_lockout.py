"""Lockout after bad passwords (SECURITY.md rows 2 and 37): a lock can be lifted only by the
locked account's own success (or a new password), never by someone else signing in from the
same address."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db

ATTACKER_ADDRESS = "203.0.113.7"
LOCKED = "Account locked for 15 minutes"


def _login(client: Client, email: str, password: str) -> Any:
    return client.post("/accounts/login/", {"username": email, "password": password})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _attempt(email: str, password: str, address: str = ATTACKER_ADDRESS) -> Any:
    """One sign-in through the real form, from a fresh browser at `address`."""
    return _login(Client(REMOTE_ADDR=address), email, password)


def _page(response: Any) -> str:
    """The page without what differs on every answer (CSP nonce, CSRF token)."""
    html = response.content.decode()
    html = re.sub(r'nonce="[^"]*"', 'nonce=""', html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_the_attackers_own_sign_ins_do_not_reset_the_victims_lockout() -> None:
    victim, attacker = PatientFactory(), PatientFactory()
    answers = []
    with time_machine.travel("2026-03-02 10:00", tick=False) as traveller:
        for _round in range(4):  # 16 guesses if the attacker's sign-ins cleared the count
            for _guess in range(4):
                answers.append(_attempt(victim.email, "guess").status_code)
            _attempt(attacker.email, PASSWORD)
            traveller.shift(timedelta(seconds=30))
        assert answers[:4] == [200, 200, 200, 200]  # wrong password, form shown again
        assert set(answers[4:]) == {429}  # the fifth guess locks, however the guesses are interleaved
        # The victim, from their own address, is refused with their right password while the lock lasts.
        client = Client(REMOTE_ADDR="198.51.100.20")
        response = _login(client, victim.email, PASSWORD)
        assert response.status_code == 429 and LOCKED in response.content.decode()
        assert not _signed_in(client)
        traveller.shift(timedelta(minutes=16))
        client = Client(REMOTE_ADDR="198.51.100.20")
        assert _login(client, victim.email, PASSWORD).status_code == 302
        assert _signed_in(client)


def test_a_success_does_not_clear_the_addresss_failures_against_other_accounts() -> None:
    attacker = PatientFactory()
    victims = [PatientFactory() for _ in range(6)]
    for victim in victims[:4]:  # one guess each: no account reaches the limit
        assert _attempt(victim.email, "guess").status_code == 200
    assert _attempt(attacker.email, PASSWORD).status_code == 302
    assert _attempt(victims[4].email, "guess").status_code == 429  # the fifth failure from this address
    # The address stays locked, for the attacker's own account too; other addresses are not.
    assert _attempt(attacker.email, PASSWORD).status_code == 429
    assert _attempt(victims[5].email, PASSWORD).status_code == 429
    assert _attempt(victims[5].email, PASSWORD, address="198.51.100.21").status_code == 302


def test_the_owners_own_success_clears_their_earlier_failures() -> None:
    user = PatientFactory()
    for _ in range(4):
        assert _attempt(user.email, "typo").status_code == 200
    assert _attempt(user.email, PASSWORD).status_code == 302
    for _ in range(4):
        assert _attempt(user.email, "typo").status_code == 200
    client = Client(REMOTE_ADDR=ATTACKER_ADDRESS)
    assert _login(client, user.email, PASSWORD).status_code == 302
    assert _signed_in(client)


def test_the_lockout_looks_the_same_for_known_and_unknown_addresses() -> None:
    known = PatientFactory()
    pages = []
    for email, address in ((known.email, "198.51.100.30"), ("nobody-here@example.org", "198.51.100.31")):
        for _ in range(5):
            _attempt(email, "guess", address=address)
        response = _attempt(email, PASSWORD, address=address)
        assert response.status_code == 429
        pages.append(_page(response))
    assert LOCKED in pages[0]
    assert pages[0] == pages[1]


def test_the_address_is_one_account_whatever_its_capitals() -> None:
    """Before: "Ana@Example.org" did not sign in (addresses are stored in lower case) and each
    spelling had its own failure counter, so changing capitals dodged the lockout."""
    patient = PatientFactory(email="ana.caps@example.org")
    client = Client(REMOTE_ADDR="198.51.100.9")
    _login(client, "Ana.Caps@Example.org", PASSWORD)
    assert _signed_in(client)

    for spelling in ("ANA.CAPS@example.org", "ana.caps@EXAMPLE.org", "Ana.caps@example.org", "ana.Caps@example.org"):
        _attempt(spelling, "wrong", address="198.51.100.10")
    response = _attempt("ana.CAPS@example.ORG", "wrong", address="198.51.100.11")
    assert LOCKED in response.content.decode()
    assert patient.email == "ana.caps@example.org"
