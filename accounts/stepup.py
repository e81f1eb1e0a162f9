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
from django.utils.translation import gettext_lazy as _

SESSION_KEY = "stepup_at"


def has_recent_stepup(request: HttpRequest) -> bool:
    at = request.session.get(SESSION_KEY)
    return at is not None and time.time() - at <= settings.STEP_UP_SECONDS


def mark_stepped_up(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = time.time()


# Why a step-up was asked, when the page it returns to should say so: the key goes in the URL,
# the message is ours.
DONE_MESSAGES = {"download": _("You confirmed it is you. You can download the report now.")}


def stepup_redirect(request: HttpRequest, *, then: str = "", done: str = "") -> HttpResponse:
    """To the step-up page, then back. After a POST the user comes back to the page they were
    on, not the action URL; `then` names that page where going back to the action itself would
    strand them (a download is an attachment: the browser saves it and stays on the step-up
    page), and `done` (a key of DONE_MESSAGES) what the page tells them once they are back."""
    back = then or (request.get_full_path() if request.method == "GET" else request.headers.get("Referer", ""))
    query = {"next": back} | ({"done": done} if done in DONE_MESSAGES else {})
    return redirect(reverse("accounts:step_up") + "?" + urlencode(query))


def stepup_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For views without an object to check first; views that check access to an object call
    `has_recent_stepup`/`stepup_redirect` after the check, so a stranger gets the same 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if has_recent_stepup(request):
            return view(request, *args, **kwargs)
        return stepup_redirect(request)

    return wrapper
