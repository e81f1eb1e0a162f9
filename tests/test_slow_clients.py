"""SECURITY.md row 39: slow clients can't take the site down. The production configuration, run
for real: gunicorn with gunicorn.conf.py (2 workers x 2 threads) behind Caddy running
deploy/Caddyfile. Four times as many slow clients as there are threads (slow form bodies, slow
uploads from a signed-in patient), one that declares a 2 GB body and sends nothing, and one that
sends its headers slowly: /healthz and a signed-in page keep answering, and each slow client is
cut off."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection

from core.keyring import KeyRing
from tests.deploy import PRODUCTION
from tests.factories import PASSWORD, CaseFactory, PatientFactory, tiny_jpeg

ROOT = Path(__file__).resolve().parent.parent
WORKERS, THREADS = 2, 2
SLOW = 4 * WORKERS * THREADS
# The edge's limit on a whole request body, shortened so the test ends soon (shipped: 1 h);
# every other limit is the shipped default.
READ_BODY = 15
HEADERS_LIMIT = 5  # deploy/Caddyfile read_header
FORM_LIMIT = 5  # SLOW_BODY_SECONDS
UPLOAD_WINDOW = 10  # UPLOAD_RATE_WINDOW: a window with less than UPLOAD_MIN_RATE_KB/s ends the upload
MARGIN = 2.5
# A couple of seconds: /healthz alone takes up to a second on this shared machine (it checks the
# database, Redis and the bucket); without the limits it does not answer at all.
ANSWER_WITHIN = 3.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(port: int, procs: list[subprocess.Popen[bytes]], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            pytest.fail(f"{what} did not start")
        time.sleep(0.2)


@dataclass
class Site:
    port: int
    gunicorn_log: Path
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, timeout: float = 5
    ) -> tuple[int, float, bytes]:
        """One request on a new connection, as a browser would send it over HTTPS (Caddy adds
        X-Forwarded-Proto: the session cookie is Secure, so it is sent by hand here)."""
        sent = {"Origin": self.origin, "Referer": self.origin + path, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        body = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
        return response.status, time.monotonic() - started, body

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@pytest.fixture
def site(transactional_db: Any, tmp_path: Path) -> Iterator[Site]:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.fail("caddy is not installed (apt-get install caddy; make test does it)", pytrace=False)
    web_port, edge_port = _free_port(), _free_port()
    drop = {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        {
            **PRODUCTION,
            "ALLOWED_HOSTS": "127.0.0.1",
            "VAR_DIR": str(tmp_path / "var"),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "WEB_CONCURRENCY": str(WORKERS),
            "GUNICORN_THREADS": str(THREADS),
            "GUNICORN_BIND": f"127.0.0.1:{web_port}",
            "HOME": str(tmp_path),  # gunicorn puts its control socket there, not in the shared ~/.gunicorn
            # The image's collectstatic builds the manifest; pages here only need the files.
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        }
    )
    # The test database, migrated, not the empty one it was named after.
    env["DATABASE_URL"] = re.sub(
        r"^([^?]*/)[^/?]*", lambda m: m.group(1) + connection.settings_dict["NAME"], os.environ["DATABASE_URL"], count=1
    )
    log = tmp_path / "gunicorn.log"
    home = tmp_path / "caddy"
    home.mkdir()
    # Plain HTTP on loopback, the admin endpoint on a free loopback port, and every file Caddy
    # writes (autosaved config, certificates) under the test's own folder.
    edge_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "SITE_HOST": f"http://127.0.0.1:{edge_port}",
        "UPSTREAM": f"127.0.0.1:{web_port}",
        "CADDY_ADMIN": f"127.0.0.1:{_free_port()}",
        "CADDY_READ_BODY": f"{READ_BODY}s",
    }
    with log.open("wb") as out, (tmp_path / "caddy.log").open("wb") as edge_out:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "secondopinion.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        edge = subprocess.Popen(
            [caddy, "run", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
            cwd=home,
            env=edge_env,
            stdout=edge_out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(edge_port, [web, edge], "gunicorn behind caddy")
            yield Site(edge_port, log)
        finally:
            for proc in (edge, web):
                proc.terminate()
            for proc in (edge, web):
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _sign_in(site: Site) -> None:
    status, _, _ = site.request("GET", "/accounts/login/")
    assert status == 200
    form = f"csrfmiddlewaretoken={site.cookies['csrftoken']}&username={PATIENT_EMAIL}&password={PASSWORD}"
    status, _, _ = site.request(
        "POST", "/accounts/login/", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 302, status
    assert "so_session" in site.cookies


PATIENT_EMAIL = "slow.patient@example.org"


@dataclass
class SlowClient:
    """Sends its request head, then its body (or head) one byte every 2 s, and notes when the
    server answers or ends the connection."""

    kind: str
    head: bytes
    trickle: bytes
    ended: float | None = None
    answer: bytes = b""

    def run(self, port: int, until: float) -> None:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(self.head)
            s.settimeout(0.2)
            last_sent = time.monotonic()
            while time.monotonic() < until:
                try:
                    data = s.recv(4096)
                except TimeoutError:
                    data = None
                except OSError:
                    data = b""
                if data is not None:
                    # Cut off: answered (a 4xx or 503) or closed, whichever comes first.
                    self.ended = self.ended or time.monotonic() - started
                    self.answer += data
                    if not data:
                        return
                    continue
                if self.trickle and time.monotonic() - last_sent >= 2:
                    try:
                        s.sendall(self.trickle[:1])
                    except OSError:
                        self.ended = time.monotonic() - started
                        return
                    self.trickle, last_sent = self.trickle[1:], time.monotonic()


def _head(site: Site, method: str, path: str, length: int, content_type: str, extra: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{site.port}",
        f"Content-Length: {length}",
        f"Content-Type: {content_type}",
        f"Origin: {site.origin}",
        f"Referer: {site.origin}{path}",
        *(f"{k}: {v}" for k, v in extra.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_slow_clients_are_cut_off_and_the_site_keeps_answering(site: Site, settings: Any) -> None:
    settings.KEYRING = KeyRing.from_json(PRODUCTION["KEYRING"])  # the case's text is encrypted as the server would
    patient = PatientFactory(email=PATIENT_EMAIL)
    # The in-process tests hash with MD5; the production server only knows Argon2 and PBKDF2.
    patient.password = Argon2PasswordHasher().encode(PASSWORD, secrets.token_hex(8))
    patient.save(update_fields=["password"])
    case = CaseFactory(patient=patient)
    # The slow form clients carry a CSRF cookie, as anyone gets from the login page, so that the
    # server reads their bodies instead of refusing them at once.
    assert site.request("GET", "/accounts/login/")[0] == 200
    anonymous = {"Cookie": f"csrftoken={site.cookies.pop('csrftoken')}"}
    _sign_in(site)
    signed_in = dict(site.cookies)
    cookie = "; ".join(f"{k}={v}" for k, v in signed_in.items())
    status, _, _ = site.request("GET", "/patient/")
    assert status == 200

    form = "csrfmiddlewaretoken=x&username=nobody%40example.org&password=" + "p" * 150
    upload = {"Cookie": cookie, "X-CSRFToken": signed_in["csrftoken"]}

    def slow_form() -> SlowClient:
        head = _head(site, "POST", "/accounts/login/", len(form), "application/x-www-form-urlencoded", anonymous)
        return SlowClient("form", head, form.encode())

    clients = []
    for i in range(SLOW // 2):
        clients.append(slow_form())
        if i % 2:
            clients.append(
                SlowClient(
                    "upload",
                    _head(
                        site,
                        "PUT",
                        f"/cases/{case.pk}/files/upload/file/",
                        1_000_000,
                        "image/jpeg",
                        {**upload, "X-File-Name": "arm.jpg"},
                    ),
                    b"\xff" * 100,
                )
            )
        else:
            boundary = "slowboundary"
            clients.append(
                SlowClient(
                    "upload",
                    _head(
                        site,
                        "POST",
                        f"/cases/{case.pk}/files/upload/",
                        1_000_000,
                        f"multipart/form-data; boundary={boundary}",
                        upload,
                    ),
                    f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                    f'filename="arm.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode(),
                )
            )
    clients.append(
        SlowClient(
            "2 GB, nothing sent",
            _head(site, "POST", "/accounts/login/", 2_000_000_000, "application/x-www-form-urlencoded", anonymous),
            b"",
        )
    )
    clients.append(SlowClient("headers", b"GET /healthz HTTP/1.1\r\n", f"Host: 127.0.0.1:{site.port}\r\n".encode()))

    # Two more forms once the uploads have been cut off, when a thread is to spare again: they
    # get the full time a form has.
    later = [slow_form(), slow_form()]
    start_later = time.monotonic() + UPLOAD_WINDOW + 1.5
    until = start_later + READ_BODY + 8
    threads = [threading.Thread(target=c.run, args=(site.port, until), daemon=True) for c in clients + later]
    # Uploads first, so that at least one gets a thread and meets the minimum rate rule.
    for client, t in sorted(zip(clients, threads, strict=False), key=lambda ct: ct[0].kind != "upload"):
        t.start()
        time.sleep(0.3 if client.kind == "upload" else 0)
    clients += later
    time.sleep(0.5)  # all of them connected and sending

    answers: list[tuple[str, int | str, float]] = []
    while time.monotonic() < until and any(t.is_alive() for t in threads):
        if later and time.monotonic() > start_later:
            for t in threads[-len(later) :]:
                t.start()
            later = []
        for path in ("/healthz", "/patient/"):
            started = time.monotonic()
            try:
                status, took, _ = site.request("GET", path, timeout=10)
                answers.append((path, status, took))
            except OSError as e:
                answers.append((path, type(e).__name__, time.monotonic() - started))
        time.sleep(0.5)
    for t in threads:
        t.join(timeout=5)

    slowest = max(answers, key=lambda a: a[2])
    assert all(status == 200 for _, status, _ in answers), [a for a in answers if a[1] != 200][:5]
    assert slowest[2] < ANSWER_WITHIN, slowest
    timings = {kind: [c.ended for c in clients if c.kind == kind] for kind in {c.kind for c in clients}}
    for client in clients:
        limit = HEADERS_LIMIT if client.kind == "headers" else READ_BODY
        assert client.ended is not None and client.ended < limit + MARGIN, (client.kind, client.ended, timings)
    # The edge keeps a slow connection until its whole-request limit; the application let go of
    # each one long before (its log says so, without the path), and its thread was free again.
    lines = [json.loads(line) for line in site.gunicorn_log.read_text().splitlines() if line.startswith("{")]
    cuts = [re.fullmatch(r"slow client cut off: (.*) after ([\d.]+) s", line["message"]) for line in lines]
    forms = [float(m[2]) for m in cuts if m and m[1] == "request body too slow"]
    uploads = [float(m[2]) for m in cuts if m and m[1] == "upload below the minimum rate"]
    refused = [line for line in lines if line["message"].startswith("upload refused")]
    too_big = [line for line in lines if line["logger"] == "django.security.RequestDataTooBig"]
    # Forms waiting while no thread was to spare were cut off at once, the later ones at the limit.
    assert len(forms) == SLOW // 2 + 2 and FORM_LIMIT - 0.5 < max(forms) < FORM_LIMIT + MARGIN, forms
    # An upload gets a thread while one is to spare, else a 503 that the widget retries.
    assert uploads and len(uploads) + len(refused) == SLOW // 2 and max(uploads) < UPLOAD_WINDOW + MARGIN, uploads
    assert len(too_big) == 1  # the 2 GB body: refused before anything is read
    for client in clients:
        assert re.match(rb"HTTP/1.1 (400|503) ", client.answer) or client.kind == "headers", (
            client.kind,
            client.answer,
        )
    # A patient's upload at a normal pace still goes through.
    status, _, answer = site.request(
        "PUT",
        f"/cases/{case.pk}/files/upload/file/",
        tiny_jpeg(),
        {**upload, "X-File-Name": "arm.jpg", "Content-Type": "image/jpeg", "Accept": "application/json"},
    )
    assert status == 200 and [f["name"] for f in json.loads(answer)["files"]] == ["arm.jpg"], answer
    print(
        f"\n{len(answers)} answers, slowest {slowest}; clients ended at",
        sorted((c.kind, round(c.ended or -1, 1)) for c in clients),
        "; the application cut off forms after",
        sorted(forms),
        "and uploads after",
        sorted(uploads),
        f"and refused {len(refused)} uploads at once",
    )
