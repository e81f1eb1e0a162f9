"""E-mail: three templates per message (subject, text, HTML), rendered in the recipient's
language. E-mails never carry clinical text, only references and links."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import User


def make_message(name: str, to: str, ctx: dict[str, Any]) -> EmailMultiAlternatives:
    ctx = {"site_url": settings.SITE_URL, **ctx}
    subject = render_to_string(f"emails/{name}-subject.txt", ctx).strip()
    body = render_to_string(f"emails/{name}-body.txt", ctx)
    html = render_to_string(f"emails/{name}-body.html", ctx)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    return message


def email_user_send(*, user: User, name: str, ctx: dict[str, Any]) -> None:
    with translation.override(user.language):
        make_message(name, user.email, {"user": user, **ctx}).send()


def email_user(*, user: User, name: str, ctx: dict[str, Any]) -> None:
    """Queue an e-mail to a user once the current transaction commits."""
    from accounts.tasks import send_email_task

    # robust: a broker outage must not turn a committed action (a signature, a submission) into an
    # error page, nor stop the other work queued at the same commit. The e-mail is then not sent
    # (the error is logged); there is no outbox to send it later.
    transaction.on_commit(lambda: send_email_task.delay(str(user.pk), name, ctx), robust=True)
