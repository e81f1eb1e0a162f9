"""The daily purge, in time travel: not a day early, purged after, legal holds kept, a country's
policy beats the default; the retention page and legal hold actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from accounts.models import PatientKey
from audit.models import AuditEvent
from cases.models import Case, Message, Status
from core import storage
from lifecycle.models import DeletionCertificate, RetentionPolicy
from lifecycle.retention import purge_expired
from lifecycle.tasks import purge_expired_task
from reports.models import SignedDocument
from tests.factories import PatientFactory
from tests.lifecycle.helpers import full_case, object_names
from uploads.models import Upload

CLOSED = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def policies(db: Any) -> None:
    RetentionPolicy.objects.create(country="", keep_days=30)
    RetentionPolicy.objects.create(country="MX", keep_days=365)


def test_a_closed_case_is_kept_until_its_period_ends_then_purged(policies: None) -> None:
    patient = PatientFactory()
    case = full_case(patient, closed_at=CLOSED)
    names = object_names(case)
    upload_ids = list(Upload.objects.filter(case=case).values_list("pk", flat=True))
    assert names and all(storage.exists(n) for n in names)

    with time_machine.travel(CLOSED + timedelta(days=29, hours=23), tick=False):
        assert purge_expired_task.delay().get()["cases"] == 0
    assert Case.objects.filter(pk=case.pk).exists()
    assert all(storage.exists(n) for n in names)

    with time_machine.travel(CLOSED + timedelta(days=30, minutes=1), tick=False):
        counts = purge_expired_task.delay().get()
    assert counts == {"cases": 1, "patients": 1, "certificates": 1, "held": 0}
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not Upload.objects.filter(pk__in=upload_ids).exists()
    assert not SignedDocument.objects.filter(report__case_id=case.pk).exists()
    assert not Message.objects.filter(case_id=case.pk).exists()
    assert not any(storage.exists(n) for n in names)
    # The patient has nothing left: their key protects nothing and is destroyed.
    assert not PatientKey.objects.live().filter(patient=patient).exists()
    certificate = DeletionCertificate.objects.get(patient_ref=patient.pk)
    assert certificate.kind == "retention" and case.reference in certificate.content
    assert AuditEvent.objects.filter(event_type="retention.purge", patient_id=patient.pk).count() == 1
    assert AuditEvent.objects.filter(event_type="case.purge", case_id=case.pk).count() == 1


def test_a_legal_hold_stops_the_purge(policies: None) -> None:
    case = full_case(PatientFactory(), closed_at=CLOSED)
    Case.objects.filter(pk=case.pk).update(legal_hold_reason="litigation")
    with time_machine.travel(CLOSED + timedelta(days=400), tick=False):
        assert purge_expired()["cases"] == 0
    assert Case.objects.filter(pk=case.pk).exists()
    assert all(storage.exists(n) for n in object_names(case))


def test_a_countrys_policy_beats_the_default(policies: None) -> None:
    spain = full_case(PatientFactory(), closed_at=CLOSED, country="ES")
    mexico = full_case(PatientFactory(), closed_at=CLOSED, country="MX")
    with time_machine.travel(CLOSED + timedelta(days=100), tick=False):
        purge_expired()
    assert not Case.objects.filter(pk=spain.pk).exists()
    assert Case.objects.filter(pk=mexico.pk).exists()
    with time_machine.travel(CLOSED + timedelta(days=365, minutes=1), tick=False):
        purge_expired()
    assert not Case.objects.filter(pk=mexico.pk).exists()


def test_open_cases_and_other_patients_stay(policies: None) -> None:
    patient, other = PatientFactory(), PatientFactory()
    old = full_case(patient, closed_at=CLOSED)
    open_case = full_case(patient, status=Status.IN_REVIEW)
    others = full_case(other, closed_at=CLOSED + timedelta(days=200))
    with time_machine.travel(CLOSED + timedelta(days=31), tick=False):
        purge_expired()
    assert not Case.objects.filter(pk=old.pk).exists()
    assert Case.objects.filter(pk__in=[open_case.pk, others.pk]).count() == 2
    # The patient still has a case: the key stays, and their files still open.
    assert PatientKey.objects.live().filter(patient=patient).exists()
    assert all(storage.exists(n) for n in object_names(open_case) + object_names(others))


def test_purge_is_idempotent_after_a_crash_between_storage_and_rows(policies: None) -> None:
    case = full_case(PatientFactory(), closed_at=CLOSED)
    for name in object_names(case)[:1]:  # a first run died after deleting one object
        storage.delete(name)
    with time_machine.travel(CLOSED + timedelta(days=31), tick=False):
        assert purge_expired()["cases"] == 1
        assert purge_expired()["cases"] == 0
    assert not Case.objects.filter(pk=case.pk).exists()


# --- Pages ---------------------------------------------------------------------------------------


def test_admin_adds_a_policy_in_years(admin_client_verified: Client) -> None:
    response = admin_client_verified.post(
        "/console/retention/", {"country": "AR", "amount": "2", "unit": "years", "confirm": "yes"}
    )
    assert response.status_code == 302
    assert RetentionPolicy.objects.get(country="AR").keep_days == 730
    assert AuditEvent.objects.filter(event_type="retention.policy").exists()
    page = admin_client_verified.get("/console/retention/").content.decode()
    assert "Argentina" in page and "2 years" in page and "never purged" in page


def test_the_policies_read_as_a_country_and_years(admin_client_verified: Client) -> None:
    RetentionPolicy.objects.create(country="ES", keep_days=1825)
    RetentionPolicy.objects.create(country="", keep_days=45)
    page = admin_client_verified.get("/console/retention/").content.decode()
    assert "<td>Spain</td>" in page and "5 years" in page and "1825 days" not in page
    assert "45 days" in page


def test_a_change_is_confirmed_before_it_is_saved(admin_client_verified: Client) -> None:
    RetentionPolicy.objects.create(country="ES", keep_days=1825)
    data = {"country": "ES", "amount": "2", "unit": "years"}

    response = admin_client_verified.post("/console/retention/", data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Spain" in page and "from 5 years to 2 years" in page
    assert 'name="confirm"' in page
    assert RetentionPolicy.objects.get(country="ES").keep_days == 1825
    assert not AuditEvent.objects.filter(event_type="retention.policy").exists()

    response = admin_client_verified.post("/console/retention/", {**data, "confirm": "yes"})
    assert response.status_code == 302
    assert RetentionPolicy.objects.get(country="ES").keep_days == 730


def test_a_removal_is_confirmed_before_it_is_done(admin_client_verified: Client) -> None:
    policy = RetentionPolicy.objects.create(country="ES", keep_days=1825)
    url = f"/console/retention/{policy.pk}/remove/"

    response = admin_client_verified.post(url)

    assert response.status_code == 200
    assert "Spain" in response.content.decode()
    assert RetentionPolicy.objects.filter(pk=policy.pk).exists()
    assert admin_client_verified.post(url, {"confirm": "yes"}).status_code == 302
    assert not RetentionPolicy.objects.filter(pk=policy.pk).exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "at least 1 day"), ("", "Enter how long"), ("abc", "whole number"), ("101", "at most 100 years")],
)
def test_policy_errors_are_clear(admin_client_verified: Client, amount: str, message: str) -> None:
    response = admin_client_verified.post("/console/retention/", {"country": "", "amount": amount, "unit": "years"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and message in page
    assert not RetentionPolicy.objects.exists()


def test_admin_changes_and_removes_the_default(admin_client_verified: Client) -> None:
    admin_client_verified.post("/console/retention/", {"country": "", "amount": "90", "unit": "days", "confirm": "yes"})
    admin_client_verified.post("/console/retention/", {"country": "", "amount": "45", "unit": "days", "confirm": "yes"})
    policy = RetentionPolicy.objects.get(country="")
    assert policy.keep_days == 45
    response = admin_client_verified.post(f"/console/retention/{policy.pk}/remove/", {"confirm": "yes"})
    assert response.status_code == 302
    assert not RetentionPolicy.objects.exists()


def test_admin_places_and_lifts_a_legal_hold(admin_client_verified: Client) -> None:
    case = full_case(PatientFactory(), closed_at=CLOSED)
    url = f"/console/cases/{case.pk}/legal-hold/"
    response = admin_client_verified.post(url, {"hold-reason": "", "hold-note": "x"})
    assert response.status_code == 400 and "Choose why the case is on legal hold." in response.content.decode()
    response = admin_client_verified.post(
        url, {"hold-reason": "regulator", "hold-note": "Ref 42", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/console/retention/"
    case.refresh_from_db()
    assert (case.legal_hold_reason, case.legal_hold_note) == ("regulator", "Ref 42")
    assert AuditEvent.objects.filter(event_type="legal_hold.set", case_id=case.pk).exists()
    admin_client_verified.post(url + "release/")
    case.refresh_from_db()
    assert not case.on_legal_hold
    assert AuditEvent.objects.filter(event_type="legal_hold.release", case_id=case.pk).exists()


def test_the_case_page_panel_offers_the_right_form(admin_user: Any) -> None:
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    case = full_case(PatientFactory(), status=Status.IN_REVIEW)
    request = RequestFactory().get(f"/console/cases/{case.pk}/")
    request.user = admin_user
    html = render_to_string("lifecycle/_legal_hold_panel.html", {"case": case}, request=request)
    assert f'action="/console/cases/{case.pk}/legal-hold/"' in html and 'name="hold-reason"' in html
    Case.objects.filter(pk=case.pk).update(legal_hold_reason="complaint", legal_hold_note="Ref 7")
    case.refresh_from_db()
    html = render_to_string("lifecycle/_legal_hold_panel.html", {"case": case}, request=request)
    assert f'action="/console/cases/{case.pk}/legal-hold/release/"' in html and "Ref 7" in html
