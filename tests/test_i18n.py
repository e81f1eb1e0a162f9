from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.test import Client

PO = Path(__file__).resolve().parent.parent / "locale/es/LC_MESSAGES/django.po"


def test_the_spanish_catalogue_is_complete() -> None:
    stats = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)], capture_output=True, text=True, check=True
    ).stderr
    assert "untranslated" not in stats and "fuzzy" not in stats, stats


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/register/", "/accounts/password-reset/"])
def test_public_pages_render_in_spanish(path: str) -> None:
    html = Client(HTTP_ACCEPT_LANGUAGE="es").get(path).content.decode()
    assert '<html lang="es">' in html
    assert "Iniciar sesión" in html and "Sign in" not in html
