"""File type from content (magic numbers), never from the name or the browser's Content-Type.

Kept apart from uploads.sanitize so the web process can check types without importing the
heavy decoders (numpy, pydicom, pikepdf, pillow-heif)."""

from __future__ import annotations

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def detect_type(head: bytes) -> str | None:
    """The type from magic numbers only; pass the first PDF_HEADER_WINDOW bytes (132 at least)."""
    if head[128:132] == b"DICM":  # first: the preamble may be anything, even another format's magic
        return "dicom"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heif"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if pdf_offset(head) is not None:
        return "pdf"
    return None


PDF_HEADER_WINDOW = 1024  # PDF readers find "%PDF-" anywhere in the first 1024 bytes (ISO 32000 Annex H)


def pdf_offset(head: bytes) -> int | None:
    """Where "%PDF-" starts: at 0, or after a few bytes some scanners and mail gateways write first."""
    found = head.find(b"%PDF-", 0, PDF_HEADER_WINDOW)
    return None if found < 0 else found


_OTHER_IMAGES = (b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM", b"\x00\x00\x01\x00")
_OTHER_ARCHIVES = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")
_PROGRAMS = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xca\xfe\xba\xbe", b"#!")
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"3gp4", b"3gp5", b"3g2a", b"M4V "}
_AUDIO_BRANDS = {b"M4A "}


def refused_kind(head: bytes) -> str:
    """What a file we don't accept is, so that the patient is told in words ("a Word document")
    and what to do; the reject code of uploads.services.REJECTIONS. Pass the first 1024 bytes."""
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE: Word, Excel or PowerPoint 97-2003
        return "office_document"
    if head.startswith(_OTHER_IMAGES) or (head[4:8] == b"ftyp" and head[8:12] in {b"avif", b"avis"}):
        return "other_image"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "other_image"
    if (head[4:8] == b"ftyp" and head[8:12] in _VIDEO_BRANDS) or (head.startswith(b"RIFF") and head[8:12] == b"AVI "):
        return "video"
    if head.startswith(b"\x1aE\xdf\xa3") or head[4:8] in {b"moov", b"mdat"}:  # Matroska/WebM, QuickTime
        return "video"
    if (head[4:8] == b"ftyp" and head[8:12] in _AUDIO_BRANDS) or head.startswith((b"ID3", b"OggS", b"fLaC")):
        return "audio"
    if head.startswith(_OTHER_ARCHIVES):
        return "other_archive"
    if head.startswith(_PROGRAMS):
        return "program"
    if head.startswith(b"{\\rtf"):
        return "word_document"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<svg", b"<head", b"<body", b"<script")):
        return "web_page"
    if head and all(b >= 0x20 or b in b"\t\r\n\x0c" for b in head.rstrip(b"\x00")[:PDF_HEADER_WINDOW]):
        return "text"
    return "unsupported_type"


# A ZIP that is an Office or OpenDocument file: names its members have (ECMA-376 Part 2; ODF 1.2).
OFFICE_MEMBERS = (("word/", "word_document"), ("xl/", "spreadsheet"), ("ppt/", "presentation"))
OPENDOCUMENT_TYPES = (
    (b"application/vnd.oasis.opendocument.text", "word_document"),
    (b"application/vnd.oasis.opendocument.spreadsheet", "spreadsheet"),
    (b"application/vnd.oasis.opendocument.presentation", "presentation"),
)
