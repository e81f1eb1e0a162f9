from __future__ import annotations

import struct
import zipfile
from io import BytesIO

import pydicom
import pytest

from tests.uploads.sanitize import corpus
from uploads.sanitize import Rejected, sanitize

CRUFT = {
    "AUTORUN.INF": b"[autorun]\r\nopen=viewer.exe\r\n",
    "VIEWER/viewer.exe": b"MZ\x90\x00" + bytes(300),
    "README.TXT": b"Insert the disc into a Windows PC.",
}


def test_it_returns_each_dicom_of_a_cd_folder() -> None:
    folder = corpus.dicom_folder()
    members = {str(p.relative_to(folder.parent)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    members["EXTRA/CT_small"] = b"MZ" + bytes(126) + corpus.dicom_bytes()[128:]
    members.update(CRUFT)
    images = [n for n, b in members.items() if b[128:132] == b"DICM" and "DICOMDIR" not in n]
    assert len(images) >= 10 and any(n.endswith("/DICOMDIR") for n in members)

    result = sanitize(corpus.zip_of(members))
    assert isinstance(result, list)
    assert len(result) == len(images)
    for item in result:
        assert (item.kind, item.mime) == ("dicom", "application/dicom")
        assert item.data[:128] == bytes(128)
        assert pydicom.dcmread(BytesIO(item.data)).SOPClassUID != "1.2.840.10008.1.3.10"  # no DICOMDIR
    assert {item.info["modality"] for item in result} >= {"CT", "MR"}
    # What was left out is told, not only dropped: the index, and the viewer and read-me files.
    assert result.hints == ["dicomdir_skipped", "files_skipped"]
    others = [n for n in members if n not in images and "DICOMDIR" not in n]
    assert set(CRUFT) <= set(others)
    assert result.info == {"files": len(images), "skipped": len(others)}


def test_it_says_nothing_was_left_out_of_a_zip_of_only_images() -> None:
    result = sanitize(corpus.zip_of({"IMG1": corpus.dicom_bytes(), "IMG2": corpus.dicom_bytes("MR_small.dcm")}))
    assert isinstance(result, list)
    assert (result.hints, result.info) == ([], {"files": 2, "skipped": 0})


def test_it_rejects_a_zip_without_dicom() -> None:
    with pytest.raises(Rejected) as e:
        sanitize(corpus.zip_of(CRUFT))
    assert e.value.code == "zip_no_dicom"


def test_it_never_accepts_the_images_or_pdfs_inside() -> None:
    members = {"photo.jpg": corpus.encode(corpus.page((700, 700)), "JPEG"), "report.pdf": corpus.plain_pdf()}
    with pytest.raises(Rejected, match="zip_no_dicom"):
        sanitize(corpus.zip_of(members))


def test_it_rejects_a_zip_bomb() -> None:
    bomb = corpus.zip_of_zeros(300 * 1024 * 1024)
    assert len(bomb) < 1_000_000
    with pytest.raises(Rejected) as e:
        sanitize(bomb)
    assert e.value.code == "zip_bomb"


def test_it_rejects_a_member_compressed_more_than_100_to_1() -> None:
    with pytest.raises(Rejected) as e:
        sanitize(corpus.zip_of_zeros(20 * 1024 * 1024))
    assert (e.value.code, e.value.detail) == ("zip_bomb", "compression ratio")


def test_it_rejects_too_many_members() -> None:
    with pytest.raises(Rejected, match="zip_bomb"):
        sanitize(corpus.zip_of({f"f{i}": b"" for i in range(2001)}, compression=zipfile.ZIP_STORED))


def _symlink_zip() -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("link.dcm")
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
        zf.writestr("ok.dcm", corpus.dicom_bytes())
    return buf.getvalue()


def _nameless_zip() -> bytes:
    """A zip whose one member has an empty name in the central directory (zipfile won't write one)."""
    data = bytearray(corpus.zip_of({"a": corpus.dicom_bytes()}, compression=zipfile.ZIP_STORED))
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 28, 0)  # file name length
    del data[central + 46]  # the name "a"
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<I", data, end + 12, struct.unpack_from("<I", data, end + 12)[0] - 1)  # directory size
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        corpus.zip_of({"ok.dcm": corpus.dicom_bytes(), "../evil.dcm": corpus.dicom_bytes()}),
        corpus.zip_of({"a/../../evil.dcm": corpus.dicom_bytes()}),
        corpus.zip_of({"/etc/cron.d/evil": corpus.dicom_bytes()}),
        corpus.zip_of({"C:/Windows/evil.dcm": corpus.dicom_bytes()}),
        corpus.zip_of({"..\\evil.dcm": corpus.dicom_bytes()}),
        _symlink_zip(),
        _nameless_zip(),  # found by `make fuzz`: zipfile's is_dir() crashed on it
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "drive-letter", "backslash-dotdot", "symlink", "empty-name"],
)
def test_it_rejects_unsafe_paths(data: bytes) -> None:
    with pytest.raises(Rejected) as e:
        sanitize(data)
    assert e.value.code == "zip_unsafe_path"


def test_it_rejects_a_damaged_zip() -> None:
    data = bytearray(corpus.zip_of({"ok.dcm": corpus.dicom_bytes()}, compression=zipfile.ZIP_STORED))
    data[400:410] = b"\xff" * 10  # inside the member: the CRC check fails
    with pytest.raises(Rejected, match="zip_corrupt"):
        sanitize(bytes(data))
