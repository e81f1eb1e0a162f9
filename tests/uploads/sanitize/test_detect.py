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


@pytest.mark.parametrize(
    "data",
    [SVG, HTML, PE, ELF, GIF, b"just some text\n", corpus.EICAR, b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00"],
    ids=["svg-with-script", "html-named-jpg", "pe-named-dcm", "elf-named-dcm", "gif", "text", "eicar", "avif"],
)
def test_it_rejects_everything_else_as_unsupported(data: bytes) -> None:
    assert detect_type(data) is None
    with pytest.raises(Rejected) as e:
        sanitize(data)
    assert e.value.code == "unsupported_type"


def test_it_rejects_html_before_jpeg_polyglot() -> None:
    # Our magic must come first: a browser sniffing this as HTML is exactly the risk.
    data = HTML + corpus.encode(corpus.page((8, 8)), "JPEG")
    with pytest.raises(Rejected, match="unsupported_type"):
        sanitize(data)


def test_it_rejects_empty_bytes() -> None:
    with pytest.raises(Rejected) as e:
        sanitize(b"")
    assert e.value.code == "empty"


def test_it_rejects_dicom_without_preamble() -> None:
    # pydicom could read it with force=True, but without "DICM" anything could pass for DICOM.
    with pytest.raises(Rejected, match="unsupported_type"):
        sanitize(corpus.dicom_bytes()[132:])
