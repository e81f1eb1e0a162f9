from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Role, User
from audit.models import AuditEvent
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db

FORM = {
    "full_name": "Ana Canary",
    "email": "Ana@Example.org",
    "language": "es",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def _link(message: Any) -> str:
    return re.search(r"http://[^/\s]+(/\S+)", message.body).group(1)


def test_it_creates_an_unverified_patient_and_sends_the_link(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/register/", FORM)
    assert response["Location"] == "/accounts/register/check-email/"
    user = User.objects.get(email="ana@example.org")
    assert (user.role, user.email_verified, user.language) == (Role.PATIENT, False, "es")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Confirme su dirección de correo electrónico"
    # Not the typed name: anybody can register anybody's address, with any words as a "name".
    assert "Ana Canary" not in mail.outbox[0].body
    assert AuditEvent.objects.filter(event_type="register", actor=user).count() == 1


def test_the_link_verifies_the_address_and_allows_sign_in(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/register/", FORM)
    refused = client.post("/accounts/login/", {"username": "ana@example.org", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    response = client.get(_link(mail.outbox[0]))
    assert response["Location"] == "/accounts/login/"
    assert User.objects.get(email="ana@example.org").email_verified
    response = client.post("/accounts/login/", {"username": "ana@example.org", "password": PASSWORD})
    assert response["Location"] == "/home/"


def test_it_does_not_reveal_that_an_address_has_an_account(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    PatientFactory(email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/register/", FORM)
    assert response["Location"] == "/accounts/register/check-email/"
    assert User.objects.filter(email="ana@example.org").count() == 1
    assert mail.outbox[0].subject == "Someone tried to create an account with your address"


def test_it_keeps_what_was_typed_and_explains_each_error(client: Client) -> None:
    response = client.post("/accounts/register/", {**FORM, "email": "not-an-address", "password2": "different"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in html
    assert "There is a problem" in html
    assert 'href="#id_email"' in html and 'href="#id_password2"' in html
    assert "The two passwords are different" in html
    assert 'value="Ana Canary"' in html  # nothing typed is lost
    assert not User.objects.exists()


def test_it_refuses_a_weak_password(client: Client) -> None:
    response = client.post("/accounts/register/", {**FORM, "password1": "password123", "password2": "password123"})
    assert "This password is too short" in response.content.decode() or "too common" in response.content.decode()
    assert not User.objects.exists()


def test_posting_a_role_does_not_make_an_admin(client: Client) -> None:
    client.post("/accounts/register/", {**FORM, "role": "admin", "is_staff": "1", "email_verified": "1"})
    user = User.objects.get()
    assert (user.role, user.is_staff, user.email_verified) == (Role.PATIENT, False, False)


def test_a_tampered_link_is_refused(client: Client) -> None:
    assert client.get("/accounts/verify-email/abc:def/").status_code == 400
