"""The lifecycle services take the actor, and the address and browser of the request being served:
every event the erasure, export, retention and legal hold pages record names who acted, their
role, their address and their browser (an erasure the policy decides names the patient who asked)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from cases.models import Status
from lifecycle.erasure import erasure_request
from lifecycle.models import DeletionRequest, DeletionStatus, RetentionPolicy
from tests.cases.helpers import last_event_id, origins_since
from tests.console.console_helpers import step_up
from tests.factories import AdminFactory, CaseFactory, PatientFactory, add_totp, login
from tests.lifecycle.helpers import matrix_certificate

pytestmark = pytest.mark.django_db

IP, BROWSER = "198.51.100.41", "Browser/3.0 (lifecycle)"
OTHER_IP, OTHER_BROWSER = "2001:db8::41", "Browser/3.1 (lifecycle)"


def _stepped_up(user: User, ip: str = IP, user_agent: str = BROWSER) -> Client:
    add_totp(user)
    browser = login(Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent), user)
    step_up(browser, user)
    return browser


def test_a_patients_export_and_erasure_record_the_patient_their_address_and_browser() -> None:
    asking, held = PatientFactory(), PatientFactory()
    CaseFactory(patient=asking, status=Status.IN_REVIEW)
    CaseFactory(patient=held, status=Status.CLOSED, legal_hold_reason="litigation")
    browser, held_browser = _stepped_up(asking), _stepped_up(held, OTHER_IP, OTHER_BROWSER)
    before = last_event_id()

    b"".join(browser.get("/accounts/export/everything.zip").streaming_content)
    b"".join(browser.get("/accounts/export/health-record.fhir.json").streaming_content)
    browser.post("/accounts/erase/", {"account": "keep", "confirm": "on"})  # approved by the policy
    held_browser.post("/accounts/erase/", {"account": "keep", "confirm": "on"})  # refused by the policy

    approved, refused = DeletionRequest.objects.get(patient=asking), DeletionRequest.objects.get(patient=held)
    assert (approved.status, approved.auto_approved, approved.decided_by) == (DeletionStatus.APPROVED, True, None)
    assert (refused.status, refused.decided_by) == (DeletionStatus.REFUSED, None)
    origins = origins_since(before, reads=True)
    mine, theirs = (asking.pk, "patient", IP, BROWSER), (held.pk, "patient", OTHER_IP, OTHER_BROWSER)
    for event_type in ("export.zip", "export.fhir", "erasure.approve"):
        assert origins.get(event_type) == {mine}, event_type
    assert origins.get("erasure.request") == {mine, theirs}
    assert origins.get("erasure.refuse") == {theirs}


def test_the_admins_lifecycle_pages_record_the_admin_their_address_and_browser(settings: Any) -> None:
    settings.ERASURE_AUTO_APPROVE = False
    admin = AdminFactory()
    console = _stepped_up(admin)
    to_approve, to_refuse, on_hold = PatientFactory(), PatientFactory(), PatientFactory()
    pending = {p.pk: erasure_request(patient=p, keep_account=True) for p in (to_approve, to_refuse, on_hold)}
    case = CaseFactory(patient=on_hold, status=Status.CLOSED)
    certificate = matrix_certificate(PatientFactory())
    before = last_event_id()

    console.post("/console/retention/", {"country": "AR", "amount": "2", "unit": "years", "confirm": "yes"})
    console.post(f"/console/retention/{RetentionPolicy.objects.get(country='AR').pk}/remove/", {"confirm": "yes"})
    console.post(f"/console/cases/{case.pk}/legal-hold/", {"hold-reason": "regulator", "hold-note": "Ref 42"})
    console.post(f"/console/deletion-requests/{pending[on_hold.pk].pk}/approve/")  # refused: the hold
    console.post(f"/console/cases/{case.pk}/legal-hold/release/")
    console.post(f"/console/deletion-requests/{pending[to_approve.pk].pk}/approve/")
    console.post(f"/console/deletion-requests/{pending[to_refuse.pk].pk}/refuse/", {"code": "identity"})
    assert console.get(f"/console/deletion-certificates/{certificate.pk}/json/").status_code == 200

    decided = {
        r.patient_ref: (r.status, r.decided_by_id)
        for r in DeletionRequest.objects.filter(pk__in=[p.pk for p in pending.values()])
    }
    assert decided == {
        to_approve.pk: (DeletionStatus.APPROVED, admin.pk),
        to_refuse.pk: (DeletionStatus.REFUSED, admin.pk),
        on_hold.pk: (DeletionStatus.REFUSED, admin.pk),
    }
    assert not RetentionPolicy.objects.filter(country="AR").exists()
    origins = origins_since(before, reads=True)
    for event_type in (
        "retention.policy",
        "retention.policy.remove",
        "legal_hold.set",
        "legal_hold.release",
        "erasure.approve",
        "erasure.refuse",
        "certificate.download",
    ):
        assert origins.get(event_type) == {(admin.pk, "admin", IP, BROWSER)}, event_type
