"""Downloading a signed report's PDF: whoever may read the case, after a fresh factor; streamed
decrypted as an attachment that the browser never renders; audited."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.stepup import SESSION_KEY
from audit.models import AuditEvent
from reports import rendering
from reports.models import RenderStatus, SignedDocument
from tests.factories import PASSWORD, PatientFactory, SpecialistFactory, add_totp, login
from tests.reports.signed import case_in_review, signed_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(bucket: str) -> SignedDocument:
    specialist = SpecialistFactory()
    add_totp(specialist)
    document = signed_document(case_in_review(specialist=specialist), photos=1)
    rendering.document_render(document_id=document.pk)
    document.refresh_from_db()
    return document


def _client(user: Any, *, stepped_up: bool) -> Client:
    client = login(Client(), user)
    if stepped_up:
        session = client.session
        session[SESSION_KEY] = time.time()
        session.save()
    return client


def _url(document: SignedDocument) -> str:
    return reverse("reports:download", args=[document.pk])


def test_the_patient_downloads_the_pdf_after_step_up(document: SignedDocument) -> None:
    response = _client(document.report.case.patient, stepped_up=True).get(_url(document))
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content)  # type: ignore[arg-type]
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == document.pdf_sha256
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(document.pdf_size)
    assert response["Content-Disposition"].startswith("attachment;")
    assert document.report.case.reference in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == "no-store, private"  # private: added for signed-in users
    assert (
        AuditEvent.objects.filter(
            event_type="report_document.download", entity_id=str(document.pk), actor=document.report.case.patient
        ).count()
        == 1
    )


def test_without_step_up_the_patient_is_sent_to_confirm_it_is_them(document: SignedDocument) -> None:
    response = _client(document.report.case.patient, stepped_up=False).get(_url(document))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:step_up"))
    assert not AuditEvent.objects.filter(event_type="report_document.download").exists()


def test_the_specialist_needs_step_up_too(document: SignedDocument) -> None:
    specialist = document.report.case.specialist
    assert _client(specialist, stepped_up=False).get(_url(document)).status_code == 302
    assert _client(specialist, stepped_up=True).get(_url(document)).status_code == 200


@pytest.mark.parametrize("who", ["other_patient", "other_specialist"])
def test_strangers_get_404_even_after_step_up(document: SignedDocument, who: str) -> None:
    stranger = PatientFactory() if who == "other_patient" else SpecialistFactory()
    if who == "other_specialist":
        add_totp(stranger)
    response = _client(stranger, stepped_up=True).get(_url(document))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(event_type="report_document.read.denied", entity_id=str(document.pk)).exists()


def test_a_document_not_rendered_yet_is_not_found(document: SignedDocument) -> None:
    SignedDocument.objects.filter(pk=document.pk).update(render_status=RenderStatus.PENDING)
    response = _client(document.report.case.patient, stepped_up=True).get(_url(document))
    assert response.status_code == 404


def test_anonymous_users_are_sent_to_sign_in(document: SignedDocument) -> None:
    response = Client().get(_url(document))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_after_confirming_it_is_them_the_patient_lands_back_on_the_case(document: SignedDocument) -> None:
    """A download is an attachment: redirecting the step-up page to it started the download and
    left the person on the step-up page, with an earlier wrong-password error still showing."""
    client = _client(document.report.case.patient, stepped_up=False)
    case_url = reverse("cases:detail", args=[document.report.case_id])
    stepup_url = client.get(_url(document), HTTP_REFERER="http://testserver" + case_url)["Location"]
    assert client.post(stepup_url, {"password": "not it"}).status_code == 200
    response = client.post(stepup_url, {"password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0].split("#")[0] == case_url
    page = response.content.decode()
    assert "You confirmed it is you. You can download the report now." in page
    assert "That is not right" not in page
    assert _url(document) in page
    assert client.get(_url(document)).status_code == 200


def test_the_specialist_lands_back_on_the_workspace(document: SignedDocument) -> None:
    specialist = document.report.case.specialist
    response = _client(specialist, stepped_up=False).get(_url(document))
    assert response["Location"].startswith(reverse("accounts:step_up"))
    workspace = reverse("reports:workspace", args=[document.report.case_id])
    assert "next=" + workspace.replace("/", "%2F") in response["Location"]
