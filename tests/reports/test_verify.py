"""Public verification: by code, by the QR code's URL, or by uploading the PDF (hashed as it
streams, never kept). Only issuer, signing date and status are shown; attempts are rate-limited
per client address, CSRF-protected and audited."""

from __future__ import annotations

import hashlib
import io
import random
from typing import Any

import pytest
from django.core.files.uploadhandler import StopUpload
from django.test import Client, RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from reports import rendering, verify
from reports.models import SignedDocument
from tests.reports.signed import sign_addendum, signed_document

pytestmark = pytest.mark.django_db
VERIFY = "/verify/"


@pytest.fixture
def document(bucket: str) -> SignedDocument:
    document = signed_document(photos=0)
    rendering.document_render(document_id=document.pk)
    document.refresh_from_db()
    return document


def _address() -> str:
    return f"2001:db8::{random.getrandbits(32):x}"  # a fresh address: rate-limit counters never collide


@pytest.fixture
def visitor() -> Client:
    """An anonymous visitor from an address of its own."""
    return Client(REMOTE_ADDR=_address())


def _pdf(document: SignedDocument) -> bytes:
    return b"".join(rendering.open_document(document))


def _upload(visitor: Client, data: bytes) -> Any:
    return visitor.post(reverse("reports:verify"), {"pdf": io.BytesIO(data)})


def _private(document: SignedDocument) -> list[str]:
    content = document.content
    return [
        content["case"]["reference"],
        content["case"]["patient_name"],
        content["report"]["summary"],
        content["answers"][0]["question"],
    ]


def _assert_shows_only_the_issuer(response: Any, document: SignedDocument) -> None:
    page = response.content.decode()
    signer = document.report.author
    assert signer.full_name in page and signer.specialist_profile.licence_number in page
    assert "Dermatology" in page
    for private in _private(document):
        assert private not in page


def test_the_page_works_for_anyone_without_javascript(visitor: Client) -> None:
    response = visitor.get(reverse("reports:verify"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="code"' in page and 'type="file" name="pdf"' in page and 'enctype="multipart/form-data"' in page
    assert reverse("reports:verify") == VERIFY


def test_a_valid_code_names_the_issuer_and_nothing_else(visitor: Client, document: SignedDocument) -> None:
    response = visitor.post(reverse("reports:verify"), {"code": document.verification_code.lower().replace("-", " ")})
    assert response.status_code == 200
    assert 'data-verify-status="valid"' in response.content.decode()
    _assert_shows_only_the_issuer(response, document)
    assert document.pdf_sha256 in response.content.decode()
    event = AuditEvent.objects.filter(event_type="report.verify").latest("id")
    assert (event.entity_id, event.detail, event.outcome) == (
        str(document.pk),
        {"method": "code", "result": "valid"},
        "0",
    )
    assert event.case_id is None and event.patient_id is None


def test_the_qr_code_url_gives_the_same_answer(visitor: Client, document: SignedDocument) -> None:
    response = visitor.get(reverse("reports:verify_code", args=[document.verification_code]))
    assert response.status_code == 200 and 'data-verify-status="valid"' in response.content.decode()
    _assert_shows_only_the_issuer(response, document)
    assert rendering.verification_url(document.verification_code).endswith(
        reverse("reports:verify_code", args=[document.verification_code])
    )


@pytest.mark.parametrize("code", ["ZZZZ-ZZZZ-ZZZZ", "not-a-code", "<script>"])
def test_an_unknown_code_is_not_confirmed(visitor: Client, code: str) -> None:
    response = visitor.get(reverse("reports:verify_code", args=[code]))
    assert response.status_code == 200
    assert 'data-verify-status="unknown"' in response.content.decode()
    assert AuditEvent.objects.filter(event_type="report.verify").latest("id").detail == {
        "method": "qr",
        "result": "unknown",
    }


def test_a_malformed_code_is_an_error_on_the_form(visitor: Client) -> None:
    response = visitor.post(reverse("reports:verify"), {"code": "12"})
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


def test_the_pdf_we_issued_is_authentic_and_unaltered(visitor: Client, document: SignedDocument) -> None:
    response = _upload(visitor, _pdf(document))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-verify-status="valid"' in page and "Authentic and unaltered" in page
    _assert_shows_only_the_issuer(response, document)
    assert AuditEvent.objects.filter(event_type="report.verify").latest("id").detail == {
        "method": "upload",
        "result": "valid",
    }


def test_a_pdf_with_one_byte_changed_fails(visitor: Client, document: SignedDocument) -> None:
    pdf = bytearray(_pdf(document))
    pdf[len(pdf) // 2] ^= 0x01
    response = _upload(visitor, bytes(pdf))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-verify-status="unknown"' in page
    assert "not a report we issued, or it was altered" in page
    assert document.report.author.full_name not in page


def test_after_an_addendum_the_earlier_version_is_superseded(visitor: Client, document: SignedDocument) -> None:
    newer = sign_addendum(document)
    rendering.document_render(document_id=newer.pk)
    newer.refresh_from_db()
    document.refresh_from_db()
    assert document.superseded_at is not None

    old = _upload(visitor, _pdf(document)).content.decode()
    assert 'data-verify-status="superseded"' in old
    assert f"Superseded by an addendum on {document.superseded_at:%-d %B %Y}" in old
    by_code = visitor.post(reverse("reports:verify"), {"code": document.verification_code}).content.decode()
    assert 'data-verify-status="superseded"' in by_code
    assert 'data-verify-status="valid"' in _upload(visitor, _pdf(newer)).content.decode()


def test_a_file_over_the_limit_is_refused_before_it_is_read(visitor: Client, settings: Any) -> None:
    settings.REPORT_VERIFY_MAX_MB = 1
    response = _upload(visitor, b"%PDF-" + b"0" * (2 * verify.MB))
    assert response.status_code == 413
    assert "larger than 1 MB" in response.content.decode()
    assert AuditEvent.objects.filter(event_type="report.verify").latest("id").detail == {
        "method": "upload",
        "result": "too_large",
    }


def test_the_upload_handler_hashes_as_it_streams_and_stops_at_the_limit() -> None:
    handler = verify.HashingUploadHandler(RequestFactory().post("/"), limit=10)
    handler.new_file("pdf", "r.pdf", "application/pdf", None)
    handler.receive_data_chunk(b"12345", 0)
    handler.receive_data_chunk(b"67890", 5)
    handler.file_complete(10)
    assert handler.sha256 == hashlib.sha256(b"1234567890").hexdigest()

    big = verify.HashingUploadHandler(RequestFactory().post("/"), limit=10)
    big.new_file("pdf", "r.pdf", "application/pdf", None)
    with pytest.raises(StopUpload):
        big.receive_data_chunk(b"x" * 11, 0)
    big.file_complete(11)
    assert big.too_large and big.sha256 is None


def test_a_post_without_a_file_or_code_asks_for_the_file(visitor: Client) -> None:
    response = visitor.post(reverse("reports:verify"), {})
    assert response.status_code == 400
    assert "Choose the report" in response.content.decode()


def test_the_form_needs_the_csrf_token(document: SignedDocument) -> None:
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR=_address())
    assert strict.post(reverse("reports:verify"), {"code": document.verification_code}).status_code == 403
    assert strict.post(reverse("reports:verify"), {"pdf": io.BytesIO(_pdf(document))}).status_code == 403


def test_attempts_are_rate_limited_per_address(visitor: Client, settings: Any, document: SignedDocument) -> None:
    settings.REPORT_VERIFY_RATE = (3, 600)
    for _ in range(3):
        assert visitor.post(reverse("reports:verify"), {"code": "ZZZZ-ZZZZ-ZZZZ"}).status_code == 200
    limited = visitor.post(reverse("reports:verify"), {"code": document.verification_code})
    assert limited.status_code == 429
    assert "Too many checks" in limited.content.decode() and "10 minutes" in limited.content.decode()
    assert visitor.get(reverse("reports:verify_code", args=[document.verification_code])).status_code == 429
    assert AuditEvent.objects.filter(event_type="report.verify").latest("id").detail == {
        "method": "qr",
        "result": "rate_limited",
    }
    other = Client(REMOTE_ADDR=_address())
    assert other.get(reverse("reports:verify_code", args=[document.verification_code])).status_code == 200
