"""uploads.clamd against a real clamd, with a one-signature database built here (ClamAV's public
databases are not reachable from CI): SECURITY.md row 18."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.uploads.sanitize import corpus
from uploads import clamd

STREAM_MAX = 8 * 1024 * 1024


def _clamd_binary() -> str | None:
    return shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _clamd_binary()
    if binary is None:
        pytest.skip("clamd is not installed (apt-get install clamav-daemon)")
    tmp = tmp_path_factory.mktemp("clamd")
    (tmp / "db").mkdir()
    # A hash signature (what `sigtool --md5` prints) for the EICAR test file.
    (tmp / "db" / "test.hdb").write_text(
        f"{hashlib.md5(corpus.EICAR).hexdigest()}:{len(corpus.EICAR)}:Eicar-Test-Signature\n"
    )
    sock = tmp / "clamd.sock"
    conf = tmp / "clamd.conf"
    conf.write_text(
        f"LocalSocket {sock}\nDatabaseDirectory {tmp / 'db'}\nTemporaryDirectory {tmp}\n"
        f"LogFile {tmp / 'clamd.log'}\nForeground yes\nStreamMaxLength {STREAM_MAX}\n"
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(sock, proc, tmp / "clamd.log")
        yield str(sock)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for(sock: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"clamd exited with {proc.returncode}: {log.read_text() if log.exists() else ''}")
        if sock.exists():
            with socket.socket(socket.AF_UNIX) as s:
                try:
                    s.connect(str(sock))
                    return
                except OSError:
                    pass
        time.sleep(0.1)
    pytest.fail("clamd did not open its socket within 30 s")


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
