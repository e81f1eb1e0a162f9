"""Step-up: re-verify a factor within the last few minutes before a sensitive action.

Signing a report, downloading a report, exporting, deleting and changing MFA use
`@stepup_required`. The step-up page asks for an authenticator/backup code, or the password
for patients who have not enrolled a second factor.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

SESSION_KEY = "stepup_at"


def has_recent_stepup(request: HttpRequest) -> bool:
    at = request.session.get(SESSION_KEY)
    return at is not None and time.time() - at <= settings.STEP_UP_SECONDS


def mark_stepped_up(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = time.time()


def stepup_redirect(request: HttpRequest) -> HttpResponse:
    """To the step-up page, then back. After a POST the user comes back to the page they were
    on, not the action URL."""
    back = request.get_full_path() if request.method == "GET" else request.headers.get("Referer", "")
    return redirect(reverse("accounts:step_up") + "?" + urlencode({"next": back}))


def stepup_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For views without an object to check first; views that check access to an object call
    `has_recent_stepup`/`stepup_redirect` after the check, so a stranger gets the same 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if has_recent_stepup(request):
            return view(request, *args, **kwargs)
        return stepup_redirect(request)

    return wrapper
