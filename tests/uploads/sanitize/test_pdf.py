from __future__ import annotations

from io import BytesIO

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from tests.uploads.sanitize import corpus
from uploads import sanitize as sanitize_module
from uploads.sanitize import PDF_FORBIDDEN_NAMES, Rejected, Sanitized, pdf_forbidden_names, sanitize


def _pdf(data: bytes) -> Sanitized:
    result = sanitize(data)
    assert isinstance(result, Sanitized)
    return result


@pytest.mark.parametrize("object_streams", [False, True], ids=["plain", "object-streams"])
def test_it_removes_all_active_content(object_streams: bool) -> None:
    original = corpus.active_pdf(object_streams=object_streams)
    with pikepdf.open(BytesIO(original)) as pdf:
        assert pdf_forbidden_names(pdf) == PDF_FORBIDDEN_NAMES  # every kind is in the input
    result = _pdf(original)
    assert (result.kind, result.mime, result.info, result.thumbnail) == ("pdf", "application/pdf", {"pages": 1}, None)
    for name in PDF_FORBIDDEN_NAMES:
        assert name.encode() not in result.data
    for word in (b"app.alert", b"cmd.exe", b"viewer.exe", b"SubmitForm", b"AcroForm", b"MZ"):
        assert word not in result.data
    with pikepdf.open(BytesIO(result.data)) as pdf:
        assert pdf_forbidden_names(pdf) == set()
        annots = pdf.pages[0].obj.Annots
        assert [str(a.Subtype) for a in annots] == ["/Link", "/Link"]
        assert "/A" not in annots[0]  # the Launch link is dead
        assert annots[1].A.URI == "https://example.org/"  # plain web links stay


def test_it_keeps_filled_in_form_values_visible() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    look = pdf.make_stream(
        b"BT /Helv 12 Tf 2 5 Td (Hemoglobin 13.2) Tj ET",
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=Array([0, 0, 90, 20]),
    )
    field = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String("hb"),
            V=String("Hemoglobin 13.2"),
            Rect=Array([10, 10, 100, 30]),
            AP=Dictionary(N=look),
        )
    )
    pdf.pages[0].obj.Annots = Array([field])
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]))
    buf = BytesIO()
    pdf.save(buf)
    with pikepdf.open(BytesIO(_pdf(buf.getvalue()).data)) as clean:
        assert "/AcroForm" not in clean.Root
        assert "/Annots" not in clean.pages[0].obj or len(clean.pages[0].obj.Annots) == 0
        drawn = b"".join(x.read_bytes() for x in clean.objects if isinstance(x, pikepdf.Stream))
        assert b"(Hemoglobin 13.2) Tj" in drawn


def test_it_refuses_what_removal_missed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sanitize_module, "_pdf_disarm", lambda pdf: None)
    with pytest.raises(Rejected) as e:
        sanitize(corpus.active_pdf())
    assert e.value.code == "pdf_active_content"


def test_it_rejects_a_pdf_that_needs_a_password_to_open() -> None:
    data = corpus.plain_pdf(encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(Rejected) as e:
        sanitize(data)
    assert e.value.code == "pdf_encrypted"


def test_it_keeps_a_pdf_that_opens_without_a_password_but_has_owner_restrictions() -> None:
    # Anyone can open it (an empty user password), so the restrictions protect nothing: drop them.
    no_copying = pikepdf.Permissions(extract=False, modify_other=False, print_highres=False)
    data = corpus.plain_pdf(encryption=pikepdf.Encryption(owner="o", user="", allow=no_copying))
    result = _pdf(data)
    assert result.info == {"pages": 1}
    with pikepdf.open(BytesIO(result.data)) as pdf:
        assert not pdf.is_encrypted


@pytest.mark.parametrize(
    "junk", [b"\r\n", b"\x00" * 3, b"From scanner 12\n" * 20], ids=["newline", "nul-bytes", "scanner-header"]
)
def test_it_keeps_a_pdf_with_bytes_before_its_header(junk: bytes) -> None:
    # Some scanners and mail gateways write a few bytes first; PDF readers look for %PDF- in the
    # first 1024 bytes, and so do we.
    result = _pdf(junk + corpus.plain_pdf())
    assert result.info == {"pages": 1}
    assert result.data.startswith(b"%PDF-")


def test_it_does_not_look_for_a_pdf_header_beyond_1024_bytes() -> None:
    with pytest.raises(Rejected) as e:
        sanitize(b"x" * 1100 + corpus.plain_pdf())
    assert e.value.code != "pdf_corrupt"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + b"garbage " * 100, b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", corpus.plain_pdf()[:40]],
    ids=["garbage", "cut-in-object", "truncated"],
)
def test_it_rejects_broken_pdfs(data: bytes) -> None:
    with pytest.raises(Rejected) as e:
        sanitize(data)
    assert e.value.code == "pdf_corrupt"
