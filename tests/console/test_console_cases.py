"""The console's case list and case page: metadata, never clinical content."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import CaseEvent, Message, Question, Status
from tests.factories import CaseFactory, SpecialistFactory, accepted_upload

pytestmark = pytest.mark.django_db


def test_the_list_filters_by_status_specialty_country_and_reference(admin_client_verified: Client) -> None:
    derm = CaseFactory(status=Status.SUBMITTED, country="ES", specialty="dermatology")
    onco = CaseFactory(status=Status.IN_REVIEW, country="MX", specialty="oncology")
    draft = CaseFactory(country="MX", specialty="oncology")

    def listed(**filters: str) -> set[str]:
        page = admin_client_verified.get("/console/cases/", filters).content.decode()
        return {c.reference for c in (derm, onco, draft) if c.reference in page}

    assert listed() == {derm.reference, onco.reference, draft.reference}
    assert listed(status="in_review") == {onco.reference}
    assert listed(specialty="oncology") == {onco.reference, draft.reference}
    assert listed(country="ES") == {derm.reference}
    assert listed(reference=derm.reference[3:7].lower()) == {derm.reference}
    assert (
        "No cases match these filters."
        in admin_client_verified.get("/console/cases/", {"reference": "SO-NONE"}).content.decode()
    )


def test_the_list_is_paginated_and_audited(admin_client_verified: Client) -> None:
    CaseFactory.create_batch(51)
    first = admin_client_verified.get("/console/cases/").content.decode()
    assert "51 cases" in first and "Page 1 of 2" in first
    assert "Page 2 of 2" in admin_client_verified.get("/console/cases/", {"page": 2}).content.decode()
    assert len(AuditEvent.objects.filter(event_type="console.cases.read").first().detail["cases"]) == 50


def test_the_case_page_shows_metadata_and_history_but_no_clinical_content(admin_client_verified: Client) -> None:
    specialist = SpecialistFactory(full_name="Dr Lucia Ferrer")
    case = CaseFactory(
        status=Status.IN_REVIEW,
        specialist=specialist,
        submitted_at=timezone.now(),
        due_at=timezone.now(),
        reason="REASON-CANARY",
        expectations="EXPECT-CANARY",
        legal_hold_reason="litigation",
        legal_hold_note="Solicitors letter 2026-114",
    )  # admin words: shown
    Question.objects.create(case=case, text="QUESTION-CANARY")
    Message.objects.create(case=case, author=case.patient, body="MESSAGE-CANARY")
    CaseEvent.objects.create(
        case=case, old_status=Status.SUBMITTED, new_status=Status.IN_REVIEW, actor=specialist, reason="review_started"
    )
    accepted_upload(case, name="FILENAME-CANARY.jpg")

    page = admin_client_verified.get(f"/console/cases/{case.pk}/").content.decode()
    for text in (
        case.reference,
        "In review",
        "Dermatology",
        "Spain",
        "Dr Lucia Ferrer",
        "review_started",
        "a legal claim or court proceedings",
        "Solicitors letter 2026-114",
        "1 file",
        "Emergency access to clinical content",
    ):
        assert text in page, text
    for secret in ("CANARY", case.patient.full_name, case.patient.email):
        assert secret not in page, secret
    event = AuditEvent.objects.get(event_type="case.metadata.read")
    assert (event.case_id, event.patient_id) == (case.pk, case.patient_id)


def test_a_missing_case_is_a_404(admin_client_verified: Client) -> None:
    assert admin_client_verified.get("/console/cases/00000000-0000-4000-8000-000000000000/").status_code == 404


def test_other_roles_get_a_404(specialist_client: Client, patient_client: Client, patient_a: Any) -> None:
    case = CaseFactory(patient=patient_a)
    for client in (specialist_client, patient_client):
        assert client.get("/console/cases/").status_code == 404
        assert client.get(f"/console/cases/{case.pk}/").status_code == 404


def test_the_filters_and_the_list_use_admin_wording(admin_client_verified: Client) -> None:
    CaseFactory(status=Status.AWAITING_PATIENT, specialty="not_sure")

    page = admin_client_verified.get("/console/cases/").content.decode()

    assert "Waiting for your answer" not in page and "route me" not in page
    assert '<option value="awaiting_patient">Waiting for the patient&#x27;s answer</option>' in page
    assert "<td>Waiting for the patient&#x27;s answer</td>" in page
    assert "<td>Not sure (to be routed to a specialist)</td>" in page
