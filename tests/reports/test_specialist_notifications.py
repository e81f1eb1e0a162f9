"""Specialists were told nothing: no e-mail or badge for a new case in their queue, a patient's
reply, or a colleague's note. Now: an hourly digest of new queue cases, an e-mail per reply and per
note (never clinical text), and "Patient replied" in My cases and the queue."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from cases.models import Status
from cases.services import consultation_invite, consultation_note, message_send
from reports.emails import queue_digest
from tests.factories import SpecialistFactory, add_totp, login
from tests.reports.helpers import case_in_review, waiting_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(django_capture_on_commit_callbacks: Any) -> Any:
    def run(action: Any) -> list[Any]:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            action()
        return list(mail.outbox)

    return run


def _text(message: Any) -> str:
    return message.subject + str(message.body) + "".join(str(c) for c, _ in message.alternatives)


def test_a_patients_reply_e_mails_the_lead_and_shows_in_my_cases(patient_a: Any, specialist: Any, sent: Any) -> None:
    case = case_in_review(patient_a, specialist)
    message_send(case=case, author=specialist, body="Please send a photo with a ruler.", kind="request")
    [reply] = sent(lambda: message_send(case=case, author=patient_a, body="It is 6 mm across, CANARY."))
    assert reply.to == [specialist.email]
    assert reply.subject == f"The patient replied on case {case.reference}"
    assert reverse("reports:workspace", args=[case.pk]) in reply.body
    assert "CANARY" not in _text(reply)

    client = login(Client(), specialist)
    page = client.get(reverse("reports:queue")).content.decode()
    assert 'data-testid="patient-replied"' in page
    message_send(case=case, author=specialist, body="Thank you.")
    assert 'data-testid="patient-replied"' not in client.get(reverse("reports:queue")).content.decode()


def test_a_colleagues_note_e_mails_the_lead(patient_a: Any, specialist: Any, sent: Any) -> None:
    case = case_in_review(patient_a, specialist)
    colleague = SpecialistFactory()
    consultation = consultation_invite(case=case, lead=specialist, colleague=colleague)
    [note] = sent(lambda: consultation_note(actor=colleague, consultation=consultation, note="Looks benign, CANARY."))
    assert note.to == [specialist.email]
    assert note.subject == f"A colleague left a note on case {case.reference}"
    assert "CANARY" not in _text(note)


def test_new_queue_cases_come_in_an_hourly_digest_of_counts(sent: Any) -> None:
    dermatologist = SpecialistFactory()
    oncologist = SpecialistFactory(profile__specialties=["oncology"])
    first, second = waiting_case(), waiting_case()
    [digest] = sent(queue_digest)
    assert digest.to == [dermatologist.email]
    assert digest.subject == "2 new cases in your queue"
    assert "In all, 2 cases are waiting in your queue" in digest.body
    assert reverse("reports:queue") in digest.body
    assert first.reference not in _text(digest) and second.reference not in _text(digest)
    assert oncologist.email not in [m.to[0] for m in mail.outbox]

    assert sent(queue_digest) == []  # nothing new since
    waiting_case()
    [digest] = sent(queue_digest)
    assert digest.subject == "1 new case in your queue"
    assert "In all, 3 cases are waiting" in digest.body


def test_the_queue_marks_a_waiting_case_the_patient_wrote_on(specialist: Any, patient_a: Any) -> None:
    case = waiting_case(patient=patient_a)
    message_send(case=case, author=patient_a, body="I forgot to say: it bleeds.")
    add_totp(specialist)
    page = login(Client(), specialist).get(reverse("reports:queue")).content.decode()
    assert "Patient replied" in page
    assert case.status == Status.SUBMITTED
