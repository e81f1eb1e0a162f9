from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _signed_in(user: Any) -> Client:
    client = Client()
    client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    return client


def test_a_patient_is_signed_out_after_30_idle_minutes(patient_a: Any) -> None:
    with time_machine.travel("2026-01-05 09:00", tick=False) as traveller:
        client = _signed_in(patient_a)
        traveller.shift(timedelta(minutes=29))
        assert client.get("/patient/").status_code == 200
        traveller.shift(timedelta(minutes=29))  # activity resets the idle clock
        assert client.get("/patient/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get("/patient/")
        assert response["Location"] == "/accounts/login/?next=%2Fpatient%2F"
        assert client.get("/patient/").status_code == 302  # really signed out


def test_staff_are_signed_out_after_15_idle_minutes(specialist: Any) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import totp_code

    with time_machine.travel("2026-01-05 09:00", tick=False) as traveller:
        client = _signed_in(specialist)
        client.post("/accounts/mfa/verify/", {"code": totp_code(TOTPDevice.objects.get(user=specialist))})
        traveller.shift(timedelta(minutes=14))
        assert client.get("/specialist/").status_code == 200
        traveller.shift(timedelta(minutes=16))
        assert client.get("/specialist/")["Location"].startswith("/accounts/login/")


def test_no_session_lasts_more_than_12_hours(patient_a: Any) -> None:
    with time_machine.travel("2026-01-05 08:00", tick=False) as traveller:
        client = _signed_in(patient_a)
        minutes = 0
        while client.get("/patient/").status_code == 200 and minutes < 24 * 60:
            traveller.shift(timedelta(minutes=25))  # active every 25 minutes all day
            minutes += 25
        assert 12 * 60 <= minutes < 12 * 60 + 25


def test_session_cookies_are_httponly_and_samesite(client: Client, patient_a: Any) -> None:
    client.post("/accounts/login/", {"username": patient_a.email, "password": PASSWORD})
    cookie = client.cookies["so_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
