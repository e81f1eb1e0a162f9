"""File type from content (magic numbers), never from the name or the browser's Content-Type.

Kept apart from uploads.sanitize so the web process can check types without importing the
heavy decoders (numpy, pydicom, pikepdf, pillow-heif)."""

from __future__ import annotations

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def detect_type(head: bytes) -> str | None:
    """The type from magic numbers only; pass at least the first 132 bytes."""
    if head[128:132] == b"DICM":  # first: the preamble may be anything, even another format's magic
        return "dicom"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heif"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    return None
