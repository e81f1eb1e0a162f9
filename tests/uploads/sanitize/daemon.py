"""A real clamd for the tests: where its binary is, the stream limit it is started with, and
waiting until it answers on its socket (the session fixture `clamd_socket` that starts it with a
one-signature database is in tests/fixtures/clamd.py)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

STREAM_MAX = 8 * 1024 * 1024


def _clamd_binary() -> str | None:
    return shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")


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
