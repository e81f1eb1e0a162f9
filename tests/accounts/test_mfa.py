from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.accounts.mfa_helpers import THROTTLED, WRONG, page_text, wrong_codes
from tests.cases.helpers import last_event_id, origins_since
from tests.factories import PASSWORD, PatientFactory, SpecialistFactory, add_totp, login, totp_code

pytestmark = pytest.mark.django_db


def _password_login(client: Client, user: Any) -> None:
    assert client.post("/accounts/login/", {"username": user.email, "password": PASSWORD}).status_code == 302


def _secret_from_page(html: str) -> bytes:
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def test_a_new_specialist_must_enrol_before_anything_else(client: Client) -> None:
    user = SpecialistFactory()
    _password_login(client, user)
    response = client.get("/specialist/")
    assert response["Location"].startswith("/accounts/mfa/enrol/")
    page = client.get("/accounts/mfa/enrol/")
    assert b"<svg" in page.content  # the QR code
    key = _secret_from_page(page.content.decode())
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert device.bin_key == key
    response = client.post("/accounts/mfa/enrol/", {"code": totp_code(device)})
    assert response["Location"].startswith("/accounts/mfa/backup-codes/")
    codes = client.get(response["Location"])
    assert len(re.findall(r"<li><code>", codes.content.decode())) == 10
    assert client.get("/specialist/").status_code == 200
    assert AuditEvent.objects.filter(actor=user, event_type="mfa.enrol").exists()


def test_a_wrong_enrolment_code_is_explained(client: Client) -> None:
    user = SpecialistFactory()
    _password_login(client, user)
    client.get("/accounts/mfa/enrol/")
    response = client.post("/accounts/mfa/enrol/", {"code": "000000"})
    assert "That code is not right or has expired" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_verification_rotates_the_session_key(client: Client, specialist: Any) -> None:
    _password_login(client, specialist)
    before = client.cookies["so_session"].value
    device = TOTPDevice.objects.get(user=specialist)
    response = client.post("/accounts/mfa/verify/", {"code": totp_code(device)})
    assert response["Location"] == "/home/"
    assert client.cookies["so_session"].value != before
    stale = Client()
    stale.cookies["so_session"] = before
    assert stale.get("/specialist/").status_code == 302
    assert client.get("/specialist/").status_code == 200


def test_a_used_code_is_refused(client: Client, specialist: Any) -> None:
    device = TOTPDevice.objects.get(user=specialist)
    code = totp_code(device)
    _password_login(client, specialist)
    client.post("/accounts/mfa/verify/", {"code": code})
    other = Client()
    _password_login(other, specialist)
    response = other.post("/accounts/mfa/verify/", {"code": code})
    assert response.status_code == 200
    assert "has been used already" in response.content.decode()
    assert AuditEvent.objects.filter(actor=specialist, event_type="mfa.verify.failed").exists()


def test_a_backup_code_works_once(client: Client, specialist: Any) -> None:
    from accounts.services import backup_codes_regenerate

    code = backup_codes_regenerate(user=specialist)[0]
    _password_login(client, specialist)
    assert client.post("/accounts/mfa/verify/", {"code": code})["Location"] == "/home/"
    assert not StaticToken.objects.filter(token=code).exists()
    other = Client()
    _password_login(other, specialist)
    assert other.post("/accounts/mfa/verify/", {"code": code}).status_code == 200


def test_a_patient_may_skip_mfa_but_is_encouraged(patient_client: Client) -> None:
    page = patient_client.get("/patient/").content.decode()
    assert "Protect your medical files with two-step verification" in page


def test_a_patient_with_mfa_must_verify_too(client: Client) -> None:
    user = PatientFactory()
    add_totp(user)
    _password_login(client, user)
    assert client.get("/patient/")["Location"].startswith("/accounts/mfa/verify/")


def test_changing_a_factor_ends_the_other_sessions(specialist: Any) -> None:
    phone, laptop = login(Client(), specialist), login(Client(), specialist)
    device = TOTPDevice.objects.get(user=specialist)
    # Regenerating backup codes needs a fresh factor (step-up) first.
    phone.post("/accounts/security/step-up/", {"code": totp_code(device)})
    response = phone.post("/accounts/mfa/backup-codes/regenerate/")
    assert response["Location"] == "/accounts/mfa/backup-codes/"
    assert phone.get("/specialist/").status_code == 200
    assert laptop.get("/specialist/")["Location"].startswith("/accounts/login/")


def test_staff_cannot_turn_mfa_off(specialist_client: Client, specialist: Any) -> None:
    device = TOTPDevice.objects.get(user=specialist)
    specialist_client.post("/accounts/security/step-up/", {"code": totp_code(device)})
    specialist_client.post("/accounts/mfa/remove/")
    assert TOTPDevice.objects.filter(user=specialist).exists()


def test_a_patient_can_turn_mfa_off_after_step_up(client: Client) -> None:
    user = PatientFactory()
    device = add_totp(user)
    login(client, user)
    response = client.post("/accounts/mfa/remove/", HTTP_REFERER="/accounts/security/")
    assert response["Location"].startswith("/accounts/security/step-up/")
    assert TOTPDevice.objects.filter(user=user).exists()
    client.post("/accounts/security/step-up/", {"code": totp_code(device)})
    client.post("/accounts/mfa/remove/")
    assert not TOTPDevice.objects.filter(user=user).exists()


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_right_code_while_throttled_says_to_wait_not_that_it_is_wrong(client: Client, language: str) -> None:
    user = SpecialistFactory(language=language)
    device = add_totp(user)
    with time_machine.travel("2026-03-02 10:00", tick=False) as traveller:
        _password_login(client, user)
        wrong_codes(client, "/accounts/mfa/verify/", device, traveller, language)
        response = client.post("/accounts/mfa/verify/", {"code": totp_code(device)})
        assert response.status_code == 200
        assert THROTTLED[language] in page_text(response)
        assert WRONG[language] not in page_text(response)
        assert client.get("/specialist/")["Location"].startswith("/accounts/mfa/verify/")
        assert AuditEvent.objects.filter(actor=user, event_type="mfa.verify.failed", detail__throttled=True).exists()
        traveller.shift(timedelta(seconds=5))
        assert client.post("/accounts/mfa/verify/", {"code": totp_code(device)})["Location"] == "/home/"


def test_a_throttled_enrolment_code_says_to_wait(client: Client) -> None:
    user = SpecialistFactory()
    with time_machine.travel("2026-03-02 10:00", tick=False) as traveller:
        _password_login(client, user)
        client.get("/accounts/mfa/enrol/")
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        wrong_codes(client, "/accounts/mfa/enrol/", device, traveller, "en")
        response = client.post("/accounts/mfa/enrol/", {"code": totp_code(device)})
        assert THROTTLED["en"] in page_text(response) and WRONG["en"] not in page_text(response)
        assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_turning_mfa_off_records_the_patient_their_address_and_browser_and_this_session_goes_on() -> None:
    user = PatientFactory()
    device = add_totp(user)
    client = login(Client(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="Phone/2.0"), user)
    client.post("/accounts/security/step-up/", {"code": totp_code(device)})
    before = last_event_id()

    client.post("/accounts/mfa/remove/")

    assert not TOTPDevice.objects.filter(user=user).exists()
    assert origins_since(before).get("mfa.remove") == {(user.pk, "patient", "198.51.100.23", "Phone/2.0")}
    assert client.get("/patient/").status_code == 200
