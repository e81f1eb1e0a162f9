"""Checking a second-factor code, telling "wrong code" apart from "too many wrong codes".

django-otp throttles a device after wrong codes (OTP_*_THROTTLE_FACTOR: 1, 2, 4 ... seconds);
while it waits, the device refuses every code, the right one too, without looking at it. Saying
"wrong code" then would make people doubt a right code, so the pages say how long to wait.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext
from django_otp import devices_for_user
from django_otp.models import Device


@dataclass(frozen=True)
class CodeCheck:
    device: Device | None = None  # the device that accepted the code
    wait_seconds: int = 0  # > 0: refused unseen, a device waits after wrong codes

    def problem(self, wrong_code: str) -> str:
        """What to tell the user when no device accepted the code; `wrong_code` if it was wrong."""
        if self.wait_seconds:
            return ngettext(
                "Too many wrong codes. Wait %(seconds)d second and try again.",
                "Too many wrong codes. Wait %(seconds)d seconds and try again.",
                self.wait_seconds,
            ) % {"seconds": self.wait_seconds}
        return wrong_code

    def audit_detail(self) -> dict[str, Any] | None:
        return {"throttled": True} if self.wait_seconds else None


def code_check(*, user: Any, code: str) -> CodeCheck:
    """Try `code` on the user's confirmed devices (authenticator app, backup codes)."""
    with transaction.atomic():  # the devices are locked for the check, as in django_otp.match_token
        return _first_accepting(devices_for_user(user, for_verify=True), code)


def enrolment_code_check(*, device: Device, code: str) -> CodeCheck:
    """Try `code` on the device being enrolled."""
    return _first_accepting([device], code)


def _first_accepting(devices: Iterable[Device], code: str) -> CodeCheck:
    waits = []
    for device in devices:
        wait = _throttled_for(device)
        if wait:
            waits.append(wait)  # it would refuse the code without looking at it
        elif device.verify_token(code):
            return CodeCheck(device=device)
    return CodeCheck(wait_seconds=max(waits, default=0))


def _throttled_for(device: Device) -> int:
    """Seconds until the device looks at a code again; 0 when it does now."""
    allowed, data = device.verify_is_allowed()
    if allowed or not data or data.get("locked_until") is None:
        return 0
    return max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))
