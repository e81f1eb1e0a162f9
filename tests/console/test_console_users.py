from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import backup_codes_regenerate
from audit.models import AuditEvent
from tests.console.console_helpers import signed_in_admin, step_up
from tests.factories import AdminFactory, PatientFactory, SpecialistFactory, add_totp, login

pytestmark = pytest.mark.django_db


def _user_url(user: Any, action: str = "") -> str:
    return f"/console/users/{user.pk}/" + (f"{action}/" if action else "")


def test_the_user_list_filters_by_role_and_status(admin_client_verified: Client) -> None:
    specialist = SpecialistFactory(email="derm@example.org")
    gone = SpecialistFactory(email="gone@example.org", is_active=False)
    invited = AdminFactory(email="invited@example.org")
    invited.set_unusable_password()
    invited.save()
    PatientFactory(email="patient@example.org")

    page = admin_client_verified.get("/console/users/", {"role": "specialist"}).content.decode()
    assert specialist.email in page and gone.email in page and "patient@example.org" not in page
    page = admin_client_verified.get("/console/users/", {"role": "specialist", "status": "active"}).content.decode()
    assert specialist.email in page and gone.email not in page
    page = admin_client_verified.get("/console/users/", {"status": "invited"}).content.decode()
    assert invited.email in page and specialist.email not in page
    page = admin_client_verified.get("/console/users/", {"status": "deactivated"}).content.decode()
    assert gone.email in page and specialist.email not in page


def test_the_user_page_shows_metadata_and_the_specialist_profile(
    admin_client_verified: Client, admin_user: Any
) -> None:
    specialist = SpecialistFactory(invited_by=admin_user)
    add_totp(specialist)
    page = admin_client_verified.get(_user_url(specialist)).content.decode()
    for text in (
        specialist.email,
        specialist.full_name,
        "Specialist",
        "Set up",
        admin_user.email,
        specialist.specialist_profile.licence_number,
        "Dermatology",
        "ES",
    ):
        assert text in page, text
    assert admin_client_verified.get("/console/users/00000000-0000-4000-8000-000000000000/").status_code == 404


def test_deactivating_a_specialist_ends_their_session_at_once(admin_client_verified: Client, specialist: Any) -> None:
    theirs = login(Client(), specialist)
    assert theirs.get("/specialist/").status_code == 200
    assert b"Deactivate the account" in admin_client_verified.get(_user_url(specialist, "deactivate")).content

    response = admin_client_verified.post(_user_url(specialist, "deactivate"))
    assert response["Location"] == _user_url(specialist)

    assert theirs.get("/specialist/")["Location"].startswith("/accounts/login/")
    specialist.refresh_from_db()
    assert not specialist.is_active
    event = AuditEvent.objects.get(event_type="user.deactivate")
    assert event.entity_id == str(specialist.pk) and event.detail == {"role": "specialist"}


def test_a_deactivated_admins_old_session_is_refused(admin_client_verified: Client) -> None:
    other, their_client = signed_in_admin()
    assert their_client.get("/console/").status_code == 200
    admin_client_verified.post(_user_url(other, "deactivate"))
    assert their_client.get("/console/")["Location"].startswith("/accounts/login/")
    assert their_client.post(_user_url(other, "reactivate"))["Location"].startswith("/accounts/login/")
    assert not User.objects.get(pk=other.pk).is_active


def test_an_admin_cannot_deactivate_themselves(admin_client_verified: Client, admin_user: Any) -> None:
    AdminFactory()  # another admin exists, so only the "yourself" rule stops this
    response = admin_client_verified.post(_user_url(admin_user, "deactivate"), follow=True)
    assert "You cannot do this to your own account" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert not AuditEvent.objects.filter(event_type="user.deactivate").exists()


def test_the_last_active_admin_cannot_be_deactivated(admin_user: Any) -> None:
    from console import services as console_services

    other = AdminFactory(is_active=False)  # an inactive admin does not count
    with pytest.raises(console_services.Refused) as refused:
        console_services.user_deactivate(user=admin_user, by=other)
    assert refused.value.code == "last_admin"
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_a_deactivated_user_can_be_reactivated(admin_client_verified: Client) -> None:
    specialist = SpecialistFactory(is_active=False)
    assert admin_client_verified.get(_user_url(specialist, "reactivate")).status_code == 405
    admin_client_verified.post(_user_url(specialist, "reactivate"))
    specialist.refresh_from_db()
    assert specialist.is_active
    assert AuditEvent.objects.filter(event_type="user.reactivate", entity_id=str(specialist.pk)).exists()


def test_resetting_mfa_asks_for_a_fresh_factor(admin_client_verified: Client, specialist: Any) -> None:
    url = _user_url(specialist, "reset-mfa")
    assert admin_client_verified.get(url)["Location"].startswith("/accounts/security/step-up/")
    assert admin_client_verified.post(url)["Location"].startswith("/accounts/security/step-up/")
    assert TOTPDevice.objects.filter(user=specialist).exists()
    assert not mail.outbox


def test_resetting_mfa_removes_the_devices_ends_the_sessions_and_emails_the_user(
    admin_client_verified: Client, admin_user: Any, specialist: Any, django_capture_on_commit_callbacks: Any
) -> None:
    backup_codes_regenerate(user=specialist)
    theirs = login(Client(), specialist)
    assert theirs.get("/specialist/").status_code == 200
    step_up(admin_client_verified, admin_user)
    url = _user_url(specialist, "reset-mfa")
    assert b"Reset two-step verification" in admin_client_verified.get(url).content

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_verified.post(url)
    assert response["Location"] == _user_url(specialist)

    assert not TOTPDevice.objects.filter(user=specialist).exists()
    assert not StaticDevice.objects.filter(user=specialist).exists()
    assert theirs.get("/specialist/")["Location"].startswith("/accounts/login/")
    [message] = mail.outbox
    assert message.to == [specialist.email]
    assert "set up two-step verification again" in message.body
    assert AuditEvent.objects.filter(event_type="mfa.reset", entity_id=str(specialist.pk)).exists()


def test_an_admin_cannot_reset_their_own_mfa_here(admin_client_verified: Client, admin_user: Any) -> None:
    step_up(admin_client_verified, admin_user)
    response = admin_client_verified.post(_user_url(admin_user, "reset-mfa"), follow=True)
    assert "You cannot do this to your own account" in response.content.decode()
    assert TOTPDevice.objects.filter(user=admin_user).exists()


def test_editing_a_specialist_validates_like_the_invitation(admin_client_verified: Client, specialist: Any) -> None:
    url = _user_url(specialist, "specialist")
    response = admin_client_verified.post(url, {"licence_number": "", "jurisdictions": "es, nope!"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page and page.count("Enter the specialist&#x27;s licence number.") == 2
    assert "Choose at least one specialty." in page
    assert "“NOPE!” is not a country or region code such as ES or US-FL." in page

    response = admin_client_verified.post(
        url, {"licence_number": "MED-42", "specialties": ["oncology", "neurology"], "jurisdictions": "mx, es, us-fl"}
    )
    assert response["Location"] == _user_url(specialist)
    profile = specialist.specialist_profile
    profile.refresh_from_db()
    assert (profile.licence_number, profile.specialties, profile.jurisdictions) == (
        "MED-42",
        ["oncology", "neurology"],
        ["ES", "MX", "US-FL"],
    )
    assert AuditEvent.objects.get(event_type="specialist.update").detail["jurisdictions"] == ["ES", "MX", "US-FL"]


def test_a_patient_has_no_specialist_details_to_edit(admin_client_verified: Client, patient_a: Any) -> None:
    assert admin_client_verified.get(_user_url(patient_a, "specialist")).status_code == 404


def test_reading_a_patients_account_is_audited(admin_client_verified: Client, patient_a: Any) -> None:
    admin_client_verified.get(_user_url(patient_a))
    assert AuditEvent.objects.filter(event_type="user.read", patient_id=patient_a.pk).exists()


def test_the_dashboard_counts_users_waiting_cases_and_invitations(admin_client_verified: Client) -> None:
    SpecialistFactory.create_batch(2)
    invited = SpecialistFactory()
    invited.set_unusable_password()
    invited.save()
    dashboard = admin_client_verified.get("/console/").content.decode()
    assert "Active accounts: Specialist</dt><dd>3" in dashboard
    assert "Invitations not accepted yet</dt><dd><a" in dashboard
    for link in ("/console/users/", "/console/cases/", "/console/turnaround/", "/console/consent/", "/console/assign/"):
        assert f'href="{link}"' in dashboard
