"""The PDF of a signed report is rendered by a real Celery worker (on the Redis broker, the test
database and the S3 server), stored encrypted, and carries what a reader and a verifier need."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from reports import rendering
from reports.models import RenderStatus, SignedDocument
from tests.factories import PatientFactory
from tests.reports import pdftools
from tests.reports.signed import XSS, case_in_review, consult, signed_document
from tests.uploads.pipeline.samples import bucket_objects
from tests.worker import (  # noqa: F401 - fixtures
    Worker,
    bucket_fixture,
    forget_queued_tasks,
    real_worker_fixture,
    worker_bucket_fixture,
    worker_fixture,
)

pytestmark = pytest.mark.django_db(transaction=True)  # rows committed, so the worker sees them
DONE_WITHIN = 60


def _wait(document_id: Any, worker: Worker, within: float = DONE_WITHIN) -> SignedDocument:
    deadline = time.monotonic() + within
    while True:
        document = SignedDocument.objects.select_related("patient_key").get(pk=document_id)
        if document.render_status != RenderStatus.PENDING:
            return document
        if time.monotonic() > deadline:
            pytest.fail(f"document still pending after {within} s\nworker log:\n{worker.output()}")
        time.sleep(0.05)


def test_a_signed_report_is_rendered_by_the_worker_and_stored_encrypted(
    real_worker: Worker, s3: Any, bucket: str
) -> None:
    case = case_in_review(patient=PatientFactory(full_name="Alba Canary-Patient"))
    consult(case, note="Reviewed the photos; agree.")
    document = signed_document(case, photos=3, **XSS)  # committed: the task is queued on commit

    done = _wait(document.pk, real_worker)
    assert (done.render_status, done.render_attempts) == (RenderStatus.READY, 1)
    assert done.rendered_at is not None and done.pdf_wrapped_key

    stored = bucket_objects(s3, bucket)[done.pdf_name]
    assert b"%PDF" not in stored and b"Canary" not in stored  # ciphertext only
    pdf = b"".join(rendering.open_document(done))
    assert pdf.startswith(b"%PDF-")
    assert (len(pdf), hashlib.sha256(pdf).hexdigest()) == (done.pdf_size, done.pdf_sha256)

    text = pdftools.text(pdf)
    for heading in (
        "Second opinion report",
        "Summary",
        "Findings",
        "Agreement with the first opinion",
        "Certainty",
        "Recommendations",
        "Alternatives, with their risks and benefits",
        "Suggested tests",
        "In-person evaluation",
        "Answers to your questions",
        "Limitations of a remote review",
        "Measurements",
        "Key photos",
        "Colleagues consulted",
        "Signed by",
        "Check that this report is authentic",
        "SHA-256 of the signed content",
    ):
        assert heading in text, heading
    for value in (
        case.reference,
        "Alba Canary-Patient",
        "Refined",
        "Modified",
        "Moderate",
        "Needed soon (within weeks)",
        "Question 1: is this serious?",
        "Answer to question 2.",
        "Dr Colleague Radiology",
        "Reviewed the photos; agree.",
        "Left shoulder",
        "5.2 mm",
        case.specialist.full_name,
        case.specialist.specialist_profile.licence_number,
        "Spain",
    ):
        assert value in text, value
    flat = "".join(text.split())
    assert done.content_sha256 in flat and done.verification_code in flat
    assert f"/verify/{done.verification_code}/" in flat

    # Markup typed into the report is printed as text; nothing it names was fetched or attached.
    for typed in XSS.values():
        assert "".join(typed.split()) in flat
    assert "root:x:0" not in text
    with pdftools.open_pdf(pdf) as parsed:
        assert len(parsed.attachments) == 0
        assert len(parsed.pages) >= 2
    assert pdftools.image_count(pdf) >= 3  # the key photos (the chart and QR code are vector)
    assert pdftools.first_page_png(pdf).startswith(b"\x89PNG")
    assert AuditEvent.objects.filter(event_type="report_document.render", entity_id=str(done.pk)).count() == 1


def test_a_document_whose_task_message_was_lost_is_rendered_after_the_sweep(
    real_worker: Worker, s3: Any, bucket: str
) -> None:
    real_worker.stop()  # the message is published while no worker runs, then lost
    document = signed_document(photos=0)
    forget_queued_tasks()
    real_worker.start()
    assert rendering.documents_sweep() == {"requeued": 0, "failed": 0}  # not lost yet: maybe just queued

    SignedDocument.objects.filter(pk=document.pk).update(
        signed_at=timezone.now() - rendering.LOST_AFTER - timedelta(minutes=1)
    )
    assert rendering.documents_sweep() == {"requeued": 1, "failed": 0}
    done = _wait(document.pk, real_worker)
    assert done.render_status == RenderStatus.READY
    assert set(bucket_objects(s3, bucket)) >= {done.pdf_name}
