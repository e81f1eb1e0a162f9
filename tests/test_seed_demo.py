from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tests.factories import publish_consent_v1

pytestmark = pytest.mark.django_db


def test_seeding_twice_keeps_one_set_of_accounts_and_prints_staff_totp_secrets() -> None:
    publish_consent_v1()  # a transactional test run earlier may have flushed the migration's copy
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    assert User.objects.count() == 4
    assert TOTPDevice.objects.count() == 3
    # The same accounts and secrets printed again; the demo case is made (and announced) once.
    assert "demo case" in first.getvalue() and "demo case" not in second.getvalue()
    assert first.getvalue().split("  demo case")[0] == second.getvalue()
    assert first.getvalue().count("otpauth://totp/") == 3


def test_the_demo_patient_can_sign_in() -> None:
    call_command("seed_demo", stdout=StringIO())
    client = Client()
    response = client.post("/accounts/login/", {"username": "patient@example.org", "password": "demo-password-2026"})
    assert response["Location"] == "/home/"
    assert client.get("/patient/").status_code == 200
