"""Malware scan through clamd's INSTREAM command over its UNIX socket (clamd's own protocol, so
no client library). Production clamd needs StreamMaxLength at least the upload size limit."""

from __future__ import annotations

import socket
import struct

from django.conf import settings

CHUNK = 1024 * 1024
TIMEOUT = 120  # seconds; a large DICOM zip takes a while to unpack and scan


class ScanError(Exception):
    """clamd answered something other than OK or FOUND (e.g. a size limit): the caller retries."""


def scan(data: bytes) -> str | None:
    """The signature name when clamd finds malware, None when clean or no scanner is configured.
    Raises OSError when clamd is unreachable and ScanError on an unexpected answer."""
    path = getattr(settings, "CLAMD_SOCKET", "")
    if not path:
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.connect(path)
        sock.sendall(b"zINSTREAM\0")
        view = memoryview(data)
        try:
            for start in range(0, len(view), CHUNK):
                chunk = view[start : start + CHUNK]
                sock.sendall(struct.pack(">I", len(chunk)))
                sock.sendall(chunk)
            sock.sendall(struct.pack(">I", 0))
        except (BrokenPipeError, ConnectionResetError):
            pass  # clamd hangs up early when it refuses the stream; its reply says why
        reply = b""
        while not reply.endswith(b"\0") and (part := sock.recv(4096)):
            reply += part
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer == "stream: OK":
        return None
    if answer.startswith("stream: ") and answer.endswith(" FOUND"):
        return answer[len("stream: ") : -len(" FOUND")]
    raise ScanError(answer or "no reply")
