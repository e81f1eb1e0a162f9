from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from cases.models import CaseEvent, Status
from reports import services, snapshot
from reports.models import Answer, RenderStatus, SignedDocument
from tests.factories import SpecialistFactory, login
from tests.reports.helpers import case_in_review, complete_draft

pytestmark = pytest.mark.django_db


def test_signing_freezes_the_report_and_tells_the_patient(
    patient_a: Any, specialist: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = case_in_review(patient_a, specialist)
    report = complete_draft(case, specialist)

    with django_capture_on_commit_callbacks(execute=True):
        document = services.report_sign(report=report, signer=specialist)

    case.refresh_from_db()
    assert case.status == Status.REPORT_READY
    assert CaseEvent.objects.filter(case=case, new_status=Status.REPORT_READY, reason="report_signed").exists()
    assert document.version == 1 and document.is_current
    assert document.content_sha256 == snapshot.content_sha256(document.content)
    assert document.content["report"]["summary"] == report.summary
    assert [a["answer"] for a in document.content["answers"]] == ["Answer to Question 1?", "Answer to Question 2?"]
    assert document.content["signer"]["licence"] == specialist.specialist_profile.licence_number
    (email,) = [m for m in mail.outbox if m.to == [patient_a.email]]
    assert case.reference in email.subject
    assert report.summary not in email.body and "mole" not in email.body
    with pytest.raises(services.NotAllowed):
        services.report_save_draft(actor=specialist, report=report, fields={"summary": "changed"}, answers={})


def test_signing_is_refused_while_a_question_is_unanswered(patient_a: Any, specialist: Any) -> None:
    case = case_in_review(patient_a, specialist, questions=3)
    report = complete_draft(case, specialist)
    Answer.objects.filter(report=report, question__position=1).update(text="  ")

    with pytest.raises(services.CannotSign) as refused:
        services.report_sign(report=report, signer=specialist)

    assert refused.value.problems == ["Answer the patient's question 2."]
    assert not SignedDocument.objects.exists()
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW


def test_signing_lists_every_missing_section(patient_a: Any, specialist: Any) -> None:
    case = case_in_review(patient_a, specialist, questions=1)
    report = complete_draft(case, specialist, summary="", certainty="", in_person_reason="")

    with pytest.raises(services.CannotSign) as refused:
        services.report_sign(report=report, signer=specialist)

    assert refused.value.problems == [
        "Write the summary.",
        "Choose your level of certainty.",
        "Explain why an in-person evaluation is needed.",
    ]


def test_a_colleague_cannot_sign_the_leads_report(patient_a: Any, specialist: Any) -> None:
    case = case_in_review(patient_a, specialist)
    report = complete_draft(case, specialist)
    colleague = SpecialistFactory()

    with pytest.raises(services.CannotSign):
        services.report_sign(report=report, signer=colleague)
    assert report.documents.count() == 0


def test_a_report_cannot_be_signed_while_the_case_waits_for_the_patient(patient_a: Any, specialist: Any) -> None:
    case = case_in_review(patient_a, specialist)
    case.status = Status.AWAITING_PATIENT
    case.save(update_fields=["status"])
    report = complete_draft(case, specialist)

    with pytest.raises(services.CannotSign) as refused:
        services.report_sign(report=report, signer=specialist)
    assert "waiting for the patient" in refused.value.problems[0]


def test_the_sign_page_asks_for_a_fresh_second_factor(
    patient_a: Any, specialist: Any, specialist_client: Client
) -> None:
    case = case_in_review(patient_a, specialist)
    complete_draft(case, specialist)

    response = specialist_client.post(
        f"/specialist/cases/{case.pk}/report/sign/",
        {"confirm": "on"},
        HTTP_REFERER=f"/specialist/cases/{case.pk}/report/sign/",
    )

    assert response.status_code == 302 and response["Location"].startswith("/accounts/security/step-up/")
    assert not SignedDocument.objects.exists()


def _stepped_up(client: Client) -> Client:
    import time

    session = client.session
    session["stepup_at"] = time.time()
    session.save()
    return client


def test_after_step_up_the_specialist_signs_from_the_page(
    patient_a: Any, specialist: Any, specialist_client: Client
) -> None:
    case = case_in_review(patient_a, specialist)
    complete_draft(case, specialist)
    client = _stepped_up(specialist_client)

    page = client.get(f"/specialist/cases/{case.pk}/report/sign/")
    assert page.status_code == 200 and "Before you can sign" not in page.content.decode()
    response = client.post(f"/specialist/cases/{case.pk}/report/sign/", {"confirm": "on"})

    assert response.status_code == 302
    assert SignedDocument.objects.get().report.case == case


def test_the_sign_page_explains_what_is_missing(patient_a: Any, specialist: Any, specialist_client: Client) -> None:
    case = case_in_review(patient_a, specialist)
    complete_draft(case, specialist, findings="")
    client = _stepped_up(specialist_client)

    page = client.get(f"/specialist/cases/{case.pk}/report/sign/", follow=True).content.decode()

    assert "Before you can sign" in page and "Write the findings." in page
    assert 'name="confirm"' not in page


def test_another_specialist_cannot_open_the_report_editor(patient_a: Any, specialist: Any) -> None:
    case = case_in_review(patient_a, specialist)
    other = SpecialistFactory()
    from tests.factories import add_totp

    add_totp(other)
    client = login(Client(), other)
    for url in ("report/", "report/preview/", "report/sign/"):
        assert client.get(f"/specialist/cases/{case.pk}/{url}").status_code == 404


def test_drafts_save_and_autosave(patient_a: Any, specialist: Any, specialist_client: Client) -> None:
    case = case_in_review(patient_a, specialist, questions=1)
    question = case.questions.get()
    url = f"/specialist/cases/{case.pk}/report/"

    assert specialist_client.get(url).status_code == 200
    response = specialist_client.post(
        url, {"summary": "First thoughts", f"answer_{question.pk}": "Probably not."}, HTTP_X_AUTOSAVE="1"
    )
    assert response.status_code == 200 and response.json()["saved"] is True
    report = case.reports.get()
    assert report.summary == "First thoughts" and report.answers.get().text == "Probably not."

    response = specialist_client.post(url, {"summary": "Second thoughts", "preview": ""})
    assert response["Location"] == f"/specialist/cases/{case.pk}/report/preview/"
    preview = specialist_client.get(response["Location"]).content.decode()
    assert "Second thoughts" in preview and "Write the findings." in preview


def test_patient_text_and_report_text_render_as_text(
    patient_a: Any, specialist: Any, specialist_client: Client
) -> None:
    case = case_in_review(patient_a, specialist, questions=0)
    from cases.models import Question

    Question.objects.create(case=case, text="<script>alert('q')</script>")
    report = complete_draft(case, specialist, summary="<img src=x onerror=alert(1)>")
    services.report_sign(report=report, signer=specialist)

    page = login(Client(), patient_a).get(f"/cases/{case.pk}/").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert('q')</script>" not in page


def test_the_draft_pdf_preview_is_watermarked_and_has_no_verification_code(
    patient_a: Any, specialist: Any, specialist_client: Client
) -> None:
    import subprocess

    case = case_in_review(patient_a, specialist)
    complete_draft(case, specialist)

    response = specialist_client.get(f"/specialist/cases/{case.pk}/report/preview.pdf")

    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=b"".join(response.streaming_content), capture_output=True, check=True
    ).stdout
    assert b"DRAFT" in text and b"The mole looks benign" in text
    assert not SignedDocument.objects.exists()


def test_the_workspace_leads_to_the_report_and_then_shows_it_signed(
    patient_a: Any, specialist: Any, specialist_client: Client
) -> None:
    case = case_in_review(patient_a, specialist)
    url = f"/specialist/cases/{case.pk}/"
    assert "Write the report" in specialist_client.get(url).content.decode()

    report = complete_draft(case, specialist)
    assert "Continue the report" in specialist_client.get(url).content.decode()

    document = services.report_sign(report=report, signer=specialist)
    page = specialist_client.get(url).content.decode()
    assert "Write the report" not in page and document.verification_code in page
    assert "Add a signed addendum" in page


def test_a_broker_outage_neither_fails_nor_undoes_the_signature(
    patient_a: Any, specialist: Any, broker_down: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Redis down at the moment of signing (seen in `make load`'s chaos run): the signature stands,
    nothing is raised after the commit, and the PDF stays pending until the sweeper renders it."""
    from datetime import timedelta

    from django.utils import timezone

    from reports.rendering import LOST_AFTER, documents_sweep

    case = case_in_review(patient_a, specialist)
    report = complete_draft(case, specialist)
    mail.outbox.clear()
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        document = services.report_sign(report=report, signer=specialist)

    document.refresh_from_db()
    case.refresh_from_db()
    assert document.render_status == RenderStatus.PENDING
    assert case.status == Status.REPORT_READY
    assert mail.outbox == []  # queued in the outbox; the sweeper sends it (tests/accounts/test_outbox.py)
    # The broker is back: the sweeper finds the lost render and the PDF is made.
    SignedDocument.objects.filter(pk=document.pk).update(signed_at=timezone.now() - LOST_AFTER - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert documents_sweep()["requeued"] == 1
    document.refresh_from_db()
    assert document.render_status == RenderStatus.READY


def test_what_is_missing_is_listed_before_the_second_factor_is_asked(
    patient_a: Any, specialist: Any, specialist_client: Client
) -> None:
    """Seen before: "Save and sign" asked for a fresh code first, then said the report was incomplete."""
    case = case_in_review(patient_a, specialist)
    complete_draft(case, specialist, findings="")
    response = specialist_client.get(f"/specialist/cases/{case.pk}/report/sign/", follow=True)
    assert response.redirect_chain[-1][0] == f"/specialist/cases/{case.pk}/report/preview/"
    page = response.content.decode()
    assert "Before you can sign" in page and "Write the findings." in page
    assert "Confirm it is you" not in page


def test_each_unanswered_question_is_named_by_its_number(patient_a: Any, specialist: Any) -> None:
    """Seen before: "Answer the patient's question 1." three times (the questions all had position 0)."""
    case = case_in_review(patient_a, specialist, questions=0)
    for text in ("Is it cancer?", "Do I need surgery?", "Can I swim?"):
        case.questions.create(text=text)  # as the intake's formset saves them: position 0
    report = complete_draft(case, specialist)
    Answer.objects.filter(report=report).delete()
    assert [p for p in services.signing_problems(report) if "question" in p] == [
        "Answer the patient's question 1.",
        "Answer the patient's question 2.",
        "Answer the patient's question 3.",
    ]
