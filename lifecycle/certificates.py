"""Deletion certificates: signed proof of what a purge destroyed.

The signed bytes are the canonical JSON of the certificate (sorted keys, no spaces, UTF-8), the
same serialization the audit chain uses. A certificate travels as a JSON file
({"certificate": ..., "signature": ..., "key_id": ...}) or as a PDF that prints it for people and
carries that JSON file as an embedded attachment (`certificate.json`), so the PDF itself can be
checked. Verification needs only the file and our public key (core/signing.py).
"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

import audit
from core import signing
from core.pdf import html_to_pdf
from lifecycle.models import DeletionCertificate
from lifecycle.purge import iso

PURPOSE = "deletion-certificate"
FORMAT = "secondopinion/deletion-certificate/1"
ATTACHMENT = "certificate.json"
MAX_BYTES = 2 * 1024 * 1024
REQUIRED = {
    "certificate_id",
    "kind",
    "issued_at",
    "patient_ref",
    "approved_by",
    "cases",
    "keys_destroyed",
    "completed_at",
    "key_id",
}


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@transaction.atomic
def certificate_issue(
    *,
    kind: str,
    patient_ref: uuid.UUID | str,
    requested_at: datetime | None,
    approved_by: dict[str, str] | str,
    cases: list[dict[str, Any]],
    keys_destroyed: list[dict[str, Any]],
    completed_at: datetime,
) -> DeletionCertificate:
    """Build, sign and store a certificate."""
    certificate = DeletionCertificate(
        kind=kind, patient_ref=patient_ref, issued_at=timezone.now(), key_id=signing.key_id()
    )
    content = {
        "format": FORMAT,
        "certificate_id": str(certificate.pk),
        "kind": kind,
        "issued_at": iso(certificate.issued_at),
        "patient_ref": str(patient_ref),
        "requested_at": iso(requested_at),
        "approved_by": approved_by,
        "cases": cases,
        "keys_destroyed": keys_destroyed,
        "completed_at": iso(completed_at),
        "key_id": certificate.key_id,
    }
    data = canonical(content)
    certificate.content = data.decode()
    certificate.signature = signing.sign(PURPOSE, data)
    certificate.full_clean()
    certificate.save(force_insert=True)
    audit.record(
        event_type="certificate.issue",
        action=audit.Action.CREATE,
        entity_type="DeletionCertificate",
        entity_id=str(certificate.pk),
        patient_id=patient_ref,
        detail={"kind": kind, "cases": len(cases), "keys": len(keys_destroyed)},
    )
    return certificate


def certificate_json(certificate: DeletionCertificate) -> bytes:
    envelope = {
        "format": FORMAT,
        "certificate": json.loads(certificate.content),
        "signature": certificate.signature,
        "key_id": certificate.key_id,
        "algorithm": "Ed25519",
    }
    return json.dumps(envelope, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def certificate_pdf(certificate: DeletionCertificate, *, language: str) -> bytes:
    """The human-readable certificate, with the signed JSON attached as certificate.json."""
    import pikepdf

    content = json.loads(certificate.content)
    with translation.override(language):
        html = render_to_string(
            "lifecycle/pdf/certificate.html",
            {
                "c": content,
                "certificate": certificate,
                "public_key": signing.public_key_pem(),
                "file_count": sum(len(case.get("files", [])) for case in content.get("cases", [])),
                "approved_by_policy": content.get("approved_by") == "policy",
            },
        )
    with pikepdf.open(io.BytesIO(html_to_pdf(html))) as pdf:
        pdf.attachments[ATTACHMENT] = pikepdf.AttachedFileSpec(
            pdf,
            certificate_json(certificate),
            filename=ATTACHMENT,
            mime_type="application/json",
            creation_date="",
            mod_date="",
            description="Signed deletion certificate",
        )
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def certificate_filename(certificate: DeletionCertificate, ext: str) -> str:
    return f"deletion-certificate-{certificate.pk}.{ext}"


# --- Verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str = ""  # a code: not_a_certificate, signature_mismatch, other_key
    content: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return {
            "not_a_certificate": "not a certificate",
            "signature_mismatch": "signature does not match",
            "other_key": "signed with another key",
        }.get(self.reason, self.reason)

    @property
    def file_count(self) -> int:
        return sum(len(case.get("files", [])) for case in self.content.get("cases", []))

    def summary(self) -> str:
        c = self.content
        return (
            f"certificate {c.get('certificate_id')} ({c.get('kind')}), issued {c.get('issued_at')}: "
            f"{len(c.get('cases', []))} case(s), {self.file_count} file(s), "
            f"{len(c.get('keys_destroyed', []))} key(s) destroyed"
        )


def _envelope(data: bytes) -> dict[str, Any] | None:
    if data.startswith(b"%PDF"):
        data = _attachment(data) or b""
    try:
        envelope = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if (
        not isinstance(envelope, dict)
        or not isinstance(envelope.get("certificate"), dict)
        or not isinstance(envelope.get("signature"), str)
        or not set(envelope["certificate"]) >= REQUIRED
    ):
        return None
    return envelope


def _attachment(data: bytes) -> bytes | None:
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            spec = pdf.attachments.get(ATTACHMENT)
            return None if spec is None else bytes(spec.get_file().read_bytes()[:MAX_BYTES])
    except Exception:  # any parse failure of an untrusted file means "not a certificate"
        return None


def certificate_verify(data: bytes) -> Verification:
    """Check a certificate file (JSON, or our PDF with the JSON attached)."""
    envelope = _envelope(data) if len(data) <= MAX_BYTES else None
    if envelope is None:
        return Verification(False, "not_a_certificate")
    content = envelope["certificate"]
    if not signing.verify(PURPOSE, canonical(content), envelope["signature"]):
        return Verification(False, "signature_mismatch", content)
    if content.get("key_id") != signing.key_id():
        return Verification(False, "other_key", content)
    return Verification(True, "", content)
