"""After signing: the patient reads the report, asks up to 3 follow-up questions answered in a
signed addendum, closes the case, or asks a second specialist; two reports side by side."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from cases.models import Case, Status
from reports import services
from reports.models import AddendumKind, FollowUp, Report
from tests.factories import SpecialistFactory, add_totp, login
from tests.reports.helpers import case_in_review, complete_draft

pytestmark = pytest.mark.django_db


def _signed(patient: Any, specialist: Any) -> tuple[Case, Report]:
    case = case_in_review(patient, specialist)
    report = complete_draft(case, specialist)
    services.report_sign(report=report, signer=specialist)
    case.refresh_from_db()
    report.refresh_from_db()
    return case, report


def test_the_patient_reads_the_signed_report_on_the_case_page(
    patient_a: Any, specialist: Any, patient_client: Client
) -> None:
    case, report = _signed(patient_a, specialist)

    page = patient_client.get(f"/cases/{case.pk}/").content.decode()

    assert "Your report" in page and report.summary in page and "Answer to Question 1?" in page
    assert report.documents.get().verification_code in page
    report.refresh_from_db()
    assert report.read_at is not None


def test_follow_up_questions_need_the_report_read_and_stop_at_three(
    patient_a: Any, specialist: Any, patient_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    case, report = _signed(patient_a, specialist)
    with pytest.raises(services.NotAllowed, match="Read the report"):
        services.follow_up_ask(actor=patient_a, case=case, text="Why?")

    patient_client.get(f"/cases/{case.pk}/")  # reading it
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = patient_client.post(f"/cases/{case.pk}/follow-up/", {"text": f"Follow-up {n}"})
        assert response.status_code == 302
    response = patient_client.post(f"/cases/{case.pk}/follow-up/", {"text": "A fourth"}, follow=True)

    assert "You have already asked 3 follow-up questions" in response.content.decode()
    assert FollowUp.objects.filter(report=report).count() == 3
    assert any(m.to == [specialist.email] and case.reference in m.subject for m in mail.outbox)
    assert all("Follow-up" not in m.body for m in mail.outbox)


def _answer_all(report: Report, specialist: Any, answer: str) -> Any:
    addendum = services.addendum_draft_for(report=report, author=specialist)
    services.addendum_save_draft(
        actor=specialist, addendum=addendum, body="", answers={str(f.pk): answer for f in addendum.follow_ups.all()}
    )
    return services.addendum_sign(addendum=addendum, signer=specialist)


def test_answers_to_follow_ups_are_a_signed_addendum_and_the_patient_may_ask_again(
    patient_a: Any, specialist: Any, patient_client: Client
) -> None:
    """The case used to close when the first question was answered, though the page had just
    said "You can ask 3 more questions": the form and the messages disappeared."""
    case, report = _signed(patient_a, specialist)
    patient_client.get(f"/cases/{case.pk}/")
    services.follow_up_ask(actor=patient_a, case=case, text="Can I swim?")

    addendum = services.addendum_draft_for(report=report, author=specialist)
    assert addendum.kind == AddendumKind.FOLLOW_UP
    with pytest.raises(services.CannotSign, match="Answer every follow-up question"):
        services.addendum_sign(addendum=addendum, signer=specialist)
    document = _answer_all(report, specialist, "Yes, with sunscreen.")

    case.refresh_from_db()
    assert case.status == Status.REPORT_READY
    assert document.version == 2
    assert report.documents.get(version=1).superseded_at == document.signed_at
    assert document.content["addenda"][0]["follow_ups"] == [
        {"question": "Can I swim?", "answer": "Yes, with sunscreen."}
    ]
    page = patient_client.get(f"/cases/{case.pk}/").content.decode()
    assert "Yes, with sunscreen." in page and "answered in the addendum" in page
    assert "You can ask 2 more questions about this report" in page
    assert "Send the question" in page and "Send message" in page
    assert "I have no more questions: close the case" in page

    patient_client.post(f"/cases/{case.pk}/follow-up/", {"text": "And the sea?"})
    _answer_all(report, specialist, "Also.")
    case.refresh_from_db()
    assert case.status == Status.REPORT_READY
    assert patient_client.post(f"/cases/{case.pk}/close/").status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED


def test_the_page_announces_when_a_quiet_case_closes_and_it_closes_then(
    patient_a: Any, specialist: Any, patient_client: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.FOLLOW_UP_QUIET_DAYS = 30
    case, report = _signed(patient_a, specialist)
    signed_at = report.documents.get().signed_at
    page = patient_client.get(f"/cases/{case.pk}/").content.decode()
    closes_on = date_format(timezone.localtime(signed_at + timedelta(days=30)), "DATE_FORMAT")
    assert f"If you ask nothing more by {closes_on}, the case closes by itself on that day" in page

    services.follow_up_ask(actor=patient_a, case=case, text="Can I swim?")
    assert services.close_quiet_cases(now=signed_at + timedelta(days=31)) == 0  # a question waits
    _answer_all(report, specialist, "Yes.")
    answered_at = report.documents.get(superseded_at__isnull=True).signed_at
    assert services.close_quiet_cases(now=answered_at + timedelta(days=29)) == 0
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.close_quiet_cases(now=answered_at + timedelta(days=30, minutes=1)) == 1
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert case.events.filter(new_status=Status.CLOSED, reason="no_more_questions").exists()
    assert [m.to for m in mail.outbox] == [[patient_a.email]]


def test_a_correction_addendum_supersedes_the_document_and_keeps_the_case_open(
    patient_a: Any, specialist: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case, report = _signed(patient_a, specialist)
    addendum = services.addendum_draft_for(report=report, author=specialist)
    services.addendum_save_draft(actor=specialist, addendum=addendum, body="Correction: the mole is 7 mm.", answers={})
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        document = services.addendum_sign(addendum=addendum, signer=specialist)

    case.refresh_from_db()
    assert case.status == Status.REPORT_READY
    assert document.content["report"] == report.documents.get(version=1).content["report"]  # the report is frozen
    assert document.content["addenda"][0]["body"] == "Correction: the mole is 7 mm."
    assert [m.to for m in mail.outbox] == [[patient_a.email]] and "7 mm" not in mail.outbox[0].body


def test_the_patient_closes_the_case_when_no_questions_wait(
    patient_a: Any, specialist: Any, patient_client: Client
) -> None:
    case, _ = _signed(patient_a, specialist)
    patient_client.get(f"/cases/{case.pk}/")
    services.follow_up_ask(actor=patient_a, case=case, text="And sport?")

    response = patient_client.post(f"/cases/{case.pk}/close/", follow=True)
    assert "has not answered your follow-up questions yet" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.REPORT_READY


def test_a_second_specialist_gives_a_second_opinion_shown_side_by_side(
    patient_a: Any, specialist: Any, patient_client: Client
) -> None:
    case, first = _signed(patient_a, specialist)
    patient_client.post(f"/cases/{case.pk}/close/")

    response = patient_client.post(f"/cases/{case.pk}/second-opinion/")
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.round, case.specialist) == (Status.TRIAGE, 2, None)
    assert not Case.objects.claimable_by(specialist).filter(pk=case.pk).exists()
    second_specialist = SpecialistFactory()
    add_totp(second_specialist)
    assert Case.objects.claimable_by(second_specialist).filter(pk=case.pk).exists()

    from cases.services import case_claim

    case_claim(case=case, specialist=second_specialist)
    case.refresh_from_db()
    second = complete_draft(
        case, second_specialist, summary="A different view: remove it.", diagnosis_agreement="changed"
    )
    services.report_sign(report=second, signer=second_specialist)

    page = patient_client.get(f"/cases/{case.pk}/").content.decode()
    assert "The two opinions side by side" in page
    assert first.summary in page and "A different view: remove it." in page
    assert "Ask for a second specialist" not in page  # only once
    # The first specialist still reads the case they reported on; the second one now leads it.
    assert login(Client(), specialist).get(f"/cases/{case.pk}/").status_code == 200


def test_a_draft_is_seen_only_by_its_author(patient_a: Any, specialist: Any, patient_client: Client) -> None:
    case = case_in_review(patient_a, specialist)
    complete_draft(case, specialist, summary="Private draft text")

    assert "Private draft text" not in patient_client.get(f"/cases/{case.pk}/").content.decode()


def test_a_consulted_colleague_cannot_ask_the_patient_for_information(patient_a: Any, specialist: Any) -> None:
    from cases.models import Consultation, Message, MessageKind

    case = case_in_review(patient_a, specialist)
    colleague = SpecialistFactory()
    add_totp(colleague)
    Consultation.objects.create(case=case, colleague=colleague, invited_by=specialist)
    client = login(Client(), colleague)

    client.post(f"/cases/{case.pk}/messages/", {"body": "Send more photos", "kind": "request"})

    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    assert Message.objects.get(case=case).kind == MessageKind.MESSAGE
