from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from cases.models import Case, CaseEvent, Message, MessageKind, Status
from cases.services import case_transition
from tests.cases.helpers import CANARY
from tests.factories import CaseFactory, PatientFactory, SpecialistFactory, add_totp, login


def _case(patient: User, specialist: User | None, status: Status) -> Case:
    now = timezone.now()
    return CaseFactory(
        patient=patient, specialist=specialist, status=status, submitted_at=now, due_at=now + timedelta(hours=72)
    )


@pytest.fixture
def in_review(patient_a: User, specialist: User) -> Case:
    return _case(patient_a, specialist, Status.IN_REVIEW)


def _post_message(client: Client, case: Case, body: str, **extra: str) -> Any:
    return client.post(f"/cases/{case.pk}/messages/", {"body": body, **extra})


def _email_texts() -> str:
    parts = []
    for message in mail.outbox:
        parts += [message.subject, str(message.body), *(str(c) for c, _ in message.alternatives)]  # type: ignore[attr-defined]
    return "\n".join(parts)


# -- messages ------------------------------------------------------------------------------


def test_a_request_for_information_waits_for_the_patient_who_gets_an_email_without_the_text(
    specialist_client: Client,
    specialist: User,
    in_review: Case,
    patient_a: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_message(specialist_client, in_review, f"{CANARY} please send a photo", kind="request")

    assert response["Location"] == f"/cases/{in_review.pk}/"
    in_review.refresh_from_db()
    assert in_review.status == Status.AWAITING_PATIENT
    assert in_review.sla_paused_at is not None
    message = Message.objects.get(case=in_review)
    assert (message.kind, message.author) == (MessageKind.REQUEST, specialist)
    event = CaseEvent.objects.get(case=in_review)
    assert (event.new_status, event.actor, event.reason) == (
        Status.AWAITING_PATIENT,
        specialist,
        "information_requested",
    )
    assert [m.to for m in mail.outbox] == [[patient_a.email]]
    assert in_review.reference in mail.outbox[0].subject
    assert CANARY not in _email_texts() and "photo" not in _email_texts()


def test_the_patients_reply_puts_the_case_back_in_review(
    specialist_client: Client,
    patient_client: Client,
    in_review: Case,
    patient_a: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _post_message(specialist_client, in_review, "Please send a photo", kind="request")
    page = patient_client.get(f"/cases/{in_review.pk}/").content.decode()
    assert "The specialist needs more information from you." in page

    with django_capture_on_commit_callbacks(execute=True):
        response = _post_message(patient_client, in_review, "Here is my answer")

    assert response["Location"] == f"/cases/{in_review.pk}/"
    in_review.refresh_from_db()
    assert (in_review.status, in_review.sla_paused_at) == (Status.IN_REVIEW, None)
    event = CaseEvent.objects.filter(case=in_review).last()
    assert event is not None
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        Status.AWAITING_PATIENT,
        Status.IN_REVIEW,
        patient_a,
        "patient_answered",
    )
    # The patient is not told about their own message; the lead specialist is.
    assert [m.to for m in mail.outbox] == [[in_review.specialist.email]]


def test_a_specialists_plain_message_emails_the_patient_without_the_text(
    specialist_client: Client, in_review: Case, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _post_message(specialist_client, in_review, f"{CANARY} your results look fine")

    assert Case.objects.get(pk=in_review.pk).status == Status.IN_REVIEW
    assert len(mail.outbox) == 1
    assert in_review.reference in mail.outbox[0].subject
    assert CANARY not in _email_texts()


def test_a_patient_cannot_send_a_request(patient_client: Client, in_review: Case) -> None:
    _post_message(patient_client, in_review, "I request you hurry", kind="request")

    assert Message.objects.get(case=in_review).kind == MessageKind.MESSAGE
    assert Case.objects.get(pk=in_review.pk).status == Status.IN_REVIEW
    assert not CaseEvent.objects.filter(case=in_review).exists()


def test_a_request_outside_review_is_refused_with_a_message(
    specialist_client: Client, patient_a: User, specialist: User
) -> None:
    case = _case(patient_a, specialist, Status.ASSIGNED)

    response = _post_message(specialist_client, case, "Please send a photo", kind="request")

    assert response["Location"] == f"/cases/{case.pk}/"
    page = specialist_client.get(response["Location"]).content.decode()
    assert "A request for information can only be sent while the case is in review." in page
    assert not Message.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).status == Status.ASSIGNED


@pytest.mark.parametrize("status", [Status.WITHDRAWN, Status.CLOSED, Status.DRAFT])
def test_messages_on_a_finished_or_unsent_case_are_refused(
    status: Status,
    patient_client: Client,
    specialist_client: Client,
    patient_a: User,
    specialist: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = _case(patient_a, specialist, status)

    with django_capture_on_commit_callbacks(execute=True):
        _post_message(patient_client, case, "Hello?")
        _post_message(specialist_client, case, "Hello", kind="request")

    assert not Message.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).status == status
    assert mail.outbox == []
    page = patient_client.get(f"/cases/{case.pk}/").content.decode()
    assert f'action="/cases/{case.pk}/messages/"' not in page


def test_an_empty_message_is_an_error(patient_client: Client, in_review: Case) -> None:
    response = _post_message(patient_client, in_review, "")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in page and "There is a problem" in page and "Write your message." in page
    assert 'href="#id_body"' in page and 'id="id_body"' in page
    assert not Message.objects.filter(case=in_review).exists()


def test_a_specialist_not_assigned_to_the_case_cannot_write(in_review: Case) -> None:
    other = SpecialistFactory()
    add_totp(other)

    response = _post_message(login(Client(), other), in_review, "Hello", kind="request")

    assert response.status_code == 404
    assert not Message.objects.filter(case=in_review).exists()
    assert Case.objects.get(pk=in_review.pk).status == Status.IN_REVIEW


def test_another_patient_cannot_write(in_review: Case, patient_b: User) -> None:
    response = _post_message(login(Client(), patient_b), in_review, "Hello")
    assert response.status_code == 404
    assert not Message.objects.filter(case=in_review).exists()


# -- withdraw ------------------------------------------------------------------------------


def test_withdrawing_asks_for_confirmation_first(patient_client: Client, in_review: Case) -> None:
    response = patient_client.get(f"/cases/{in_review.pk}/withdraw/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f"Withdraw case {in_review.reference}?" in page and "Yes, withdraw my case" in page
    assert Case.objects.get(pk=in_review.pk).status == Status.IN_REVIEW


def test_it_withdraws_the_case_on_post(
    patient_client: Client, patient_a: User, in_review: Case, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = patient_client.post(f"/cases/{in_review.pk}/withdraw/")

    assert response["Location"] == f"/cases/{in_review.pk}/"
    event = CaseEvent.objects.get(case=in_review)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        Status.IN_REVIEW,
        Status.WITHDRAWN,
        patient_a,
        "patient_withdrew",
    )
    page = patient_client.get(response["Location"]).content.decode()
    assert f"Your case {in_review.reference} has been withdrawn." in page
    assert "Withdraw this case" not in page
    assert mail.outbox == []


def test_withdrawing_twice_is_harmless(patient_client: Client, in_review: Case) -> None:
    first = patient_client.post(f"/cases/{in_review.pk}/withdraw/")
    second = patient_client.post(f"/cases/{in_review.pk}/withdraw/")

    assert first["Location"] == second["Location"] == f"/cases/{in_review.pk}/"
    assert CaseEvent.objects.filter(case=in_review).count() == 1
    assert Case.objects.get(pk=in_review.pk).status == Status.WITHDRAWN
    assert patient_client.get(f"/cases/{in_review.pk}/withdraw/")["Location"] == f"/cases/{in_review.pk}/"


def test_a_closed_case_cannot_be_withdrawn(patient_client: Client, patient_a: User) -> None:
    case = _case(patient_a, None, Status.CLOSED)
    response = patient_client.post(f"/cases/{case.pk}/withdraw/")
    assert response["Location"] == f"/cases/{case.pk}/"
    assert Case.objects.get(pk=case.pk).status == Status.CLOSED


@pytest.mark.parametrize("who", ["other_patient", "specialist"])
def test_only_the_patient_can_withdraw(who: str, in_review: Case, specialist: User) -> None:
    user = PatientFactory() if who == "other_patient" else specialist
    response = login(Client(), user).post(f"/cases/{in_review.pk}/withdraw/")
    assert response.status_code == 404
    assert Case.objects.get(pk=in_review.pk).status == Status.IN_REVIEW


# -- the case page's timeline --------------------------------------------------------------


def _timeline(page: str) -> str:
    found = re.search(r'<ol class="timeline" data-testid="case-timeline">(.*?)</ol>', page, re.S)
    assert found is not None
    return found.group(1)


def test_the_case_page_shows_the_status_events_in_plain_language(
    patient_client: Client, patient_a: User, specialist: User
) -> None:
    case = CaseFactory(patient=patient_a, specialist=specialist)
    for to in [Status.SUBMITTED, Status.ASSIGNED, Status.IN_REVIEW, Status.AWAITING_PATIENT]:
        case_transition(case=case, to=to, actor=specialist)

    timeline = _timeline(patient_client.get(f"/cases/{case.pk}/").content.decode())

    labels = ["Case started", "Submitted", "Assigned to a specialist", "In review", "Waiting for your answer"]
    positions = [timeline.index(label) for label in labels]
    assert positions == sorted(positions)
    for code in ["awaiting_patient", "in_review", "submitted"]:
        assert code not in timeline


def test_the_timeline_is_in_the_patients_language(specialist: User) -> None:
    patient = PatientFactory(language="es")
    case = CaseFactory(patient=patient, specialist=specialist)
    for to in [Status.SUBMITTED, Status.ASSIGNED, Status.IN_REVIEW, Status.AWAITING_PATIENT]:
        case_transition(case=case, to=to, actor=specialist)

    timeline = _timeline(login(Client(), patient).get(f"/cases/{case.pk}/").content.decode())

    assert "Enviado" in timeline and "Esperando su respuesta" in timeline
    assert "Waiting for your answer" not in timeline
