"""A case nobody can take is not accepted, and never promised a date: the patient hears which
specialties are given where before starting, at the country step and before submitting; a
waiting case that loses its last specialist is flagged to admins with what to do."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cases import coverage
from cases.models import Case, Status
from cases.services import NotReady, case_submit
from tests.cases.helpers import ready_case, step_url
from tests.factories import AdminFactory, CaseFactory, PatientFactory, SpecialistFactory, add_totp, login

pytestmark = pytest.mark.usefixtures("consent_version")


@pytest.fixture
def dermatologist_in_spain(db: Any) -> User:
    return SpecialistFactory(profile__specialties=["dermatology"], profile__jurisdictions=["ES", "MX"])


def test_the_start_page_says_which_specialties_are_given_where(
    patient_client: Client, dermatologist_in_spain: User
) -> None:
    SpecialistFactory(profile__specialties=["cardiology"], profile__jurisdictions=["PT"], is_active=False)
    page = patient_client.get(reverse("cases:start")).content.decode()
    assert "Dermatology" in page and "Mexico, Spain" in page
    assert "Cardiology" not in page  # its only specialist is deactivated
    assert "3 days" in page


def test_the_country_step_refuses_a_country_where_nobody_gives_that_specialty(
    patient_client: Client, patient_a: User, dermatologist_in_spain: User
) -> None:
    case = CaseFactory(patient=patient_a, country="")
    response = patient_client.post(step_url(case.pk, "country"), {"country": "PE"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "We have no specialist in dermatology licensed in Peru yet" in page
    assert "Dermatology is available for patients living in: Mexico, Spain." in page
    case.refresh_from_db()
    assert case.country == ""
    assert patient_client.post(step_url(case.pk, "country"), {"country": "MX"}).status_code == 302


def test_the_country_step_in_spanish_names_the_country_in_spanish(dermatologist_in_spain: User) -> None:
    patient = PatientFactory(language="es")
    case = CaseFactory(patient=patient, country="")
    response = login(Client(), patient).post(step_url(case.pk, "country"), {"country": "DE"})
    page = response.content.decode()
    assert "No tenemos ningún especialista en dermatología con licencia en Alemania" in page
    assert "España, México" in page


def test_a_specialty_changed_afterwards_is_checked_against_the_country(
    patient_client: Client, patient_a: User, dermatologist_in_spain: User
) -> None:
    case = CaseFactory(patient=patient_a, country="ES")
    response = patient_client.post(step_url(case.pk, "specialty") + "?from=check", {"specialty": "cardiology"})
    assert response.status_code == 200
    assert "We have no specialist in cardiology licensed in Spain yet" in response.content.decode()
    assert patient_client.post(step_url(case.pk, "specialty"), {"specialty": "not_sure"}).status_code == 302


def test_a_case_nobody_can_take_is_not_submitted_and_no_date_is_promised(
    patient_client: Client, patient_a: User, dermatologist_in_spain: User, django_capture_on_commit_callbacks: Any
) -> None:
    case = ready_case(patient_a)
    dermatologist_in_spain.is_active = False
    dermatologist_in_spain.save()
    check = patient_client.get(reverse("cases:check", args=[case.pk])).content.decode()
    assert "We have no specialist in dermatology licensed in Spain yet" in check
    with django_capture_on_commit_callbacks(execute=True):
        response = patient_client.post(reverse("cases:submit", args=[case.pk]))
    case.refresh_from_db()
    assert case.status == Status.DRAFT and case.due_at is None
    assert response.status_code in (200, 302)
    assert not mail.outbox
    with pytest.raises(NotReady):
        case_submit(actor=patient_a, case=case)


def test_a_second_opinion_needs_another_specialist(patient_a: User, dermatologist_in_spain: User) -> None:
    case = CaseFactory(patient=patient_a, status=Status.TRIAGE, round=2)
    case.reports.create(author=dermatologist_in_spain, round=1)
    assert not coverage.can_be_taken(case)
    SpecialistFactory()  # another dermatologist licensed in Spain
    assert coverage.can_be_taken(case)


def _stranded_case(patient: User) -> Case:
    case = ready_case(patient, country="PE", status=Status.SUBMITTED)
    return case


def test_admins_see_stranded_cases_on_the_console_first_page_with_what_to_do(
    patient_a: User, dermatologist_in_spain: User
) -> None:
    stranded = _stranded_case(patient_a)
    covered = ready_case(patient_a, status=Status.SUBMITTED)
    admin = AdminFactory()
    add_totp(admin)
    page = login(Client(), admin).get(reverse("console:console")).content.decode()
    assert "Cases no specialist can take" in page
    assert stranded.reference in page and covered.reference not in page
    assert "Peru" in page and "Dermatology" in page
    assert reverse("console:invite") in page
    assert "licensed in Peru" in page


def test_the_patient_of_a_stranded_case_is_told_the_truth(
    patient_client: Client, patient_a: User, dermatologist_in_spain: User
) -> None:
    case = _stranded_case(patient_a)
    Case.objects.filter(pk=case.pk).update(submitted_at=timezone.now(), due_at=timezone.now())
    page = patient_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Answer expected by" not in page
    assert "We are looking for a specialist licensed in Peru" in page
