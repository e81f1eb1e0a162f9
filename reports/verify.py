"""Public verification of a report: by its verification code (typed, or the QR code's URL) or by
uploading the PDF, whose SHA-256 we kept when we rendered it. The answer names only the issuer,
the signing date and whether a newer version replaced it: no clinical content, no patient, no
case reference. Attempts are rate-limited per client address and audited (codes only)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

import audit
from cases.models import REFERENCE_ALPHABET
from core import ratelimit
from reports.models import RenderStatus, SignedDocument

MB = 1024 * 1024
UPLOAD_FIELD = "pdf"
_CODE = re.compile(f"^[{REFERENCE_ALPHABET}]{{12}}$")


def max_bytes() -> int:
    return int(settings.REPORT_VERIFY_MAX_MB) * MB


def normalise_code(value: str) -> str | None:
    """ "7k4m q2xp-9htr" → "7K4M-Q2XP-9HTR"; None when it cannot be a verification code."""
    chars = re.sub(r"[\s\-–—]", "", value or "").upper()
    if not _CODE.match(chars):
        return None
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


class VerifyCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        help_text=_("12 letters and numbers, printed under the QR code, for example 7K4M-Q2XP-9HTR."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(_("Enter the 12-character code printed on the report, like 7K4M-Q2XP-9HTR."))
        return code


class HashingUploadHandler(FileUploadHandler):
    """Hashes the uploaded PDF as it streams and keeps nothing: no temporary file, no copy in
    memory. One file, in the `pdf` field; past the size limit the rest is not hashed."""

    def __init__(self, request: HttpRequest, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.sha256: str | None = None
        self.size = 0
        self.too_large = False
        self._hash: Any = None
        self._seen = False

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if field_name != UPLOAD_FIELD or self._seen:
            raise SkipFile
        self._seen = True
        self._hash = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit:
            self.too_large, self._hash = True, None
            raise StopUpload(connection_reset=False)  # the view checked Content-Length: the rest is short
        self._hash.update(raw_data)

    def file_complete(self, file_size: int) -> None:
        if self._hash is not None and file_size > 0:
            self.sha256 = self._hash.hexdigest()
        self._hash = None
        return None  # nothing goes into request.FILES


@dataclass(frozen=True)
class Result:
    """What the verification page may say about a document."""

    found: bool
    signer_name: str = ""
    signer_specialties: tuple[str, ...] = ()
    signer_licence: str = ""
    signed_at: datetime | None = None
    superseded_at: datetime | None = None
    pdf_sha256: str = ""

    @property
    def status(self) -> str:
        if not self.found:
            return "unknown"
        return "superseded" if self.superseded_at else "valid"


def _result(document: SignedDocument | None) -> Result:
    if document is None:
        return Result(found=False)
    from reports.rendering import specialty_labels

    signer = document.content.get("signer", {})
    return Result(
        found=True,
        signer_name=signer.get("name", ""),
        signer_specialties=tuple(specialty_labels(signer.get("specialties", []))),
        signer_licence=signer.get("licence", ""),
        signed_at=document.signed_at,
        superseded_at=document.superseded_at,
        pdf_sha256=document.pdf_sha256 if document.render_status == RenderStatus.READY else "",
    )


def by_code(code: str) -> tuple[SignedDocument | None, Result]:
    document = SignedDocument.objects.filter(verification_code=code).first()
    return document, _result(document)


def by_pdf_sha256(sha256: str) -> tuple[SignedDocument | None, Result]:
    document = SignedDocument.objects.filter(pdf_sha256=sha256, render_status=RenderStatus.READY).first()
    return document, _result(document)


def over_limit(request: HttpRequest) -> bool:
    """Count one verification attempt of this client; True once it is over REPORT_VERIFY_RATE."""
    return ratelimit.over_limit(request, scope="report-verify", rate=settings.REPORT_VERIFY_RATE)


def record(request: HttpRequest, *, method: str, result: str, document: SignedDocument | None = None) -> None:
    """An audit event per attempt: how (code, qr, upload) and the outcome; never what was typed."""
    audit.record(
        request=request,
        event_type="report.verify",
        action=audit.Action.EXECUTE,
        outcome=audit.Outcome.SUCCESS if document is not None else audit.Outcome.MINOR_FAILURE,
        entity_type="SignedDocument" if document is not None else "",
        entity_id=str(document.pk) if document is not None else "",
        detail={"method": method, "result": result},
    )
