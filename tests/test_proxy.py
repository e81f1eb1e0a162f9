"""Behind the TLS proxy, lockouts, rate limits and audit records see the visitor's address, not
the proxy's; a visitor cannot choose the address by sending X-Forwarded-For themselves."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from secondopinion.proxy import client_address
from tests.factories import PASSWORD, PatientFactory

PROXY_NET = ("10.98.76.0/28",)
PROXY = "10.98.76.2"


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        (PROXY, "203.0.113.5", "203.0.113.5"),  # Caddy: the header is the visitor
        (PROXY, "198.51.100.7, 203.0.113.5", "203.0.113.5"),  # nginx appends: the left part is the visitor's own
        (PROXY, "203.0.113.5, 10.98.76.3", "203.0.113.5"),  # two proxies of ours
        (PROXY, "10.98.76.4, 10.98.76.3", "10.98.76.4"),  # only our own hops: the leftmost
        (PROXY, "", PROXY),
        (PROXY, "not-an-address", PROXY),  # garbage from the proxy: keep the peer
        (PROXY, "garbage, 203.0.113.5", "203.0.113.5"),
        (PROXY, "2001:db8::1", "2001:db8::1"),
        (PROXY, "::ffff:203.0.113.5", "203.0.113.5"),
        ("203.0.113.9", "198.51.100.7", "203.0.113.9"),  # not from the proxy: the header is ignored
        ("::ffff:10.98.76.2", "203.0.113.5", "203.0.113.5"),  # the proxy over a dual-stack socket
    ],
)
def test_the_visitor_is_the_first_untrusted_hop_from_the_right(peer: str, header: str, expected: str) -> None:
    assert client_address(peer, header, PROXY_NET) == expected


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address(PROXY, "203.0.113.5", ()) == PROXY


def _login(address: str, email: str, password: str, *, forwarded_for: str | None = None) -> Any:
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for or address)
    return client.post("/accounts/login/", {"username": email, "password": password})


@pytest.mark.django_db
def test_one_visitor_locked_out_behind_the_proxy_does_not_lock_out_the_others(settings: Any) -> None:
    settings.TRUSTED_PROXIES = list(PROXY_NET)
    attacker, patient = "203.0.113.5", PatientFactory()
    for i in range(5):
        _login(attacker, f"guess-{i}@example.org", "wrong password")
    assert _login(attacker, patient.email, PASSWORD).status_code == 429
    # Claiming another address in the header does not get the attacker out.
    assert _login(attacker, patient.email, PASSWORD, forwarded_for=f"198.51.100.99, {attacker}").status_code == 429
    # The patient, through the same proxy from their own address, signs in.
    assert _login("198.51.100.7", patient.email, PASSWORD).status_code == 302
    event = AuditEvent.objects.filter(event_type="login", actor=patient).get()
    assert event.source_ip == "198.51.100.7"


@pytest.mark.django_db
def test_without_the_setting_everyone_behind_the_proxy_shares_one_address(settings: Any) -> None:
    # What TRUSTED_PROXIES fixes: the same requests, not believed, lock out the patient too.
    settings.TRUSTED_PROXIES = []
    patient = PatientFactory()
    for i in range(5):
        _login("203.0.113.5", f"guess-{i}@example.org", "wrong password")
    assert _login("198.51.100.7", patient.email, PASSWORD).status_code == 429
