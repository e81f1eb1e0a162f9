"""Logs carry ids, routes and timings, never a patient's name, e-mail or words (SECURITY 24)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from cases.models import Case
from secondopinion.observability import sentry_before_send
from tests.cases.helpers import INTAKE, step_url
from tests.factories import publish_consent_v1, tiny_jpeg

ROOT = Path(__file__).resolve().parent.parent

NAME = "Quirinus Zebedee-Marchbanks"
EMAIL = "quirinus.marchbanks@example.org"
WORDS = "CANARY-7f3a"  # what tests/cases/test_submit.py writes into every free-text field
PASSWORD = "a long enough passphrase 42"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything any logger emits, formatted exactly as the console handler formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    config = settings.LOGGING
    formatter_config = dict(config["formatters"]["json"])
    factory = formatter_config.pop("()")
    module, _, name = factory.rpartition(".")
    handler.setFormatter(getattr(__import__(module, fromlist=[name]), name)(**formatter_config))
    from secondopinion.observability import ContextFilter

    handler.addFilter(ContextFilter())
    loggers = [logging.getLogger(), logging.getLogger("django.request"), logging.getLogger("django.server")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def _walk(client: Client) -> Case:
    client.post("/cases/new/")
    case = Case.objects.get()
    for slug, data in INTAKE:
        assert client.post(step_url(case.pk, slug), data).status_code == 302, slug
    return case


def test_a_patients_name_email_and_words_never_reach_the_logs(
    db: Any, captured: io.StringIO, django_capture_on_commit_callbacks: Any, every_specialty_in_spain: Any
) -> None:
    publish_consent_v1()
    client = Client()
    client.post(
        "/accounts/register/",
        {"full_name": NAME, "email": EMAIL, "password1": PASSWORD, "password2": PASSWORD, "language": "en"},
    )
    from accounts.models import User

    user = User.objects.get(email=EMAIL)
    User.objects.filter(pk=user.pk).update(email_verified=True)
    client.post("/accounts/login/", {"username": EMAIL, "password": "wrong " + NAME})  # a failed login
    assert client.post("/accounts/login/", {"username": EMAIL, "password": PASSWORD}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        case = _walk(client)
        photo = tiny_jpeg() + f"{NAME} {WORDS}".encode()
        response = client.put(f"/cases/{case.pk}/files/upload/file/?name={WORDS}.jpg", photo, content_type="image/jpeg")
        assert response.status_code in (200, 201), response.content[:500]
    client.get(f"/cases/{case.pk}/")
    client.get(f"/cases/{NAME.replace(' ', '-')}/?q={WORDS}")  # a path and query the visitor typed
    client.get(f"/cases/{case.pk}/files/?search={EMAIL}")

    output = captured.getvalue()
    assert output, "nothing was logged: the test would pass for the wrong reason"
    for secret in (NAME, *NAME.split(), EMAIL, EMAIL.split("@")[0], WORDS):
        assert secret.lower() not in output.lower(), f"{secret!r} reached the logs"


def test_each_request_logs_one_json_line_with_its_id_route_user_and_timing(
    db: Any, captured: io.StringIO, patient_client: Client, patient_a: Any
) -> None:
    case = Case.objects.create(patient=patient_a)
    response = patient_client.get(f"/cases/{case.pk}/", HTTP_X_REQUEST_ID="support-ticket-0042")
    assert response["X-Request-ID"] == "support-ticket-0042"
    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.strip()]
    request_lines = [line for line in lines if line.get("logger") == "secondopinion.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["request_id"] == "support-ticket-0042"
    assert line["user_id"] == str(patient_a.pk) and line["case_id"] == str(case.pk)
    assert line["route"] == "cases/<uuid:case_id>/" and line["status"] == 200
    assert line["message"].startswith("GET cases/<uuid:case_id>/ 200 ")
    assert isinstance(line["duration_ms"], float)


def test_a_refused_csrf_token_does_not_log_the_path(db: Any, captured: io.StringIO) -> None:
    # A slow or forged POST to a reset link is refused by the CSRF check, which logs the path.
    response = Client(enforce_csrf_checks=True).post("/accounts/reset/MQ/canary-reset-token-4f1c/", {})
    assert response.status_code == 403
    assert "canary-reset-token-4f1c" not in captured.getvalue()
    assert "accounts/reset/<uidb64>/<token>/" in captured.getvalue()


def test_a_malformed_request_id_is_replaced(db: Any, captured: io.StringIO) -> None:
    response = Client().get("/", HTTP_X_REQUEST_ID="<script>\n")
    assert len(response["X-Request-ID"]) == 32 and "<" not in captured.getvalue()


def test_sentry_events_keep_the_error_but_not_the_request_or_the_user() -> None:
    event = {
        "exception": {"values": [{"type": "ValueError"}]},
        "request": {
            "method": "POST",
            "url": f"https://x/?q={WORDS}",
            "data": NAME,
            "cookies": "s=1",
            "headers": {"Cookie": "s=1"},
        },
        "user": {"email": EMAIL},
        "breadcrumbs": {"values": [{"message": NAME}]},
    }
    cleaned = sentry_before_send(event, {})
    assert cleaned["exception"] == {"values": [{"type": "ValueError"}]}
    assert cleaned["request"] == {"method": "POST"}
    assert NAME not in json.dumps(cleaned) and EMAIL not in json.dumps(cleaned)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_itself_logs_no_path_tokens(transactional_db: Any) -> None:
    """The container's own server: a password-reset token or a report's verification code in a
    path must not reach any log line (gunicorn's access log prints raw paths, so it is off); our
    request line carries the route instead."""
    port = _free_port()
    env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "WEB_CONCURRENCY": "1"}
    if connection.vendor == "postgresql":  # the test database, migrated, not the empty one it was named after
        env["DATABASE_URL"] = re.sub(
            r"^([^?]*/)[^/?]*",
            lambda m: m.group(1) + connection.settings_dict["NAME"],
            os.environ["DATABASE_URL"],
            count=1,
        )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "secondopinion.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except urllib.error.HTTPError:
                break  # it answered
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.2)
        for path in ("/accounts/reset/MQ/canary-reset-token-4f1c/", "/verify/CANARY7K2Q9X/"):
            with contextlib.suppress(urllib.error.HTTPError):  # a 404 or 400 is fine: only the log matters
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert "canary-reset-token-4f1c" not in output and "CANARY7K2Q9X" not in output
    routes = [json.loads(line).get("route") for line in output.splitlines() if line.startswith("{")]
    assert "accounts/reset/<uidb64>/<token>/" in routes and "verify/<str:code>/" in routes
