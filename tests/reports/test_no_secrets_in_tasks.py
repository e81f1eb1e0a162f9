"""No secret and no patient text in task arguments, broker messages or a worker's log (SECURITY.md
row 36). Seen before: with the worker at `-l info` (as docker-compose runs it), Celery's
"received" and "succeeded" lines printed the e-mail task's arguments, which held the password-reset
link; one log line was enough to take over the account.

A real worker at `-l info` on the real Redis broker sends every kind of e-mail to files; Redis
MONITOR records every command the broker receives. Then the tokens of every link sent, the
patient's name, e-mail, file name and free text, and the case reference are searched for in every
log line and every broker message (bodies base64-decoded): 0 hits."""

from __future__ import annotations

import base64
import email
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.test import Client

from accounts import services
from accounts.emails import email_user, kinds
from accounts.models import OutgoingEmail, Role
from cases.services import case_assign, case_submit, consultation_invite, consultation_note, message_send
from console import services as console_services
from tests.cases.helpers import ready_case
from tests.factories import (
    PASSWORD,
    AdminFactory,
    PatientFactory,
    SpecialistFactory,
    accepted_upload,
    publish_consent_v1,
)
from tests.worker import Worker, run_worker, worker_bucket_fixture, worker_env  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)  # rows committed, so the worker sees them

NAME = "Quintessa Canaryfield"
EMAIL = "quintessa.canary@example.org"
FILE_NAME = "melanoma-left-shoulder-canary.jpg"
FREE_TEXT = "Zanzibar-canary itching since the wedding"


class BrokerTap:
    """Every command Redis receives while it runs (MONITOR), as Redis prints them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._client = redis.Redis.from_url(settings.REDIS_URL)
        self._monitor = self._client.monitor()
        self._monitor.__enter__()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for command in self._monitor.listen():
                self.lines.append(str(command["command"]))
        except (redis.ConnectionError, ValueError, AttributeError):
            pass  # closed by stop()

    def stop(self) -> str:
        self._monitor.connection.disconnect()
        self._thread.join(timeout=5)
        return "\n".join(self.lines)


def _bodies(monitor_output: str) -> list[str]:
    """The task messages' bodies (kombu base64-encodes them) in the MONITOR output."""
    found = re.findall(r'\\?"body\\?": \\?"([A-Za-z0-9+/=]+)\\?"', monitor_output)
    return [base64.b64decode(b).decode(errors="replace") for b in found]


def _sent(mail_dir: Path) -> list[email.message.Message]:
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.strip() + b"\n"))
    return messages


def _text(message: email.message.Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


@pytest.fixture(scope="module")
def info_worker(django_db_setup: Any, worker_bucket: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    mail_dir = tmp_path_factory.mktemp("mail")
    env = worker_env(worker_bucket) | {
        "LOG_LEVEL": "INFO",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    running = Worker(env, tmp_path_factory.mktemp("workers"), loglevel="info")
    running.mail_dir = mail_dir  # type: ignore[attr-defined]
    yield from run_worker(running)


def _every_kind(client: Client) -> str:
    """Send one e-mail of every kind, as the portal does; returns the case reference."""
    admin, other_admin = AdminFactory(), AdminFactory()
    lead, colleague = SpecialistFactory(), SpecialistFactory()
    form = {"full_name": NAME, "email": EMAIL, "language": "en", "password1": PASSWORD, "password2": PASSWORD}
    assert client.post("/accounts/register/", form).status_code == 302  # verify-email
    assert client.post("/accounts/register/", form).status_code == 302  # account-exists
    assert client.post("/accounts/password-reset/", {"email": EMAIL}).status_code == 302  # password-reset
    patient = PatientFactory(full_name=NAME + " Senior")
    services.user_invite(
        email="invitee.canary@example.org",
        full_name=NAME + " Jr",
        role=Role.SPECIALIST,
        language="es",
        licence_number="LIC-1",
        specialties=["dermatology"],
        jurisdictions=["ES"],
        invited_by=admin,
    )  # invitation
    console_services.user_mfa_reset(user=lead, by=admin)  # mfa-reset

    publish_consent_v1()
    case = ready_case(patient, reason=FREE_TEXT)
    accepted_upload(case, name=FILE_NAME)
    case_submit(actor=patient, case=case)  # case-receipt
    case_assign(case=case, specialist=lead, admin=admin)  # case-assigned, case-status
    from cases.services import case_start_review

    case_start_review(case=case, specialist=lead)
    consultation = consultation_invite(case=case, lead=lead, colleague=colleague)
    message_send(case=case, author=lead, body=FREE_TEXT)  # case-message
    message_send(case=case, author=patient, body=FREE_TEXT)  # case-reply
    consultation_note(actor=colleague, consultation=consultation, note=FREE_TEXT)  # consultation-note
    console_services.break_glass_open(
        case=case, admin=admin, reason=FREE_TEXT + " for the emergency review"
    )  # break-glass to other_admin
    # The follow-up question and the two alerts to admins need a signed report or a broken store to
    # happen; their e-mails are queued the way those paths queue them.
    email_user(user=lead, name="case-follow-up", params={"case_id": case.pk})
    email_user(user=colleague, name="queue-digest", params={"count": 1})  # as reports.emails.queue_digest
    email_user(user=other_admin, name="audit-verify-failed", params={"broken_id": 7})
    email_user(user=other_admin, name="integrity-check-failed", params={"counts": {"file_missing": 1}})
    return case.reference


def test_no_token_name_or_text_reaches_the_broker_or_the_worker_log(info_worker: Worker, client: Client) -> None:
    tap = BrokerTap()
    try:
        reference = _every_kind(client)
        deadline = time.monotonic() + 60
        while OutgoingEmail.objects.filter(done_at__isnull=True).exists():
            assert time.monotonic() < deadline, f"e-mails not sent:\n{info_worker.output()}"
            time.sleep(0.3)
    finally:
        broker = tap.stop()

    rows = list(OutgoingEmail.objects.all())
    assert {row.kind for row in rows} == kinds(), "every kind of e-mail is covered here"
    assert {row.outcome for row in rows} == {"sent"}
    sent = _sent(info_worker.mail_dir)  # type: ignore[attr-defined]
    assert len(sent) == len(rows)
    links = [m for message in sent for m in re.findall(r"https?://\S+", _text(message))]
    # The secret part of each link: every path segment long enough to be a token.
    tokens = {segment for link in links for segment in link.split("/") if len(segment) >= 20}
    assert len(tokens) >= 3, links  # reset, invitation and verification links at least
    secrets = tokens | {NAME, EMAIL, FILE_NAME, FREE_TEXT, reference}

    log = info_worker.log.read_text()
    assert "send_email_task[" in log and "received" in log, "the worker logs at INFO, as in production"
    bodies = _bodies(broker)
    assert sum(str(row.pk) in body for row in rows for body in bodies) >= len(rows), "the tap saw every task"
    searched = {"worker log": log, "broker commands": broker, "task messages": "\n".join(bodies)}
    hits = [(where, s) for where, text in searched.items() for s in secrets if s.lower() in text.lower()]
    assert hits == []
    # The links work: the reset link opens the page to choose a new password.
    reset = next(link for link in links if "/accounts/reset/" in link)
    page = Client().get(urlsplit(reset).path, follow=True).content.decode().lower()
    assert "new password" in page
