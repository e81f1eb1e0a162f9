"""Date of birth and sex (and, if the patient wishes, gender identity): asked once, in the first
case or on the account page, kept with the account, shown to the specialist, printed in the PDF
and exported in the FHIR Patient. (Before: no age or sex was asked anywhere.)"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cases.services import submission_problems
from lifecycle.fhir import _patient
from tests.cases.helpers import ready_case, step_url
from tests.factories import CaseFactory, PatientFactory, SpecialistFactory, add_totp, login

pytestmark = pytest.mark.usefixtures("consent_version")

DOB = {"birth_date_0": "17", "birth_date_1": "5", "birth_date_2": "1961"}


def test_the_first_case_asks_and_the_answers_stay_with_the_account(db: Any) -> None:
    patient = PatientFactory(birth_date=None, sex="")
    client = login(Client(), patient)
    case = CaseFactory(patient=patient)
    page = client.get(step_url(case.pk, "about-you")).content.decode()
    assert "Date of birth" in page and "Sex recorded at birth" in page and "Gender identity (optional)" in page

    response = client.post(step_url(case.pk, "about-you"), {**DOB, "sex": "male", "gender_identity": "Non-binary"})
    assert response.status_code == 302 and response["Location"] == step_url(case.pk, "reason")
    patient.refresh_from_db()
    assert (patient.birth_date, patient.sex, patient.gender_identity) == (date(1961, 5, 17), "male", "Non-binary")

    second = CaseFactory(patient=patient)
    page = client.get(step_url(second.pk, "about-you")).content.decode()
    assert 'value="1961"' in page and re.search(r'value="male"[^>]* checked', page)
    check = client.get(reverse("cases:check", args=[second.pk])).content.decode()
    assert "17 May 1961" in check and "Male" in check and "Non-binary" in check


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"sex": "female"}, "Enter your date of birth."),
        ({**DOB}, "Choose the sex recorded at your birth."),
        ({"birth_date_0": "1", "birth_date_1": "1", "birth_date_2": "2999", "sex": "female"}, "today or in the past"),
        ({"birth_date_0": "1", "birth_date_1": "1", "birth_date_2": "1901", "sex": "female"}, "more than 120 years"),
    ],
)
def test_missing_or_impossible_answers_say_what_to_do(db: Any, data: dict[str, str], error: str) -> None:
    patient = PatientFactory(birth_date=None, sex="")
    case = CaseFactory(patient=patient)
    response = login(Client(), patient).post(step_url(case.pk, "about-you"), data)
    assert response.status_code == 200 and error in response.content.decode()
    patient.refresh_from_db()
    assert patient.birth_date is None and patient.sex == ""


def test_a_case_is_not_sent_without_them(db: Any, every_specialty_in_spain: Any) -> None:
    case = ready_case(PatientFactory(birth_date=None, sex=""))
    assert "Tell us your date of birth and sex." in submission_problems(case)


def test_the_account_page_changes_them(db: Any) -> None:
    patient = PatientFactory()
    client = login(Client(), patient)
    assert reverse("cases:about_you") in client.get(reverse("accounts:security")).content.decode()
    response = client.post(reverse("cases:about_you"), {**DOB, "sex": "intersex"}, follow=True)
    assert "Your details are saved." in response.content.decode()
    patient.refresh_from_db()
    assert (patient.birth_date, patient.sex) == (date(1961, 5, 17), "intersex")


def test_the_specialist_sees_age_and_sex_and_fhir_exports_them(db: Any) -> None:
    patient = PatientFactory(birth_date=date(1961, 5, 17), sex="intersex", gender_identity="Woman")
    specialist = SpecialistFactory()
    add_totp(specialist)
    case = CaseFactory(patient=patient, specialist=specialist, status="in_review")
    page = login(Client(), specialist).get(reverse("reports:workspace", args=[case.pk])).content.decode()
    assert f"{patient.age} years old" in page and "born 17 May 1961" in page
    assert "Intersex" in page and "gender identity: Woman" in page

    class Plan:
        pass

    plan = Plan()
    plan.patient = patient  # type: ignore[attr-defined]
    resource = _patient(plan)  # type: ignore[arg-type]
    assert resource["birthDate"] == "1961-05-17" and resource["gender"] == "other"
    assert resource["extension"][0]["valueCodeableConcept"]["text"] == "Woman"
