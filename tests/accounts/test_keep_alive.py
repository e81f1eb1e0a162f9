"""'Stay signed in' in the sign-out warning counts as activity; the page tells the warning how long
the session has left."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PatientFactory, SpecialistFactory, add_totp, login

pytestmark = pytest.mark.django_db


def test_stay_signed_in_resets_the_idle_clock(settings: Any) -> None:
    client = login(Client(), PatientFactory())
    client.get(reverse("accounts:security"))
    session = client.session
    session["last_seen"] = time.time() - 29 * 60
    session.save()
    assert client.post(reverse("accounts:keep_alive")).status_code == 204
    assert client.session["last_seen"] > time.time() - 5
    page = client.get(reverse("accounts:security")).content.decode()
    left = int(re.search(r'data-seconds-left="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert 29 * 60 < left <= 30 * 60


def test_the_warning_counts_from_the_servers_clock_and_staff_get_15_minutes() -> None:
    specialist = SpecialistFactory()
    add_totp(specialist)
    client = login(Client(), specialist)
    page = client.get(reverse("accounts:security")).content.decode()
    assert 'data-seconds-full="900"' in page
    assert "You will be signed out soon" in page and "Stay signed in" in page


def test_signed_out_pages_have_no_warning() -> None:
    assert "data-timeout" not in Client().get(reverse("accounts:login")).content.decode()


def test_an_idle_session_ends_on_the_server_as_the_warning_said() -> None:
    client = login(Client(), PatientFactory())
    client.get(reverse("accounts:security"))
    session = client.session
    session["last_seen"] = time.time() - 31 * 60
    session.save()
    assert client.post(reverse("accounts:keep_alive"))["Location"].startswith(reverse("accounts:login"))
