"""The patient's e-mails say what happened and what to do, in the subject and the text, greet
them by name and give the expected date in the receipt; one e-mail per event; never clinical
text or file names. (Before: every status change was "News about your case SO-…".)"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation
from django.utils.formats import date_format

from cases.models import Case, Status
from cases.services import case_claim, case_submit
from reports import services
from tests.cases.helpers import ready_case
from tests.factories import PatientFactory, SpecialistFactory, accepted_upload, add_totp, login
from tests.reports.helpers import case_in_review, complete_draft, publish_consent_v1

pytestmark = pytest.mark.django_db


def _texts(message: Any) -> list[str]:
    return [message.subject, str(message.body), *[str(c) for c, _ in message.alternatives]]


@pytest.fixture
def sent(django_capture_on_commit_callbacks: Any) -> Any:
    """Run `action` and return the e-mails it sent."""
    publish_consent_v1()

    def run(action: Any) -> list[Any]:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            action()
        return list(mail.outbox)

    return run


def test_the_receipt_greets_by_name_and_gives_the_expected_date(sent: Any, every_specialty_in_spain: Any) -> None:
    patient = PatientFactory(full_name="Lucía Gómez")
    case = ready_case(patient)
    accepted_upload(case, name="melanoma-arm.jpg")
    [receipt] = sent(lambda: case_submit(actor=patient, case=case))
    case.refresh_from_db()
    with translation.override("en"):
        due = date_format(case.due_at, "DATETIME_FORMAT")
    assert receipt.subject == f"We have received your case {case.reference}"
    assert receipt.body.startswith("Hello Lucía Gómez,")
    assert f"You should have a signed report by {due}." in receipt.body
    assert f"You should have a signed report by {due}." in str(receipt.alternatives[0][0])
    assert all("melanoma" not in text for text in _texts(receipt))


def test_the_receipt_speaks_spanish(sent: Any, every_specialty_in_spain: Any) -> None:
    patient = PatientFactory(full_name="Lucía Gómez", language="es")
    case = ready_case(patient)
    [receipt] = sent(lambda: case_submit(actor=patient, case=case))
    assert receipt.subject == f"Hemos recibido su caso {case.reference}"
    assert receipt.body.startswith("Hola, Lucía Gómez:")


def test_each_step_of_the_review_is_one_e_mail_that_says_what_happened_and_what_to_do(
    sent: Any, every_specialty_in_spain: Any
) -> None:
    patient = PatientFactory(full_name="Lucía Gómez")
    specialist = SpecialistFactory()
    add_totp(specialist)
    case = ready_case(patient, status=Status.SUBMITTED)

    [claimed] = sent(lambda: case_claim(case=case, specialist=specialist))
    assert claimed.subject == f"A specialist is reviewing your case {case.reference}"
    assert "You do not need to do anything now" in claimed.body

    client = login(Client(), specialist)
    [asked] = sent(
        lambda: client.post(f"/cases/{case.pk}/messages/", {"body": "Please send a photo.", "kind": "request"})
    )
    assert asked.subject == f"The specialist needs more information for your case {case.reference}"
    assert "Sign in and answer in the messages on your case page" in asked.body
    assert "Please send a photo" not in "".join(_texts(asked))


def test_a_signed_report_and_an_addendum_each_say_so(sent: Any) -> None:
    patient = PatientFactory(full_name="Lucía Gómez")
    specialist = SpecialistFactory()
    case = case_in_review(patient, specialist)
    report = complete_draft(case, specialist)
    [ready] = sent(lambda: services.report_sign(report=report, signer=specialist))
    report.refresh_from_db()
    assert ready.subject == f"Your report for case {case.reference} is ready"
    assert "Sign in to read it" in ready.body
    assert report.summary not in "".join(_texts(ready))

    Case.objects.filter(pk=case.pk).update(status=Status.REPORT_READY)
    addendum = services.addendum_draft_for(report=report, author=specialist)
    services.addendum_save_draft(actor=specialist, addendum=addendum, body="Correction: 7 mm.", answers={})
    [added] = sent(lambda: services.addendum_sign(addendum=addendum, signer=specialist))
    assert added.subject == f"The specialist has added to the report for case {case.reference}"
    assert "7 mm" not in "".join(_texts(added))
