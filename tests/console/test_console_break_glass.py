"""Break-glass: an admin's reasoned, time-limited, audited and notified read of one case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import BreakGlass, Status
from tests.console.console_helpers import signed_in_admin
from tests.factories import AdminFactory, CaseFactory, accepted_upload

pytestmark = pytest.mark.django_db

REASON = "The patient's doctor phoned: possible sepsis, needs the latest report now."
CANARY = "Canary Zebrafinch"


@pytest.fixture
def case(patient_a: Any) -> Any:
    patient_a.full_name = CANARY
    patient_a.save()
    return CaseFactory(
        patient=patient_a,
        status=Status.IN_REVIEW,
        submitted_at=timezone.now(),
        reason="Secret clinical words about my mole",
    )


def _open(client: Client, case: Any, reason: str = REASON, confirm: bool = True) -> Any:
    data = {"reason": reason, **({"confirm": "on"} if confirm else {})}
    return client.post(f"/console/cases/{case.pk}/break-glass/", data)


def test_without_a_grant_an_admin_gets_the_same_404_as_a_missing_case(admin_client_verified: Client, case: Any) -> None:
    assert admin_client_verified.get(f"/cases/{case.pk}/").status_code == 404
    upload = accepted_upload(case)
    assert admin_client_verified.get(f"/files/{upload.pk}/download/").status_code == 404


def test_break_glass_is_audited_notifies_every_other_admin_and_opens_the_case(
    admin_client_verified: Client, admin_user: Any, case: Any, django_capture_on_commit_callbacks: Any
) -> None:
    others = [AdminFactory(), AdminFactory()]
    AdminFactory(is_active=False)  # a deactivated admin is not told
    with django_capture_on_commit_callbacks(execute=True):
        response = _open(admin_client_verified, case)
    assert response["Location"] == f"/cases/{case.pk}/"

    grant = BreakGlass.objects.get()
    assert (grant.admin, grant.case, grant.reason) == (admin_user, case, REASON)
    assert grant.expires_at - grant.granted_at == timedelta(minutes=30)
    event = AuditEvent.objects.get(event_type="case.break_glass")
    assert (event.actor_id, event.action, event.case_id, event.patient_id) == (
        admin_user.pk,
        "E",
        case.pk,
        case.patient_id,
    )
    assert event.detail == {"break_glass_id": str(grant.pk)}

    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in others)
    for message in mail.outbox:
        body = message.body + str(message.alternatives)
        assert case.reference in body and admin_user.full_name in body and f"/console/cases/{case.pk}/" in body
        assert REASON not in body and CANARY not in body and "Secret clinical" not in body

    page = admin_client_verified.get(f"/cases/{case.pk}/").content.decode()
    assert "Emergency access until" in page and "everything you open is recorded" in page
    assert "Secret clinical words" in page
    assert AuditEvent.objects.filter(event_type="case.read", actor=admin_user, case_id=case.pk).exists()


def test_each_use_is_a_new_event_and_new_emails(
    admin_client_verified: Client, case: Any, django_capture_on_commit_callbacks: Any
) -> None:
    AdminFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _open(admin_client_verified, case)
        _open(admin_client_verified, case)
    assert AuditEvent.objects.filter(event_type="case.break_glass").count() == 2
    assert len(mail.outbox) == 2
    history = admin_client_verified.get(f"/console/cases/{case.pk}/").content.decode()
    assert history.count(REASON.replace("'", "&#x27;")) == 2  # admins see the reasons


@pytest.mark.parametrize(
    ("reason", "confirm", "error"),
    [
        ("", True, "Enter the reason for emergency access."),
        ("too short", True, "Explain the reason in at least 20 characters."),
        ("x" * 1001, True, "The reason must be 1000 characters or fewer."),
        (REASON, False, "Confirm that you understand this access is recorded."),
    ],
)
def test_a_reason_and_the_confirmation_are_required(
    admin_client_verified: Client, case: Any, reason: str, confirm: bool, error: str
) -> None:
    response = _open(admin_client_verified, case, reason, confirm)
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page and page.count(error) == 2
    assert not BreakGlass.objects.exists()
    assert not AuditEvent.objects.filter(event_type="case.break_glass").exists()
    assert admin_client_verified.get(f"/cases/{case.pk}/").status_code == 404


def test_the_grant_expires(admin_client_verified: Client, case: Any) -> None:
    with time_machine.travel("2026-03-02 10:00", tick=False) as traveller:
        _open(admin_client_verified, case)
        traveller.shift(timedelta(minutes=10))
        page = admin_client_verified.get(f"/cases/{case.pk}/")
        assert page.status_code == 200 and "Emergency access until 10:30 —" in page.content.decode()
        traveller.shift(timedelta(minutes=21))
        assert admin_client_verified.get(f"/cases/{case.pk}/").status_code == 404
    assert AuditEvent.objects.filter(event_type="case.read.denied", case_id=case.pk).exists()


def test_a_grant_opens_only_its_own_case_and_only_for_its_admin(
    admin_client_verified: Client, case: Any, patient_a: Any
) -> None:
    other_case = CaseFactory(patient=patient_a, status=Status.IN_REVIEW)
    upload = accepted_upload(case)
    _open(admin_client_verified, case)
    assert admin_client_verified.get(f"/files/{upload.pk}/download/").status_code == 200
    assert admin_client_verified.get(f"/cases/{other_case.pk}/").status_code == 404
    _, colleague = signed_in_admin()
    assert colleague.get(f"/cases/{case.pk}/").status_code == 404


def test_break_glass_reads_but_never_writes(admin_client_verified: Client, case: Any) -> None:
    _open(admin_client_verified, case)
    url = f"/cases/{case.pk}/messages/"
    assert f'action="{url}"' not in admin_client_verified.get(f"/cases/{case.pk}/").content.decode()
    assert admin_client_verified.post(url, {"body": "hello"}).status_code == 404
    assert not case.messages.exists()


def test_only_admins_can_break_the_glass(specialist_client: Client, patient_client: Client, case: Any) -> None:
    for client in (specialist_client, patient_client):
        assert _open(client, case).status_code == 404
    assert not BreakGlass.objects.exists()


def test_a_missing_case_is_a_404(admin_client_verified: Client) -> None:
    response = admin_client_verified.post(
        "/console/cases/00000000-0000-4000-8000-000000000000/break-glass/", {"reason": REASON, "confirm": "on"}
    )
    assert response.status_code == 404
