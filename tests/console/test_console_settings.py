"""Turnaround per specialty and consent versions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from cases.models import Case, ConsentAcceptance, ConsentVersion, RequestedSpecialty, SpecialtySetting, Status
from tests.factories import CaseFactory, publish_consent_v1

pytestmark = pytest.mark.django_db

URL = "/console/turnaround/"


def _hours(**changes: Any) -> dict[str, Any]:
    return {code: 72 for code in RequestedSpecialty.values} | changes


def test_every_specialty_is_listed_with_its_turnaround_or_the_default(
    admin_client_verified: Client, settings: Any
) -> None:
    settings.DEFAULT_TURNAROUND_HOURS = 96
    SpecialtySetting.objects.create(specialty="oncology", turnaround_hours=48)
    page = admin_client_verified.get(URL).content.decode()
    for _code, label in RequestedSpecialty.choices:
        assert str(label) in page
    assert 'name="oncology" value="48"' in page and 'name="cardiology" value="96"' in page


def test_changing_a_turnaround_saves_and_audits_only_the_change(admin_client_verified: Client) -> None:
    response = admin_client_verified.post(URL, _hours(oncology=48, not_sure=120))
    assert response["Location"] == URL
    assert SpecialtySetting.turnaround_for("oncology").total_seconds() == 48 * 3600
    assert SpecialtySetting.turnaround_for("not_sure").total_seconds() == 120 * 3600
    assert AuditEvent.objects.get(event_type="turnaround.update").detail == {"not_sure": 120, "oncology": 48}


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "Enter the turnaround for Oncology in hours."),
        ("two days", "Enter the turnaround for Oncology as a whole number of hours, like 72."),
        ("0", "The turnaround must be at least 1 hour."),
        ("2161", "The turnaround must be at most 2160 hours (90 days)."),
    ],
)
def test_bad_values_are_rejected_with_a_clear_message(admin_client_verified: Client, value: str, error: str) -> None:
    response = admin_client_verified.post(URL, _hours(oncology=value, cardiology=10))
    page = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in page and page.count(error) == 2
    assert not SpecialtySetting.objects.exists()  # nothing saved, not even the good value


def test_the_consent_list_counts_the_cases_that_accepted_each_version(admin_client_verified: Client) -> None:
    v1 = publish_consent_v1()
    for case in CaseFactory.create_batch(2):
        ConsentAcceptance.objects.create(case=case, version=v1, text_sha256="0" * 64, language="en")
    page = admin_client_verified.get("/console/consent/").content.decode()
    assert "Version 1" in page and "<td>2</td>" in page
    version_page = admin_client_verified.get("/console/consent/1/").content.decode()
    assert v1.text_en.splitlines()[0][:40] in version_page
    assert admin_client_verified.get("/console/consent/99/").status_code == 404


def test_publishing_needs_both_texts(admin_client_verified: Client) -> None:
    publish_consent_v1()
    response = admin_client_verified.post("/console/consent/new/", {"text_en": "New terms", "text_es": " "})
    page = response.content.decode()
    assert "There is a problem" in page and page.count("Enter the consent text in Spanish.") == 2
    assert ConsentVersion.objects.count() == 1


def test_a_new_version_is_the_next_number_and_open_cases_are_asked_to_accept_it(
    admin_client_verified: Client, patient_client: Client, patient_a: Any
) -> None:
    v1 = publish_consent_v1()
    case = CaseFactory(patient=patient_a, status=Status.SUBMITTED)
    ConsentAcceptance.objects.create(case=case, version=v1, text_sha256="0" * 64, language="en")
    assert Case.objects.unassigned().filter(pk=case.pk).exists()
    form = admin_client_verified.get("/console/consent/new/").content.decode()
    assert "This will be version 2" in form and "notice on their case page" in form

    response = admin_client_verified.post(
        "/console/consent/new/", {"text_en": "New terms", "text_es": "Nuevos términos"}
    )
    assert response["Location"] == "/console/consent/"
    assert ConsentVersion.current().version == 2
    assert AuditEvent.objects.get(event_type="consent.publish").detail == {"version": 2}
    # What the page promises: the patient is asked, and the case leaves the queue until they accept.
    assert "We have updated the consent" in patient_client.get(f"/cases/{case.pk}/").content.decode()
    assert not Case.objects.unassigned().filter(pk=case.pk).exists()


def test_the_page_shows_the_median_turnaround_of_the_last_90_days(admin_client_verified: Client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from cases.models import CaseEvent

    now = timezone.now()
    for hours, days_ago in ((10, 1), (30, 5), (500, 100)):  # the last one is too old to count
        submitted = now - timedelta(days=days_ago, hours=hours)
        case = CaseFactory(specialty="oncology", status=Status.REPORT_READY, submitted_at=submitted)
        CaseEvent.objects.create(
            case=case,
            old_status=Status.IN_REVIEW,
            new_status=Status.REPORT_READY,
            at=submitted + timedelta(hours=hours),
        )
    page = admin_client_verified.get(URL).content.decode()
    assert "Last 90 days: median 20 hours to the report (2 cases)." in page
    assert "No reports in the last 90 days." in page  # the other specialties
