"""Deletion certificates verify as JSON and as PDF, by the command and the public page; an edited
or forged one fails, and anything else is "not a certificate"."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from core import signing
from lifecycle.certificates import PURPOSE, canonical, certificate_json, certificate_pdf
from lifecycle.models import DeletionCertificate
from lifecycle.retention import purge_expired
from tests.factories import PatientFactory
from tests.lifecycle.helpers import full_case

VERIFY = "/deletion-certificates/verify/"


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> None:
    from django.core.cache import cache

    cache.clear()  # attempts are counted per client address in the shared cache


@pytest.fixture
def certificate(db: Any, settings: Any) -> DeletionCertificate:
    settings.DEFAULT_RETENTION_DAYS = 0
    full_case(PatientFactory())
    purge_expired()
    return DeletionCertificate.objects.get()


def _edited(certificate: DeletionCertificate) -> bytes:
    envelope = json.loads(certificate_json(certificate))
    envelope["certificate"]["cases"][0]["files"][0]["sha256"] = "0" * 64
    return json.dumps(envelope).encode()


def _forged(certificate: DeletionCertificate) -> bytes:
    """Signed correctly, but with someone else's key."""
    envelope = json.loads(certificate_json(certificate))
    raw = Ed25519PrivateKey.generate().sign(
        b"secondopinion/" + PURPOSE.encode() + b"\x00" + canonical(envelope["certificate"])
    )
    envelope["signature"] = base64.b64encode(raw).decode()
    return json.dumps(envelope).encode()


def _pdf_with(attachment: bytes, pdf: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.attachments["certificate.json"] = pikepdf.AttachedFileSpec(doc, attachment, filename="certificate.json")
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


def _run(tmp_path: Path, data: bytes, name: str = "file") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    out = io.StringIO()
    call_command("verify_certificate", str(path), stdout=out)
    return out.getvalue()


def test_the_json_and_the_pdf_verify_with_the_command(certificate: DeletionCertificate, tmp_path: Path) -> None:
    out = _run(tmp_path, certificate_json(certificate), "c.json")
    assert out.startswith("valid:") and str(certificate.pk) in out and "1 case(s)" in out
    pdf = certificate_pdf(certificate, language="en")
    assert pdf.startswith(b"%PDF")
    assert _run(tmp_path, pdf, "c.pdf").startswith("valid:")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_edited, "signature does not match"),
        (_forged, "signature does not match"),
        (lambda c: b"%PDF-1.7 not really", "not a certificate"),
        (lambda c: b'{"hello": "world"}', "not a certificate"),
    ],
)
def test_edited_forged_or_foreign_files_fail_the_command(
    certificate: DeletionCertificate, tmp_path: Path, make: Any, reason: str
) -> None:
    with pytest.raises(CommandError, match=reason):
        _run(tmp_path, make(certificate))


def test_a_pdf_carrying_an_edited_certificate_fails(certificate: DeletionCertificate, tmp_path: Path) -> None:
    pdf = _pdf_with(_edited(certificate), certificate_pdf(certificate, language="es"))
    with pytest.raises(CommandError, match="signature does not match"):
        _run(tmp_path, pdf)


def test_the_public_page_checks_both_ways(certificate: DeletionCertificate, settings: Any) -> None:
    settings.REPORT_VERIFY_RATE = (100, 600)
    client = Client()
    page = client.get(VERIFY).content.decode()
    assert signing.public_key_pem().strip().splitlines()[1] in page
    for data in (certificate_json(certificate), certificate_pdf(certificate, language="en")):
        response = client.post(VERIFY, {"certificate": io.BytesIO(data)})
        assert response.status_code == 200 and b'data-verify-status="valid"' in response.content
        assert json.loads(certificate.content)["cases"][0]["reference"].encode() in response.content
    response = client.post(VERIFY, {"certificate": io.BytesIO(_edited(certificate))})
    assert b'data-verify-status="signature_mismatch"' in response.content
    response = client.post(VERIFY, {"certificate": io.BytesIO(b"GIF89a")})
    assert b'data-verify-status="not_a_certificate"' in response.content
    results = list(
        AuditEvent.objects.filter(event_type="certificate.verify")
        .order_by("id")
        .values_list("detail__result", flat=True)
    )
    assert results == ["valid", "valid", "signature_mismatch", "not_a_certificate"]


def test_the_public_page_refuses_big_or_missing_files_and_limits_attempts(
    certificate: DeletionCertificate, settings: Any
) -> None:
    settings.REPORT_VERIFY_RATE = (3, 600)
    client = Client()
    response = client.post(VERIFY, {"certificate": io.BytesIO(b"x" * (2 * 1024 * 1024 + 1))})
    assert response.status_code == 413 and b"There is a problem" in response.content
    response = client.post(VERIFY, {})
    assert response.status_code == 400 and b"Choose the certificate file" in response.content
    client.post(VERIFY, {})
    assert client.post(VERIFY, {"certificate": io.BytesIO(certificate_json(certificate))}).status_code == 429


def test_admins_list_and_download_certificates(certificate: DeletionCertificate, admin_client_verified: Client) -> None:
    assert str(certificate.pk) in admin_client_verified.get("/console/deletion-certificates/").content.decode()
    response = admin_client_verified.get(f"/console/deletion-certificates/{certificate.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert admin_client_verified.get(f"/console/deletion-certificates/{certificate.pk}/exe/").status_code == 404


def test_checking_reports_does_not_use_up_the_certificate_checks(
    certificate: DeletionCertificate, settings: Any
) -> None:
    """Each public verification page counts its own attempts (they shared one counter)."""
    settings.REPORT_VERIFY_RATE = (2, 600)
    client = Client(REMOTE_ADDR="198.51.100.23")
    for _ in range(3):
        client.post(reverse("reports:verify"), {"code": "ZZZZ-ZZZZ-ZZZZ"})
    assert client.post(reverse("reports:verify"), {"code": "ZZZZ-ZZZZ-ZZZZ"}).status_code == 429
    assert client.post(VERIFY, {"certificate": io.BytesIO(certificate_json(certificate))}).status_code == 200


def test_the_pdf_breaks_a_sha256_only_between_groups_of_eight() -> None:
    sha = "0123456789abcdef" * 4
    case = {"reference": "SO-TEST", "files": [{"id": "f1", "kind": "image", "size": 1, "sha256": sha}], "reports": []}
    html = render_to_string("lifecycle/pdf/certificate.html", {"c": {"cases": [case], "keys_destroyed": []}})
    grouped = "<wbr>".join(sha[i : i + 8] for i in range(0, 64, 8))
    assert f'<td class="mono hash">{grouped}</td>' in html  # .hash: no break inside a group
    assert sha not in html
