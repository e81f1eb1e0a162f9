"""uploads.clamd against a real clamd, with a one-signature database built here (ClamAV's public
databases are not reachable from CI): SECURITY.md row 18."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.uploads.sanitize import corpus
from tests.uploads.sanitize.daemon import STREAM_MAX
from uploads import clamd


@pytest.fixture
def scanner(settings: Any, clamd_socket: str) -> str:
    settings.CLAMD_SOCKET = clamd_socket
    return clamd_socket


def test_it_names_the_signature_of_eicar(scanner: str) -> None:
    assert clamd.scan(corpus.EICAR) == "Eicar-Test-Signature.UNOFFICIAL"


def test_it_finds_eicar_inside_a_zip(scanner: str) -> None:
    assert clamd.scan(corpus.zip_of({"CD/eicar.com": corpus.EICAR})) == "Eicar-Test-Signature.UNOFFICIAL"


def test_it_passes_clean_files(scanner: str) -> None:
    assert clamd.scan(corpus.dicom_bytes()) is None
    assert clamd.scan(corpus.encode(corpus.page((640, 480)), "JPEG")) is None


def test_it_streams_files_larger_than_one_chunk(scanner: str) -> None:
    assert clamd.scan(bytes(3 * clamd.CHUNK + 5) + corpus.EICAR) is None  # a hash signature matches whole files only
    assert clamd.scan(bytes(3 * clamd.CHUNK + 5)) is None


def test_it_raises_when_clamd_refuses_the_stream(scanner: str) -> None:
    with pytest.raises((clamd.ScanError, OSError)):
        clamd.scan(bytes(STREAM_MAX + clamd.CHUNK))


def test_it_skips_scanning_when_not_configured(settings: Any) -> None:
    settings.CLAMD_SOCKET = ""
    assert clamd.scan(corpus.EICAR) is None


def test_it_raises_when_clamd_is_unreachable(settings: Any, tmp_path: Path) -> None:
    settings.CLAMD_SOCKET = str(tmp_path / "missing.sock")
    with pytest.raises(OSError):
        clamd.scan(b"anything")
