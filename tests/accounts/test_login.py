from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str) -> Any:
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_passwords_are_hashed_with_argon2id(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = PatientFactory()
    assert user.password.startswith("argon2$argon2id$")


def test_login_gives_a_new_session_key(client: Client, patient_a: Any) -> None:
    client.get("/accounts/login/")
    client.cookies["so_session"] = "attacker-chosen-key"
    _login(client, patient_a.email, PASSWORD)
    assert client.cookies["so_session"].value != "attacker-chosen-key"
    assert client.get("/patient/").status_code == 200


def test_a_pre_login_session_is_dead_after_login(client: Client, patient_a: Any) -> None:
    client.get("/accounts/login/")
    client.session["probe"] = 1
    session = client.session
    session["probe"] = 1
    session.save()
    old_key = session.session_key
    _login(client, patient_a.email, PASSWORD)
    stale = Client()
    stale.cookies["so_session"] = old_key
    assert stale.get("/patient/").status_code == 302


def test_success_and_failure_are_audited(client: Client, patient_a: Any) -> None:
    _login(client, patient_a.email, "wrong password")
    _login(client, patient_a.email, PASSWORD)
    events = list(AuditEvent.objects.filter(actor=patient_a).values_list("event_type", "outcome"))
    assert ("login.failed", "4") in events and ("login", "0") in events


def test_it_locks_the_account_after_five_bad_passwords(client: Client, patient_a: Any) -> None:
    for _ in range(5):
        _login(client, patient_a.email, "wrong password")
    response = _login(client, patient_a.email, PASSWORD)
    assert response.status_code == 429
    assert "Account locked for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(event_type="lockout", actor=patient_a).exists()
    # Another account from another address is not affected.
    other = PatientFactory()
    assert _login(Client(REMOTE_ADDR="10.9.9.9"), other.email, PASSWORD).status_code == 302


def test_the_lockout_message_is_in_spanish_for_spanish_visitors(patient_a: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    for _ in range(6):
        response = _login(client, patient_a.email, "wrong password")
    assert response.status_code == 429
    assert 'lang="es"' in response.content.decode()
    assert "Account locked for 15 minutes" not in response.content.decode()


def test_a_wrong_password_error_is_clear_and_generic(client: Client) -> None:
    response = _login(client, "nobody@example.org", "whatever password")
    assert "The e-mail address or password is not right" in response.content.decode()


def test_a_deactivated_user_is_signed_out(patient_client: Client, patient_a: Any) -> None:
    patient_a.is_active = False
    patient_a.save()
    assert patient_client.get("/patient/").status_code == 302


def test_the_saved_language_is_used_after_sign_in(client: Client) -> None:
    user = PatientFactory(language="es")
    _login(client, user.email, PASSWORD)
    assert 'lang="es"' in client.get("/patient/").content.decode()


def test_the_switcher_saves_the_language_of_a_signed_in_user(patient_client: Client, patient_a: Any) -> None:
    patient_client.post("/i18n/setlang/", {"language": "es", "next": "/patient/"})
    patient_a.refresh_from_db()
    assert patient_a.language == "es"
