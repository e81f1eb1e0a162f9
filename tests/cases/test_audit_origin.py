"""The services take the actor, and the address and browser of the request being served: every
event a patient's pages record names the patient, their role, their address and their browser."""

from __future__ import annotations

from typing import Any

from django.test import Client

from cases.models import Case, ConsentVersion, Status
from tests.cases.helpers import last_event_id, origins_since, ready_case
from tests.factories import login

IP, BROWSER = "198.51.100.23", "Browser/2.0 (test)"


def test_a_patients_pages_record_the_patient_their_address_and_browser(
    consent_version: ConsentVersion, patient_a: Any, every_specialty_in_spain: Any
) -> None:
    browser, before = login(Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=BROWSER), patient_a), last_event_id()

    browser.post("/cases/new/")
    case = ready_case(patient_a, consent=False)
    browser.post(f"/cases/{case.pk}/intake/consent/", {"accept": "on"})
    assert browser.post(f"/cases/{case.pk}/submit/")["Location"] == f"/cases/{case.pk}/submitted/"
    browser.post(f"/cases/{case.pk}/messages/", {"body": "One more thing."})
    browser.post(f"/cases/{case.pk}/withdraw/")
    other = ready_case(patient_a, status=Status.SUBMITTED)
    browser.post(f"/cases/{other.pk}/consent/withdraw/")

    assert Case.objects.filter(pk__in=[case.pk, other.pk], status=Status.WITHDRAWN).count() == 2
    origins = origins_since(before)
    for event_type in ("case.create", "consent.accept", "case.status", "message.send", "consent.withdraw"):
        assert origins.get(event_type) == {(patient_a.pk, "patient", IP, BROWSER)}, event_type
