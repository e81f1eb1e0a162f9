"""One e-mail from its three templates: `emails/<name>-subject.txt`, `-body.txt` and `-body.html`
(which extends `emails/base.html`), rendered in the current language, with the clinic's details
(`clinic`) for the ways to reach it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from core.clinic import details


def make_message(name: str, to: str, ctx: dict[str, Any]) -> EmailMultiAlternatives:
    ctx = {"site_url": settings.SITE_URL, "clinic": details(), **ctx}
    subject = render_to_string(f"emails/{name}-subject.txt", ctx).strip()
    body = render_to_string(f"emails/{name}-body.txt", ctx)
    html = render_to_string(f"emails/{name}-body.html", ctx)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    return message
