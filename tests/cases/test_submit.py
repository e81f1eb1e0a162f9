from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from cases import intake
from cases.models import REFERENCE_ALPHABET, Case, CaseEvent, Question, Status, new_reference
from tests.cases.helpers import CANARY, INTAKE, ready_case, rows, step_url
from tests.factories import CaseFactory, PatientFactory, SpecialistFactory, login

pytestmark = pytest.mark.usefixtures("consent_version", "every_specialty_in_spain")

REFERENCE = re.compile(rf"^SO-[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}$")


def _walk_the_intake(client: Client) -> Case:
    response = client.post("/cases/new/")
    case = Case.objects.get()
    assert response["Location"] == step_url(case.pk, "urgent")
    for (slug, data), following in zip(INTAKE, [*INTAKE[1:], None], strict=True):
        response = client.post(step_url(case.pk, slug), data)
        expected = step_url(case.pk, following[0]) if following else f"/cases/{case.pk}/check/"
        assert response.status_code == 302, (slug, response.content.decode()[:3000])
        assert response["Location"] == expected, slug
    case.refresh_from_db()
    return case


def _all_email_text() -> list[str]:
    texts = []
    for message in mail.outbox:
        texts += [message.subject, str(message.body)]
        texts += [str(content) for content, _ in message.alternatives]  # type: ignore[attr-defined]
    return texts


def test_it_takes_a_case_from_the_first_page_to_the_confirmation(
    patient_client: Client, patient_a: User, django_capture_on_commit_callbacks: Any
) -> None:
    case = _walk_the_intake(patient_client)
    assert case.status == Status.DRAFT
    assert (case.specialty, case.red_flags, case.red_flags_answered) == ("dermatology", [], True)
    assert case.questions.count() == 2
    assert (case.surgeries.count(), case.medications.count(), case.timeline.count()) == (1, 1, 1)
    assert str(case.measurements.get().value_mm) == "15.00"

    check = patient_client.get(f"/cases/{case.pk}/check/").content.decode()
    assert "Before you can send your case" not in check
    assert "Send my case" in check
    assert f"{CANARY} question two" in check and "1.5 cm" in check

    with django_capture_on_commit_callbacks(execute=True):
        response = patient_client.post(f"/cases/{case.pk}/submit/")

    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/submitted/"
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED
    assert case.submitted_at is not None
    assert case.due_at == case.submitted_at + timedelta(hours=settings.DEFAULT_TURNAROUND_HOURS)
    event = CaseEvent.objects.get(case=case)
    assert (event.old_status, event.new_status, event.actor) == (Status.DRAFT, Status.SUBMITTED, patient_a)

    confirmation = patient_client.get(response["Location"])
    assert confirmation.status_code == 200
    assert REFERENCE.match(case.reference)
    assert f'data-testid="reference">{case.reference}<' in confirmation.content.decode()
    assert "What happens next" in confirmation.content.decode()


def test_the_receipt_has_the_reference_and_a_link_but_no_clinical_text(
    patient_client: Client, patient_a: User, django_capture_on_commit_callbacks: Any
) -> None:
    case = _walk_the_intake(patient_client)
    with django_capture_on_commit_callbacks(execute=True):
        patient_client.post(f"/cases/{case.pk}/submit/")

    assert len(mail.outbox) == 1
    receipt = mail.outbox[0]
    assert receipt.to == [patient_a.email]
    assert case.reference in receipt.subject
    link = f"{settings.SITE_URL}/cases/{case.pk}/"
    assert case.reference in receipt.body and link in receipt.body
    html = str(receipt.alternatives[0][0])  # type: ignore[attr-defined]
    assert case.reference in html and link in html
    for text in _all_email_text():
        assert CANARY not in text


def test_the_receipt_lists_files_by_size_and_fingerprint_never_by_name(
    patient_client: Client, patient_a: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Seen before: the receipt listed the original file names, though it promises no medical
    information by e-mail (a file name is often a diagnosis)."""
    from tests.factories import accepted_upload

    case = ready_case(patient_a)
    upload = accepted_upload(case, name="melanoma-left-arm-canary.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        patient_client.post(f"/cases/{case.pk}/submit/")

    receipt = mail.outbox[0]
    html = str(receipt.alternatives[0][0])  # type: ignore[attr-defined]
    for text in (receipt.body, html):
        assert "melanoma" not in text
        assert upload.sha256 in text
    assert "shows each file by name" in receipt.body


def test_references_use_an_alphabet_without_look_alikes() -> None:
    assert not set("0O1ILU") & set(REFERENCE_ALPHABET)
    assert all(REFERENCE.match(new_reference()) for _ in range(500))


def test_submitting_twice_moves_the_case_once(
    patient_client: Client, patient_a: User, django_capture_on_commit_callbacks: Any
) -> None:
    case = ready_case(patient_a)
    with django_capture_on_commit_callbacks(execute=True):
        first = patient_client.post(f"/cases/{case.pk}/submit/")
        second = patient_client.post(f"/cases/{case.pk}/submit/")

    assert first["Location"] == second["Location"] == f"/cases/{case.pk}/submitted/"
    assert CaseEvent.objects.filter(case=case, new_status=Status.SUBMITTED).count() == 1
    assert len(mail.outbox) == 1


def test_it_rejects_get(patient_client: Client, patient_a: User) -> None:
    case = ready_case(patient_a)
    assert patient_client.get(f"/cases/{case.pk}/submit/").status_code == 405
    assert Case.objects.get(pk=case.pk).status == Status.DRAFT


def test_another_patient_cannot_submit_my_case(patient_a: User, patient_b: User) -> None:
    case = ready_case(patient_a)
    response = login(Client(), patient_b).post(f"/cases/{case.pk}/submit/")
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == Status.DRAFT


def _without_consent(patient: User) -> Case:
    return ready_case(patient, consent=False)


def _without_question(patient: User) -> Case:
    return ready_case(patient, question=False)


def _without_specialty(patient: User) -> Case:
    return ready_case(patient, specialty="")


def _with_red_flags(patient: User) -> Case:
    return ready_case(patient, red_flags=["chest_pain"])


def _red_flags_not_answered(patient: User) -> Case:
    return ready_case(patient, red_flags_answered=False)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (_with_red_flags, "You told us about symptoms that need emergency care now."),
        (_red_flags_not_answered, "Answer the question about urgent symptoms."),
        (_without_consent, "Read and accept the consent."),
        (_without_question, "Write at least one question for the specialist."),
        (_without_specialty, "Choose the kind of specialist you need."),
    ],
)
def test_it_refuses_a_case_that_is_not_ready_and_says_why(
    make: Any, problem: str, patient_client: Client, patient_a: User, django_capture_on_commit_callbacks: Any
) -> None:
    case = make(patient_a)
    check = patient_client.get(f"/cases/{case.pk}/check/").content.decode()
    assert problem in check
    assert "Send my case" not in check

    with django_capture_on_commit_callbacks(execute=True):
        response = patient_client.post(f"/cases/{case.pk}/submit/")

    assert response["Location"] == f"/cases/{case.pk}/check/"
    assert problem in patient_client.get(response["Location"]).content.decode()
    case.refresh_from_db()
    assert (case.status, case.submitted_at, case.due_at) == (Status.DRAFT, None, None)
    assert not CaseEvent.objects.filter(case=case).exists()
    assert mail.outbox == []


def test_a_red_flag_sends_the_patient_to_the_urgent_help_page(patient_client: Client, patient_a: User) -> None:
    case = CaseFactory(patient=patient_a, red_flags_answered=False)

    response = patient_client.post(step_url(case.pk, "urgent"), {"flags": ["breathing"]})

    assert response["Location"] == f"/cases/{case.pk}/urgent-help/"
    page = patient_client.get(response["Location"]).content.decode()
    assert "Get emergency help now" in page
    assert '<a href="tel:112">112</a>' in page and '<a href="tel:911">911</a>' in page
    case.refresh_from_db()
    assert (case.red_flags, case.red_flags_answered) == (["breathing"], True)


def test_changing_the_answer_to_none_clears_the_red_flags(patient_client: Client, patient_a: User) -> None:
    case = CaseFactory(patient=patient_a, red_flags=["breathing"])

    response = patient_client.post(step_url(case.pk, "urgent"), {"flags": ["none"]})

    assert response["Location"] == step_url(case.pk, "specialty")
    case.refresh_from_db()
    assert (case.red_flags, case.red_flags_answered) == ([], True)


def test_none_of_these_together_with_a_symptom_is_an_error(patient_client: Client, patient_a: User) -> None:
    case = CaseFactory(patient=patient_a, red_flags_answered=False)

    response = patient_client.post(step_url(case.pk, "urgent"), {"flags": ["none", "stroke"]})

    assert response.status_code == 200
    assert "Select “None of these” only if you have none of the symptoms." in response.content.decode()
    case.refresh_from_db()
    assert (case.red_flags, case.red_flags_answered) == ([], False)


def test_no_answer_to_the_urgent_question_is_an_error(patient_client: Client, patient_a: User) -> None:
    case = CaseFactory(patient=patient_a, red_flags_answered=False)
    response = patient_client.post(step_url(case.pk, "urgent"), {})
    assert "Select the symptoms you have now, or “None of these”." in response.content.decode()
    assert Case.objects.get(pk=case.pk).red_flags_answered is False


# -- mass assignment ------------------------------------------------------------------------

VALID_STEP_DATA: dict[str, dict[str, Any]] = {
    "urgent": {"flags": ["none"]},
    "specialty": {"specialty": "cardiology"},
    "reason": {"reason": "New reason", "expectations": ""},
    "first-opinion": {"first_diagnosis": "New diagnosis"},
    "questions": rows({"text": "A question?"}),
    "history": {"diagnoses": "Asthma"},
    "medication": rows({"name": "Ibuprofen"}),
    "files": {},
    "consent": {"accept": "on"},
}


@pytest.mark.parametrize("slug", list(VALID_STEP_DATA))
def test_fields_the_page_does_not_offer_are_ignored(slug: str, patient_client: Client, patient_a: User) -> None:
    other_patient, specialist = PatientFactory(), SpecialistFactory()
    case = CaseFactory(patient=patient_a)
    protected = ["status", "patient_id", "due_at", "submitted_at", "specialist_id", "reference", "sla_paused_at"]
    before = Case.objects.values(*protected).get(pk=case.pk)
    injected = {
        "status": Status.SUBMITTED,
        "patient": str(other_patient.pk),
        "patient_id": str(other_patient.pk),
        "due_at": "2030-01-01T00:00:00Z",
        "submitted_at": "2030-01-01T00:00:00Z",
        "specialist": str(specialist.pk),
        "specialist_id": str(specialist.pk),
        "reference": "SO-AAAA-AAAA",
        "sla_paused_at": "2030-01-01T00:00:00Z",
        "id": "00000000-0000-0000-0000-000000000000",
    }

    response = patient_client.post(step_url(case.pk, slug), {**VALID_STEP_DATA[slug], **injected})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Case.objects.values(*protected).get(pk=case.pk) == before
    assert Case.objects.filter(patient=other_patient).count() == 0


def test_a_question_row_cannot_edit_another_patients_question(patient_client: Client, patient_a: User) -> None:
    mine = CaseFactory(patient=patient_a)
    theirs = CaseFactory(patient=PatientFactory())
    their_question = Question.objects.create(case=theirs, text="Their question")

    patient_client.post(
        step_url(mine.pk, "questions"),
        rows(
            {"id": str(their_question.pk), "case": str(theirs.pk), "text": "Overwritten"},
            initial=1,
        ),
    )

    their_question.refresh_from_db()
    assert (their_question.case_id, their_question.text) == (theirs.pk, "Their question")


def test_a_submitted_case_cannot_be_edited_through_the_intake(patient_client: Client, patient_a: User) -> None:
    case = CaseFactory(patient=patient_a, status=Status.SUBMITTED, specialty="dermatology")

    response = patient_client.post(step_url(case.pk, "specialty"), {"specialty": "cardiology"})

    assert response["Location"] == f"/cases/{case.pk}/"
    assert Case.objects.get(pk=case.pk).specialty == "dermatology"


def test_saving_a_step_while_the_case_is_submitted_elsewhere_does_not_undo_the_submission(
    patient_client: Client, patient_a: User
) -> None:
    case = ready_case(patient_a)
    real_build_form = intake.build_form
    submitted_at = timezone.now()

    def submit_in_another_tab(step: Any, loaded: Case, data: Any, **kwargs: Any) -> Any:
        # The other tab's submit commits after this request has loaded the draft.
        Case.objects.filter(pk=loaded.pk).update(
            status=Status.SUBMITTED, submitted_at=submitted_at, due_at=submitted_at + timedelta(hours=72)
        )
        return real_build_form(step, loaded, data, **kwargs)

    with patch("cases.intake.build_form", autospec=True, side_effect=submit_in_another_tab):
        patient_client.post(step_url(case.pk, "specialty"), {"specialty": "cardiology"})

    case.refresh_from_db()
    assert (case.status, case.submitted_at) == (Status.SUBMITTED, submitted_at)
