"""core/emails.py: every e-mail is three templates, and every HTML body extends emails/base.html,
which greets the recipient in their language and says no medical information is sent by e-mail."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

from core.emails import make_message

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "emails"
NAMES = sorted(p.name.removesuffix("-body.html") for p in TEMPLATES.glob("*-body.html"))


@pytest.mark.parametrize("name", NAMES)
def test_every_email_has_three_templates_and_the_html_extends_the_base(name: str) -> None:
    assert (TEMPLATES / f"{name}-subject.txt").exists() and (TEMPLATES / f"{name}-body.txt").exists()
    assert (TEMPLATES / f"{name}-body.html").read_text().startswith('{% extends "emails/base.html" %}')


@pytest.mark.django_db  # the clinic's details are read for every e-mail
def test_the_html_is_a_whole_page_in_the_recipients_language() -> None:
    with translation.override("es"):
        message = make_message("case-receipt", "ana@example.org", {"reference": "SO-AAAA-BBBB", "path": "/cases/x/"})
    html = str(message.alternatives[0][0])  # type: ignore[attr-defined]
    assert html.startswith("<!doctype html>") and '<html lang="es">' in html and html.rstrip().endswith("</html>")
    assert "Hola:" in html and "SO-AAAA-BBBB" in html
    assert "nunca envía información médica por correo" in html, "the base's footer, in Spanish"
    assert message.to == ["ana@example.org"] and "SO-AAAA-BBBB" in message.subject
