"""The footer's pages (issue 15, item 17): a privacy notice (GDPR Art. 13: who we are, what we
keep, for how long, the rights, whom to contact), an accessibility statement, the cookies page and
the contact page; the clinic's details are settings an admin edits, and the MFA-reset e-mail says
how to reach the clinic."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from console import services as console_services
from core.models import ClinicDetails
from lifecycle.models import RetentionPolicy
from tests.factories import PASSWORD, PatientFactory, SpecialistFactory

pytestmark = pytest.mark.django_db

PAGES = {
    "privacy": ("Privacy notice", "Aviso de privacidad"),
    "accessibility": ("Accessibility statement", "Declaración de accesibilidad"),
    "cookies": ("Cookies", "Cookies"),
    "contact": ("Contact us", "Contacto"),
}
CLINIC = {
    "name": "Clínica Segunda S.L.",
    "address": "Calle Mayor 5\n28013 Madrid",
    "email": "ayuda@clinica.example",
    "phone": "+34 910 123 456",
    "hours": "Monday to Friday, 9 to 17",
    "dpo_name": "Ana DPO",
    "dpo_email": "dpo@clinica.example",
}


def _h1(html: str) -> str:
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


@pytest.mark.parametrize(("language", "index"), [("en", 0), ("es", 1)])
def test_every_page_links_to_the_four_footer_pages_and_anyone_can_read_them(language: str, index: int) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    landing = client.get(reverse("landing")).content.decode()
    for name, titles in PAGES.items():
        assert f'href="{reverse(name)}"' in landing, name
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert _h1(response.content.decode()) == titles[index]


def _save_clinic(admin_client: Client, **changes: str) -> Any:
    return admin_client.post(reverse("console:console_clinic"), {**CLINIC, **changes}, follow=True)


def test_an_admin_saves_the_clinics_details_and_the_contact_and_privacy_pages_show_them(
    admin_client_verified: Client,
) -> None:
    response = _save_clinic(admin_client_verified)
    assert "Clinic details saved." in response.content.decode()
    event = AuditEvent.objects.get(event_type="clinic.update")
    assert event.detail == {"fields": list(CLINIC)}  # which fields, not their values

    contact = Client().get(reverse("contact")).content.decode()
    assert 'href="tel:+34910123456"' in contact and 'href="mailto:ayuda@clinica.example"' in contact
    assert "Clínica Segunda S.L." in contact and "Calle Mayor 5<br>28013 Madrid" in contact
    privacy = Client().get(reverse("privacy")).content.decode()
    assert "Clínica Segunda S.L. runs this service and is responsible for your data" in privacy
    assert "Ana DPO" in privacy and 'href="mailto:dpo@clinica.example"' in privacy

    again = _save_clinic(admin_client_verified)
    assert "Nothing changed." in again.content.decode()
    assert AuditEvent.objects.filter(event_type="clinic.update").count() == 1


def test_a_wrong_phone_or_missing_name_says_what_was_typed_and_what_to_type(admin_client_verified: Client) -> None:
    response = admin_client_verified.post(reverse("console:console_clinic"), {**CLINIC, "phone": "call us", "name": ""})
    page = response.content.decode()
    assert response.status_code == 400
    assert "“call us” is not a telephone number. Enter digits, with the country code" in page
    assert "Enter the clinic&#x27;s name" in page
    assert not ClinicDetails.objects.exists()


def test_the_console_asks_for_contact_details_until_patients_can_reach_the_clinic(
    admin_client_verified: Client,
) -> None:
    home = admin_client_verified.get(reverse("console:console")).content.decode()
    assert "Patients have no way to contact the clinic" in home
    assert reverse("console:console_clinic") in home
    contact = Client().get(reverse("contact")).content.decode()
    assert "has not published an e-mail address or telephone number" in contact

    _save_clinic(admin_client_verified, phone="")
    assert (
        "Patients have no way to contact the clinic"
        not in admin_client_verified.get(reverse("console:console")).content.decode()
    )


def test_the_privacy_notice_gives_the_retention_periods_in_force(admin_user: Any) -> None:
    RetentionPolicy.objects.create(country="ES", keep_days=5 * 365)
    RetentionPolicy.objects.create(country="MX", keep_days=90)
    page = Client().get(reverse("privacy")).content.decode()
    table = page.split('data-testid="retention-periods"', 1)[1].split("</table>", 1)[0]
    assert "<td>Mexico</td><td>90 days</td>" in table and "<td>Spain</td><td>5 years</td>" in table
    assert "<td>Any other country</td><td>10 years</td>" in table
    assert "The security record is kept for 6 years" in page
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es").get(reverse("privacy")).content.decode()
    assert "<td>España</td><td>5 años</td>" in spanish


def test_the_cookies_page_lists_every_cookie_a_visit_sets(admin_client_verified: Client) -> None:
    SpecialistFactory()
    patient = PatientFactory()
    client = Client()
    client.get(reverse("accounts:login"))
    client.post(reverse("accounts:login"), {"username": patient.email, "password": PASSWORD})
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    _save_clinic(admin_client_verified)  # a notice ("saved") on the next page
    set_by_visits = set(client.cookies) | set(admin_client_verified.cookies)
    assert {"so_session", "csrftoken", "django_language"} <= set_by_visits
    table = Client().get(reverse("cookies")).content.decode().split('data-testid="cookies"', 1)[1]
    listed = {cell.split("</code>", 1)[0] for cell in table.split("<code>")[1:]}
    assert set_by_visits <= listed, set_by_visits - listed


def test_the_mfa_reset_email_says_how_to_reach_the_clinic(
    admin_user: Any, admin_client_verified: Client, django_capture_on_commit_callbacks: Any
) -> None:
    _save_clinic(admin_client_verified)
    specialist = SpecialistFactory()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        console_services.user_mfa_reset(user=specialist, by=admin_user)
    (message,) = [m for m in mail.outbox if m.to == [specialist.email]]
    assert "contact the clinic now" in message.body
    assert "ayuda@clinica.example" in message.body and "+34 910 123 456" in message.body
    html = str(message.alternatives[0][0])
    assert 'href="mailto:ayuda@clinica.example"' in html and 'href="tel:+34910123456"' in html


def test_before_the_details_are_saved_the_mfa_reset_email_links_the_contact_page(
    admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    specialist = SpecialistFactory()
    with django_capture_on_commit_callbacks(execute=True):
        console_services.user_mfa_reset(user=specialist, by=admin_user)
    (message,) = [m for m in mail.outbox if m.to == [specialist.email]]
    assert "/contact/" in message.body
