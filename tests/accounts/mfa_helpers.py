"""Wrong codes until django-otp throttles, and the words the pages use for each case."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import totp_code

THROTTLED = {
    "en": "Too many wrong codes. Wait 4 seconds and try again.",
    "es": "Demasiados códigos incorrectos. Espere 4 segundos e inténtelo de nuevo.",
}
WRONG = {"en": "That code is not right", "es": "Ese código no es correcto"}


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


def wrong_code(device: TOTPDevice) -> str:
    """A code the app does not show now (nor a step before or after)."""
    near = {totp_code(device, offset) for offset in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in near)


def wrong_codes(client: Client, url: str, device: TOTPDevice, traveller: Any, language: str) -> None:
    """Three wrong codes, each after the wait the one before it caused (1 s, then 2 s), so each
    one is looked at and called wrong; django-otp then waits 1 × 2² = 4 s."""
    for n in range(3):
        if n:
            traveller.shift(timedelta(seconds=2 ** (n - 1)))
        assert WRONG[language] in page_text(client.post(url, {"code": wrong_code(device)}))
