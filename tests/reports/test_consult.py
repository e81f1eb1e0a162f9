from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Consultation, Status
from tests.factories import PatientFactory, login
from tests.reports.helpers import specialist_with, waiting_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(specialist: Any) -> Any:
    return waiting_case(status=Status.IN_REVIEW, specialist=specialist)


@pytest.fixture
def colleague() -> Any:
    return specialist_with(specialties=["oncology"], jurisdictions=["FR"])


def _invite(client: Client, case: Any, colleague: Any) -> Any:
    return client.post(reverse("reports:consult_invite", args=[case.pk]), {"colleague": str(colleague.pk)})


def _note(client: Client, case: Any, note: str = "Looks benign to me.") -> Any:
    return client.post(reverse("reports:consult_note", args=[case.pk]), {"note": note})


def test_the_lead_invites_a_colleague_of_any_specialty(specialist_client: Client, case: Any, colleague: Any) -> None:
    workspace = reverse("reports:workspace", args=[case.pk])
    html = specialist_client.get(workspace).content.decode()
    assert f'<option value="{colleague.pk}">{colleague.full_name} (Oncology)</option>' in html
    response = _invite(specialist_client, case, colleague)
    assert response["Location"] == workspace
    consultation = Consultation.objects.get(case=case)
    assert consultation.colleague == colleague
    # The colleague now reads the case and finds it among their cases.
    colleague_client = login(Client(), colleague)
    assert colleague_client.get(workspace).status_code == 200
    my_cases = colleague_client.get(reverse("reports:queue")).context["my_cases"]
    assert [c.pk for c in my_cases] == [case.pk]


def test_inviting_twice_keeps_one_consultation(specialist_client: Client, case: Any, colleague: Any) -> None:
    _invite(specialist_client, case, colleague)
    _invite(specialist_client, case, colleague)
    assert Consultation.objects.filter(case=case).count() == 1


def test_the_lead_cannot_invite_themselves_or_a_patient(specialist: Any, specialist_client: Client, case: Any) -> None:
    _invite(specialist_client, case, specialist)
    _invite(specialist_client, case, PatientFactory())
    assert not Consultation.objects.exists()


def test_inviting_needs_a_case_in_review(specialist: Any, specialist_client: Client, colleague: Any) -> None:
    case = waiting_case(status=Status.ASSIGNED, specialist=specialist)
    response = _invite(specialist_client, case, colleague)
    assert "only while the case is in review" in specialist_client.get(response["Location"]).content.decode()
    assert not Consultation.objects.exists()


def test_only_the_lead_invites(specialist: Any, case: Any, colleague: Any) -> None:
    Consultation.objects.create(case=case, colleague=colleague, invited_by=specialist)
    third = specialist_with()
    assert _invite(login(Client(), colleague), case, third).status_code == 404
    assert _invite(login(Client(), third), case, colleague).status_code == 404
    assert _invite(login(Client(), case.patient), case, third).status_code == 404
    assert _invite(login(Client(), PatientFactory()), case, third).status_code == 404
    assert Consultation.objects.count() == 1


def test_the_colleague_writes_and_edits_their_note(
    specialist: Any, specialist_client: Client, case: Any, colleague: Any
) -> None:
    Consultation.objects.create(case=case, colleague=colleague, invited_by=specialist)
    colleague_client = login(Client(), colleague)
    workspace = reverse("reports:workspace", args=[case.pk])
    assert reverse("reports:consult_note", args=[case.pk]) in colleague_client.get(workspace).content.decode()
    assert _note(colleague_client, case, "First thought.")["Location"] == workspace
    _note(colleague_client, case, "Second thought.")
    consultation = Consultation.objects.get()
    assert consultation.note == "Second thought." and consultation.noted_at is not None
    assert "Second thought." in specialist_client.get(workspace).content.decode()


def test_only_the_colleague_writes_their_note(
    specialist: Any, specialist_client: Client, case: Any, colleague: Any
) -> None:
    Consultation.objects.create(case=case, colleague=colleague, invited_by=specialist)
    for client in (
        specialist_client,
        login(Client(), specialist_with()),
        login(Client(), case.patient),
        login(Client(), PatientFactory()),
    ):
        assert _note(client, case, "Not mine to write.").status_code == 404
    assert Consultation.objects.get().note == ""


def test_notes_are_closed_once_the_review_is_over(specialist: Any, case: Any, colleague: Any) -> None:
    Consultation.objects.create(case=case, colleague=colleague, invited_by=specialist)
    case.status = Status.REPORT_READY
    case.save(update_fields=["status"])
    colleague_client = login(Client(), colleague)
    response = _note(colleague_client, case)
    assert "notes can no longer change" in colleague_client.get(response["Location"]).content.decode()
    assert Consultation.objects.get().note == ""


def test_an_empty_or_too_long_note_is_refused(specialist: Any, case: Any, colleague: Any) -> None:
    Consultation.objects.create(case=case, colleague=colleague, invited_by=specialist)
    colleague_client = login(Client(), colleague)
    _note(colleague_client, case, "")
    _note(colleague_client, case, "x" * 4001)
    assert Consultation.objects.get().note == ""


def test_a_colleague_cannot_claim_or_start_the_review(specialist: Any, colleague: Any) -> None:
    case = waiting_case(status=Status.IN_REVIEW, specialist=specialist)
    Consultation.objects.create(case=case, colleague=colleague, invited_by=specialist)
    colleague_client = login(Client(), colleague)
    assert colleague_client.post(reverse("reports:claim", args=[case.pk])).status_code == 404
    assert colleague_client.post(reverse("reports:start_review", args=[case.pk])).status_code == 404
    case.refresh_from_db()
    assert case.specialist == specialist
