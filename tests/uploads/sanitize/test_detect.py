from __future__ import annotations

import pytest

from tests.uploads.sanitize import corpus
from uploads.sanitize import Rejected, detect_type, sanitize

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(200)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def test_it_detects_our_types_from_content() -> None:
    assert detect_type(corpus.encode(corpus.page((8, 8)), "JPEG")) == "jpeg"
    assert detect_type(corpus.encode(corpus.page((8, 8)), "PNG")) == "png"
    assert detect_type(corpus.plain_pdf()) == "pdf"
    assert detect_type(corpus.dicom_bytes()[:132]) == "dicom"
    assert detect_type(corpus.zip_of({"a": b"x"})) == "zip"
    assert detect_type(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "heif"


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200)  # a .doc, .xls or .ppt (Office 97-2003)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
DOCX = corpus.zip_of(
    {"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>", "word/document.xml": b"<w/>"}
)
XLSX = corpus.zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
PPTX = corpus.zip_of({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"})
ODT = corpus.zip_of({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"})


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (SVG, "web_page"),
        (HTML, "web_page"),
        (PE, "program"),
        (ELF, "program"),
        (GIF, "other_image"),
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00", "other_image"),
        (b"II*\x00" + bytes(100), "other_image"),
        (MP4, "video"),
        (b"just some text\n", "text"),
        (corpus.EICAR, "text"),
        (OLE, "office_document"),
        (b"Rar!\x1a\x07\x00" + bytes(100), "other_archive"),
        (bytes(range(256)) * 2, "unsupported_type"),
    ],
    ids=[
        "svg-with-script",
        "html-named-jpg",
        "pe-named-dcm",
        "elf-named-dcm",
        "gif",
        "avif",
        "tiff",
        "mp4",
        "text",
        "eicar",
        "office-97",
        "rar",
        "unknown",
    ],
)
def test_it_rejects_everything_else_naming_what_it_is(data: bytes, code: str) -> None:
    assert detect_type(data) is None
    with pytest.raises(Rejected) as e:
        sanitize(data)
    assert e.value.code == code


@pytest.mark.parametrize(
    ("data", "code"),
    [(DOCX, "word_document"), (ODT, "word_document"), (XLSX, "spreadsheet"), (PPTX, "presentation")],
    ids=["docx", "odt", "xlsx", "pptx"],
)
def test_it_rejects_an_office_file_as_what_it_is_not_as_a_zip_without_imaging(data: bytes, code: str) -> None:
    assert detect_type(data) == "zip"  # an Office file is a ZIP
    with pytest.raises(Rejected) as e:
        sanitize(data)
    assert e.value.code == code


def test_it_rejects_html_before_jpeg_polyglot() -> None:
    # Our magic must come first: a browser sniffing this as HTML is exactly the risk.
    data = HTML + corpus.encode(corpus.page((8, 8)), "JPEG")
    with pytest.raises(Rejected, match="web_page"):
        sanitize(data)


def test_it_rejects_empty_bytes() -> None:
    with pytest.raises(Rejected) as e:
        sanitize(b"")
    assert e.value.code == "empty"


def test_it_rejects_dicom_without_preamble() -> None:
    # pydicom could read it with force=True, but without "DICM" anything could pass for DICOM.
    with pytest.raises(Rejected, match="unsupported_type"):
        sanitize(corpus.dicom_bytes()[132:])
