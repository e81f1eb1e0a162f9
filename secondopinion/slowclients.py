"""Slow clients must not hold the server's threads (SECURITY.md row 39).

gunicorn gives each request one of its `workers x threads` threads, and that thread reads the
body. Caddy (deploy/Caddyfile) limits the time to send headers and a whole request, but it hands
bodies on as they arrive, and its whole-request limit must let a phone send a large file. So
this wrapper of the WSGI application cuts off a body that comes too slowly:

- a body other than an upload must have arrived SLOW_BODY_SECONDS after the request started;
- an upload must bring UPLOAD_MIN_RATE_KB per second in every UPLOAD_RATE_WINDOW seconds;
- in each process at most `threads - 1` bodies are waited for at once, so a thread is always left
  for pages: past that, a form must come at once (BUSY_SECONDS) and an upload is answered 503
  without being read (the upload widget tries again by itself).

A watchdog thread does the cutting, because gunicorn's reader waits inside recv() for as many
bytes as asked: a client trickling a byte at a time never trips a socket timeout. Shutting the
socket's read side ends that recv(); the read then raises ClientTooSlow, which Django answers as
400. Only under gunicorn (the socket is in the environ); runserver and the test client pass by.
"""

from __future__ import annotations

import contextlib
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest
from django.urls import Resolver404, resolve

log = logging.getLogger(__name__)
UPLOAD_VIEWS = {"uploads:upload", "uploads:upload_file"}
BUSY_SECONDS = 0.2
# Bodies are read in pieces of at most this size, so that what has arrived is counted while a
# large read (the upload handler asks for 1 MiB) is still waiting for the rest.
PIECE = 16 * 1024
# gunicorn's threads per worker; gunicorn.conf.py sets it in each worker (post_worker_init).
threads = 2

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class ClientTooSlow(BadRequest):
    pass


class _Body:
    """wsgi.input of one request: counts what arrives and raises once the watchdog cut it."""

    def __init__(self, stream: Any, sock: socket.socket, length: int | None) -> None:
        self.stream, self.sock, self.length = stream, sock, length
        self.started = time.monotonic()
        self.received = 0
        self.done = False
        self.cut = ""
        self.deadline = self.window = math.inf
        self.min_per_window = 0.0
        self.window_start, self.window_received = self.started, 0

    def read(self, size: int = -1) -> bytes:
        pieces = []
        wanted = math.inf if size is None or size < 0 else size
        while wanted > 0:
            piece = self._count(self.stream.read(int(min(wanted, PIECE))), 1)
            if not piece:
                break
            pieces.append(piece)
            wanted -= len(piece)
        return b"".join(pieces)

    def readline(self, size: int = -1) -> bytes:
        return self._count(self.stream.readline(size), size)

    def _count(self, data: bytes, size: int) -> bytes:
        if self.cut:
            raise ClientTooSlow(self.cut)
        self.received += len(data)
        if (self.length is not None and self.received >= self.length) or (not data and size != 0):
            self.done = True
        return data

    def check(self, now: float) -> float:
        """Cut the body if it is late; otherwise return when to look again."""
        if now >= self.deadline:
            return self._cut("request body too slow")
        if now >= self.window_start + self.window:
            # Up to one piece may have arrived and not been counted yet.
            if self.received - self.window_received < self.min_per_window - PIECE:
                return self._cut("upload below the minimum rate")
            self.window_start, self.window_received = now, self.received
        return min(self.deadline, self.window_start + self.window)

    def _cut(self, reason: str) -> float:
        self.cut = reason
        log.warning("slow client cut off: %s after %.1f s", reason, time.monotonic() - self.started)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RD)  # the blocked recv() returns; nothing more is read
        return math.inf


class _Watchdog:
    def __init__(self) -> None:
        self.bodies: set[_Body] = set()
        self.wake = threading.Condition()
        self.thread: threading.Thread | None = None

    def admit(self, body: _Body, *, upload: bool) -> bool:
        """Start watching the body; False for an upload when no thread can be spared for it."""
        with self.wake:
            busy = sum(not b.done for b in self.bodies) >= max(threads - 1, 1)
            if upload and busy:
                return False
            if upload:
                body.window = settings.UPLOAD_RATE_WINDOW
                body.min_per_window = settings.UPLOAD_MIN_RATE_KB * 1024 * body.window
            else:
                body.deadline = body.started + (BUSY_SECONDS if busy else settings.SLOW_BODY_SECONDS)
            self.bodies.add(body)
            if self.thread is None:  # started in the worker process, after gunicorn's fork
                self.thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
                self.thread.start()
            self.wake.notify()
            return True

    def release(self, body: _Body) -> None:
        with self.wake:
            self.bodies.discard(body)

    def _run(self) -> None:
        with self.wake:
            while True:
                now, due = time.monotonic(), math.inf
                for body in list(self.bodies):
                    when = math.inf if body.done or body.cut else body.check(now)
                    if when == math.inf:
                        self.bodies.discard(body)
                    due = min(due, when)
                self.wake.wait(None if due == math.inf else max(due - time.monotonic(), 0.01))


_watchdog = _Watchdog()


def _length(environ: Environ) -> int | None:
    """The declared body length; None when chunked; 0 when there is no body."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _is_upload(path: str) -> bool:
    try:
        return resolve(path).view_name in UPLOAD_VIEWS
    except Resolver404:
        return False


class SlowClientGuard:
    def __init__(self, app: Callable[[Environ, StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        sock, length = environ.get("gunicorn.socket"), _length(environ)
        if sock is None or length == 0:
            return self.app(environ, start_response)
        body = _Body(environ["wsgi.input"], sock, length)
        environ["wsgi.input"] = body
        try:
            if not _watchdog.admit(body, upload=_is_upload(environ.get("PATH_INFO", ""))):
                log.warning("upload refused: every thread of this worker is waiting for a body")
                start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Retry-After", "2")])
                return [b"Busy, please try again."]
            return self.app(environ, start_response)
        finally:
            _watchdog.release(body)
            if not body.done:
                # Answered without reading it all (busy, a refused upload, a body over the limit):
                # gunicorn must not wait for the rest before it can reuse the connection.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)
