from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.stepup import stepup_required
from tests.accounts.mfa_helpers import THROTTLED, WRONG, page_text, wrong_codes
from tests.factories import PASSWORD, PatientFactory, SpecialistFactory, add_totp, login, totp_code

pytestmark = pytest.mark.django_db


@stepup_required
def _sensitive(request: HttpRequest) -> HttpResponse:
    return HttpResponse("done")


def _request(client: Client) -> HttpRequest:
    request = RequestFactory().get("/sensitive/")
    request.session = client.session
    return request


def test_it_asks_for_a_fresh_code_and_expires_after_five_minutes(specialist_client: Client, specialist: Any) -> None:
    with time_machine.travel("2026-02-01 10:00", tick=False) as traveller:
        assert _sensitive(_request(specialist_client))["Location"] == "/accounts/security/step-up/?next=%2Fsensitive%2F"
        device = TOTPDevice.objects.get(user=specialist)
        response = specialist_client.post(
            "/accounts/security/step-up/", {"code": totp_code(device), "next": "/sensitive/"}
        )
        assert response["Location"] == "/sensitive/"
        assert _sensitive(_request(specialist_client)).content == b"done"
        traveller.shift(timedelta(minutes=6))
        assert _sensitive(_request(specialist_client)).status_code == 302


def test_a_wrong_code_does_not_step_up(specialist_client: Client) -> None:
    response = specialist_client.post("/accounts/security/step-up/", {"code": "123456"})
    assert response.status_code == 200
    assert "stepup_at" not in specialist_client.session


def test_a_patient_without_mfa_confirms_with_the_password(patient_client: Client) -> None:
    assert b"needs your password again" in patient_client.get("/accounts/security/step-up/").content
    assert patient_client.post("/accounts/security/step-up/", {"password": "wrong"}).status_code == 200
    response = patient_client.post(
        "/accounts/security/step-up/", {"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/accounts/security/"  # never an outside redirect
    assert "stepup_at" in patient_client.session


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_right_code_while_throttled_says_to_wait(language: str) -> None:
    user = SpecialistFactory(language=language)
    device = add_totp(user)
    with time_machine.travel("2026-03-02 10:00", tick=False) as traveller:
        client = login(Client(), user)
        wrong_codes(client, "/accounts/security/step-up/", device, traveller, language)
        response = client.post("/accounts/security/step-up/", {"code": totp_code(device)})
        assert response.status_code == 200
        assert THROTTLED[language] in page_text(response) and WRONG[language] not in page_text(response)
        assert "stepup_at" not in client.session
        traveller.shift(timedelta(seconds=5))
        response = client.post("/accounts/security/step-up/", {"code": totp_code(device)})
        assert response["Location"] == "/accounts/security/" and "stepup_at" in client.session


def test_the_password_step_up_stops_guessing_after_five_tries() -> None:
    """Codes are throttled by django-otp; the password step-up of patients without a second
    factor was not, so a stolen session could guess the password forever."""
    client = login(Client(), PatientFactory())
    url = reverse("accounts:step_up")
    for _ in range(5):
        assert "That is not right" in client.post(url, {"password": "guess"}).content.decode()
    page = client.post(url, {"password": PASSWORD}).content.decode()
    assert "Too many wrong passwords. Wait 15 minutes" in page
    assert "stepup_at" not in client.session
