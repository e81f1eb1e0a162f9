"""The services take the actor, and the address and browser of the request being served: every
event a specialist's pages record names the specialist, their role, their address and their browser."""

from __future__ import annotations

import time
from typing import Any

from django.test import Client

from cases.models import Case, Consultation, Status
from tests.cases.helpers import last_event_id, origins_since
from tests.factories import SpecialistFactory, login
from tests.reports.helpers import case_in_review, complete_draft

IP, BROWSER = "198.51.100.23", "Browser/2.0 (test)"


def test_a_specialists_pages_record_the_specialist_their_address_and_browser(patient_a: Any, specialist: Any) -> None:
    case = case_in_review(patient_a, specialist)
    complete_draft(case, specialist)
    colleague = SpecialistFactory()
    browser = login(Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=BROWSER), specialist)
    session = browser.session
    session["stepup_at"] = time.time()  # signing needs a fresh factor
    session.save()
    before = last_event_id()

    browser.post(f"/specialist/cases/{case.pk}/messages/", {"message-body": "Thank you."})
    browser.post(f"/specialist/cases/{case.pk}/consult/", {"colleague": str(colleague.pk)})
    browser.post(f"/specialist/cases/{case.pk}/report/sign/", {"confirm": "on"})

    assert Case.objects.get(pk=case.pk).status == Status.REPORT_READY
    assert Consultation.objects.filter(case=case, colleague=colleague).exists()
    origins = origins_since(before)
    for event_type in ("message.send", "consultation.invite", "report.sign", "case.status"):
        assert origins.get(event_type) == {(specialist.pk, "specialist", IP, BROWSER)}, event_type
