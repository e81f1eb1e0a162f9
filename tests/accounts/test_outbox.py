"""The e-mail outbox (accounts/emails.py): an e-mail is a row written with the action, sent by the
worker, and never lost to a broker outage or sent twice. Seen before: an e-mail queued while
Redis was down was logged as not sent and never arrived."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import timezone

from accounts.emails import MAX_ATTEMPTS, email_user, outbox_sweep, outgoing_send
from accounts.models import OutgoingEmail
from reports import services as report_services
from tests.factories import PatientFactory, SpecialistFactory, add_totp
from tests.reports.helpers import case_in_review, complete_draft

pytestmark = pytest.mark.django_db


class RefusingSMTP(BaseEmailBackend):
    """The mail server refuses the recipient, quoting the address (as real ones do)."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"no such user") for m in email_messages})


def _later(minutes: float) -> Any:
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def test_a_broker_outage_delays_reset_and_report_emails_but_loses_neither(
    broker_down: Any, django_capture_on_commit_callbacks: Any
) -> None:
    patient, specialist = PatientFactory(email="rosa@example.org"), SpecialistFactory()
    add_totp(specialist)
    case = case_in_review(patient, specialist)
    report = complete_draft(case, specialist)
    mail.outbox.clear()
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        reset = Client().post("/accounts/password-reset/", {"email": "rosa@example.org"})
        report_services.report_sign(report=report, signer=specialist)
    assert reset.status_code == 302
    assert mail.outbox == []  # nothing could be queued
    assert OutgoingEmail.objects.filter(done_at__isnull=True).count() == 2

    # The broker is back; the sweeper (every SWEEP_INTERVAL) sends what was left, once.
    with _later(5), django_capture_on_commit_callbacks(execute=True):
        assert outbox_sweep()["queued"] == 2
    with _later(10), django_capture_on_commit_callbacks(execute=True):
        assert outbox_sweep()["queued"] == 0
    assert sorted(OutgoingEmail.objects.values_list("kind", "outcome")) == [
        ("case-status", "sent"),
        ("password-reset", "sent"),
    ]
    assert sorted(m.subject for m in mail.outbox) == [
        "Choose a new password",
        f"Your report for case {case.reference} is ready",
    ]
    assert all(m.to == ["rosa@example.org"] for m in mail.outbox)
    link = next(line for m in mail.outbox for line in m.body.split() if "/accounts/reset/" in line)
    page = Client().get(urlsplit(link).path, follow=True).content.decode()
    assert "new password" in page.lower()


def test_the_row_holds_no_link_or_token(django_capture_on_commit_callbacks: Any) -> None:
    patient = PatientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/password-reset/", {"email": patient.email})
    row = OutgoingEmail.objects.get(user=patient)
    assert (row.kind, row.params, row.outcome) == ("password-reset", {}, "sent")
    token = urlsplit(next(w for w in mail.outbox[0].body.split() if "/accounts/reset/" in w)).path.split("/")[-2]
    assert len(token) > 20 and token not in str(OutgoingEmail.objects.filter(pk=row.pk).values().first())


def test_params_take_ids_and_codes_but_never_text() -> None:
    patient = PatientFactory()
    with pytest.raises(TypeError):
        email_user(user=patient, name="audit-verify-failed", params={"broken_id": "Rosa's mole, left arm"})
    with pytest.raises(ValueError, match="unknown e-mail kind"):
        email_user(user=patient, name="no-such-kind")
    assert not OutgoingEmail.objects.exists()


def test_an_email_delivered_twice_is_sent_once(django_capture_on_commit_callbacks: Any) -> None:
    patient = PatientFactory()
    with django_capture_on_commit_callbacks(execute=False):
        row = email_user(user=patient, name="mfa-reset")
    assert outgoing_send(email_id=str(row.pk)) == "sent"
    assert outgoing_send(email_id=str(row.pk)) == ""  # a redelivered message
    assert len(mail.outbox) == 1


def test_a_refused_email_is_retried_with_backoff_and_its_address_never_logged(
    settings: Any, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    patient = PatientFactory(email="refused.canary@example.org")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingSMTP"
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        row = email_user(user=patient, name="mfa-reset")
    row.refresh_from_db()
    assert (row.attempts, row.done_at, row.claimed_at) == (1, None, None)
    assert row.next_attempt_at > timezone.now() + timedelta(minutes=1)
    assert outbox_sweep()["queued"] == 0  # not due yet
    for attempt in range(2, MAX_ATTEMPTS + 1):
        with _later(2**attempt * 60 * attempt):
            outbox_sweep()
    row.refresh_from_db()
    assert (row.attempts, row.outcome) == (MAX_ATTEMPTS, "failed") and row.done_at is not None
    assert "refused.canary" not in caplog.text and "SMTPRecipientsRefused" in caplog.text
    # Sent back to work: the server accepts the address again, but a failed e-mail stays failed.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with _later(10_000):
        assert outbox_sweep()["queued"] == 0


def test_an_inactive_recipient_gets_nothing(django_capture_on_commit_callbacks: Any) -> None:
    patient = PatientFactory(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        row = email_user(user=patient, name="mfa-reset")
    row.refresh_from_db()
    assert row.outcome == "skipped" and mail.outbox == []


def test_sent_rows_go_after_a_month(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        row = email_user(user=PatientFactory(), name="mfa-reset")
    with _later(60 * 24 * 31):
        assert outbox_sweep()["removed"] == 1
    assert not OutgoingEmail.objects.filter(pk=row.pk).exists()


def test_an_unknown_address_does_the_same_work_and_gets_no_email(django_capture_on_commit_callbacks: Any) -> None:
    """The reset of an unknown address queues a row and a task like a patient's (bench/timing.py
    measures both), which the worker drops."""
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/password-reset/", {"email": "nobody@example.org"})
    row = OutgoingEmail.objects.get()
    assert (row.user, row.outcome) == (None, "skipped") and mail.outbox == []


def test_registering_a_known_address_is_audited_and_warns_the_owner(django_capture_on_commit_callbacks: Any) -> None:
    from audit.models import AuditEvent

    patient = PatientFactory()
    form = {
        "full_name": "Someone Else",
        "email": patient.email,
        "language": "en",
        "password1": "an unguessable passphrase 77",
        "password2": "an unguessable passphrase 77",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post("/accounts/register/", form)["Location"] == "/accounts/register/check-email/"
    assert AuditEvent.objects.filter(event_type="register.existing", patient_id=patient.pk).count() == 1
    assert [m.to for m in mail.outbox] == [[patient.email]]
    assert OutgoingEmail.objects.get().kind == "account-exists"
