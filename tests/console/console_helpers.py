"""Shared by the admin console tests: a second admin, and a real step-up with the admin's code."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import AdminFactory, add_totp, login, totp_code


def signed_in_admin() -> tuple[Any, Client]:
    admin = AdminFactory()
    add_totp(admin)
    return admin, login(Client(), admin)


def step_up(client: Client, user: Any) -> None:
    response = client.post("/accounts/security/step-up/", {"code": totp_code(TOTPDevice.objects.get(user=user))})
    assert response.status_code == 302, "the step-up code was refused"
