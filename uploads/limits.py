"""Upload limits, enforced while the bytes stream in (uploads.handler)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    photo: int
    pdf: int
    dicom: int
    archive: int
    max_files: int
    case_bytes: int
    existing_files: int = 0
    existing_bytes: int = 0

    @classmethod
    def for_case(cls, *, existing_files: int, existing_bytes: int) -> Limits:
        c = settings.UPLOAD_LIMITS
        return cls(
            photo=c["photo_mb"] * MB,
            pdf=c["pdf_mb"] * MB,
            dicom=c["dicom_mb"] * MB,
            archive=c["archive_mb"] * MB,
            max_files=c["files_per_case"],
            case_bytes=c["case_mb"] * MB,
            existing_files=existing_files,
            existing_bytes=existing_bytes,
        )

    def per_file(self, detected: str | None) -> int:
        """The limit for a file of the type its first bytes show (the photo limit until known)."""
        return {"pdf": self.pdf, "dicom": self.dicom, "zip": self.archive}.get(detected or "", self.photo)

    @property
    def request_max(self) -> int:
        """No single request may carry more than the case can still take (plus multipart overhead)."""
        return self.case_bytes - self.existing_bytes + MB

    def may_add(self, in_request: int) -> bool:
        return self.existing_files + in_request < self.max_files

    def fits_quota(self, bytes_in_request: int) -> bool:
        return self.existing_bytes + bytes_in_request <= self.case_bytes
