from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Role, User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long new password for me"
INVITE = {
    "full_name": "Dr Canary",
    "email": "dr@example.org",
    "role": "specialist",
    "language": "en",
    "licence_number": "ES-123",
    "specialties": ["dermatology", "oncology"],
    "jurisdictions": "es, mx",
}


def _path(message: Any) -> str:
    return re.search(r"http://[^/\s]+(/\S+)", message.body).group(1)


def test_an_admin_invites_a_specialist_who_sets_a_password_then_enrols(
    admin_client_verified: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_verified.post("/console/invite/", INVITE)
    assert response["Location"] == "/console/"
    user = User.objects.get(email="dr@example.org")
    assert user.role == Role.SPECIALIST and not user.has_usable_password()
    profile = user.specialist_profile
    assert (profile.specialties, profile.jurisdictions, profile.licence_number) == (
        ["dermatology", "oncology"],
        ["ES", "MX"],
        "ES-123",
    )
    assert AuditEvent.objects.filter(event_type="invite.sent", entity_id=str(user.pk)).exists()

    invitee = Client()
    form_page = invitee.get(_path(mail.outbox[0]), follow=True)
    assert b"Accept your invitation" in form_page.content
    response = invitee.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == "/accounts/mfa/enrol/"
    assert invitee.get("/specialist/")["Location"].startswith("/accounts/mfa/enrol/")
    user.refresh_from_db()
    assert user.email_verified and user.check_password(NEW_PASSWORD)
    # The link works once.
    assert b"This invitation link does not work" in Client().get(_path(mail.outbox[0]), follow=True).content


def test_a_specialist_invitation_needs_licence_specialty_and_jurisdiction(admin_client_verified: Client) -> None:
    response = admin_client_verified.post(
        "/console/invite/", {**INVITE, "licence_number": "", "specialties": [], "jurisdictions": "xx-!"}
    )
    html = response.content.decode()
    assert "Enter the specialist&#x27;s licence number." in html
    assert "Choose at least one specialty." in html
    assert "is not a country or region code" in html
    assert not User.objects.filter(email="dr@example.org").exists()


def test_an_address_cannot_be_invited_twice(admin_client_verified: Client, patient_a: Any) -> None:
    response = admin_client_verified.post("/console/invite/", {**INVITE, "email": patient_a.email})
    assert "There is already an account with this e-mail address." in response.content.decode()


def test_only_admins_can_invite(specialist_client: Client, patient_client: Client) -> None:
    assert specialist_client.post("/console/invite/", INVITE).status_code == 404
    assert patient_client.post("/console/invite/", INVITE).status_code == 404
    assert not User.objects.filter(email="dr@example.org").exists()
