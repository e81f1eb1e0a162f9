"""No plaintext file at rest, anywhere (SECURITY.md row 20; DESIGN.md "Files: encryption at
rest"): after patients' JPEG, PNG, HEIC, PDF, DICOM and ZIP uploads, the bucket (or the local
storage directory of the embedded default), VAR_DIR and the temporary directory hold no file
signature and no 32 bytes of anything a patient sent or we kept: only our encrypted format."""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from cases.models import Case
from core.crypto import HEADER
from tests.uploads.pipeline.samples import (
    KEY,
    Part,
    bucket_objects,
    dicom,
    dicom_folder_zip,
    heic,
    jpeg_with_gps,
    pdf,
    png,
    post_files,
    unfinished_multipart_uploads,
)
from uploads.models import Upload, UploadStatus
from uploads.services import open_object

AT_START = {"JPEG": b"\xff\xd8\xff", "PNG": b"\x89PNG", "PDF": b"%PDF", "ZIP": b"PK\x03\x04"}
# Anywhere in a file, signatures long enough (6+ fixed bytes) that ciphertext never has them
# by chance: 3- or 4-byte ones would turn up in a few MB of random bytes.
ANYWHERE = {
    "JPEG": re.compile(rb"\xff\xd8\xff(?:\xe0..JFIF\x00|\xe1..Exif\x00\x00|\xdb\x00[\x43\x84]|\xee..Adobe)", re.S),
    "PNG": re.compile(re.escape(b"\x89PNG\r\n\x1a\n")),
    "PDF": re.compile(rb"%PDF-[12]\.[0-9]"),
    "DICOM": re.compile(rb"DICM\x02\x00"),
    "ZIP": re.compile(rb"PK\x03\x04[\x0a\x14\x2d\x3f]\x00"),
    "HEIF": re.compile(rb"ftyp(?:heic|heix|heim|heis|hevc|hevx|mif1|msf1)"),
}
WINDOW = 32


def plaintext_in(name: str, blob: bytes, known: dict[str, bytes]) -> list[str]:
    """What in `blob` looks like a plaintext file or contains a piece of a known plaintext."""
    found = [f"{name}: {kind} signature at offset 0" for kind, sig in AT_START.items() if blob.startswith(sig)]
    if blob[128:132] == b"DICM":
        found.append(f"{name}: DICOM signature at offset 128")
    if blob[4:8] == b"ftyp":
        found.append(f"{name}: HEIF/MP4 signature at offset 4")
    found += [f"{name}: {kind} signature at {m.start()}" for kind, rx in ANYWHERE.items() if (m := rx.search(blob))]
    found += [f"{name}: bytes of {label}" for label, window in known.items() if window in blob]
    return found


def windows(label: str, data: bytes) -> dict[str, bytes]:
    """A few 32-byte pieces of `data`, skipping runs (a DICOM preamble) that prove nothing."""
    picked = {}
    for offset in sorted({0, len(data) // 3, len(data) // 2, 2 * len(data) // 3, max(0, len(data) - WINDOW)}):
        piece = data[offset : offset + WINDOW]
        if len(piece) == WINDOW and len(set(piece)) >= 8:
            picked[f"{label}@{offset}"] = piece
    return picked


def files_under(root: Path, *, exclude: tuple[Path, ...] = ()) -> Iterator[tuple[Path, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not any(path.is_relative_to(e) for e in exclude):
            try:
                yield path, path.read_bytes()
            except (FileNotFoundError, PermissionError):  # removed meanwhile (another test run's .part)
                continue


def _sent() -> dict[str, tuple[bytes, str]]:
    sent = {
        "photo.jpg": (jpeg_with_gps(), "image/jpeg"),
        "scan.png": (png(), "image/png"),
        "report.pdf": (pdf(3, padding=200_000), "application/pdf"),  # several encryption chunks
        "CT_small.dcm": (dicom(), "application/dicom"),
        "cd-export.zip": (dicom_folder_zip(), "application/zip"),
    }
    if (photo := heic()) is not None:
        sent["photo.heic"] = (photo, "image/heic")
    else:
        warnings.warn("pillow_heif cannot encode here: no HEIC upload in the scan", stacklevel=1)
    return sent


def _known(sent: dict[str, tuple[bytes, str]], case: Case) -> dict[str, bytes]:
    known: dict[str, bytes] = {}
    for name, (data, _ctype) in sent.items():
        known |= windows(f"sent {name}", data)
    for upload in Upload.objects.filter(case=case, status=UploadStatus.ACCEPTED).exclude(kind="archive"):
        known |= windows(f"kept copy of {upload.original_name}", b"".join(open_object(upload)))
        if upload.thumb_wrapped_key:
            known |= windows(f"thumbnail of {upload.original_name}", b"".join(open_object(upload, thumbnail=True)))
    return known


@pytest.fixture
def tmpdir_for_python(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where anything using tempfile (or Django's upload temp dir) would write during the test."""
    path = tmp_path / "tempfile"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    settings.FILE_UPLOAD_TEMP_DIR = str(path)
    return path


@pytest.fixture(params=["s3", "local-disk"])
def stored(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> Callable[[], dict[str, bytes]]:
    """The stored objects by name: the bucket on the S3 server, or the embedded default's directory."""
    if request.param == "s3":
        s3 = request.getfixturevalue("s3")
        bucket = request.getfixturevalue("bucket")

        def in_bucket() -> dict[str, bytes]:
            assert unfinished_multipart_uploads(s3, bucket) == []
            return bucket_objects(s3, bucket)

        return in_bucket

    # The embedded default: storage.py writes to default_storage.location when S3_BUCKET is empty.
    root = tmp_path / "files"
    settings.S3_BUCKET = ""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "file_permissions_mode": 0o600},
        },
    }

    def on_disk() -> dict[str, bytes]:
        objects = {}
        for path, blob in files_under(root):
            assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
            objects[path.relative_to(root).as_posix()] = blob
        return objects

    return on_disk


def test_nothing_a_patient_sent_is_stored_in_plaintext(
    stored: Callable[[], dict[str, bytes]],
    patient_client: Client,
    case: Case,
    settings: Any,
    tmpdir_for_python: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent = _sent()
    for name, (data, _ctype) in sent.items():  # the scanner does see plaintext
        assert plaintext_in(name, data, {}), f"no signature found in the plaintext {name}"

    # First as received, before validation: the raw copies.
    with django_capture_on_commit_callbacks(execute=False) as validations:
        response = post_files(patient_client, case, [Part(n, d, t) for n, (d, t) in sent.items()])
    assert response.status_code == 302
    raw = stored()
    assert sorted(raw) == sorted(f"raw/{u.pk}" for u in Upload.objects.filter(case=case))
    known = {label: piece for name, (data, _) in sent.items() for label, piece in windows(f"sent {name}", data).items()}
    assert [f for name, blob in raw.items() for f in plaintext_in(name, blob, known)] == []

    # Then once validated: the kept copies and thumbnails.
    with django_capture_on_commit_callbacks(execute=True):
        for validate in validations:
            validate()
    uploads = Upload.objects.filter(case=case, parent__isnull=True)
    assert {u.original_name: u.status for u in uploads} == dict.fromkeys(sent, UploadStatus.ACCEPTED)
    known = _known(sent, case)
    objects = stored()
    assert len(objects) >= 2 * len(sent), sorted(objects)
    assert all(KEY.fullmatch(name) for name in objects), sorted(objects)
    assert not any(name.startswith("raw/") for name in objects)
    assert [name for name, blob in objects.items() if not blob.startswith(HEADER)] == []
    assert [f for name, blob in objects.items() for f in plaintext_in(name, blob, known)] == []

    on_disk = [
        f
        for root, exclude in ((Path(settings.VAR_DIR), (Path(settings.STATIC_ROOT),)), (tmpdir_for_python, ()))
        for path, blob in files_under(root, exclude=exclude)
        for f in plaintext_in(str(path), blob, known)
    ]
    assert on_disk == []
    assert list(tmpdir_for_python.iterdir()) == []  # nothing even tried a temporary file
