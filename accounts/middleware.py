from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from accounts.access import is_verified
from accounts.timezones import zone_of

# Pages an authenticated user may reach before verifying a second factor.
MFA_EXEMPT_VIEWS = {
    "accounts:mfa_enrol",
    "accounts:mfa_verify",
    "accounts:logout",
    "set_language",
    "healthz",
}
# Refresh the activity stamp at most once a minute: one session write per minute, not per hit.
ACTIVITY_WRITE_INTERVAL = 60


def _login_redirect(request: HttpRequest) -> HttpResponse:
    url = reverse("accounts:login")
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return redirect(url)


class SessionTimeoutMiddleware:
    """Ends sessions idle for too long (30 min patients, 15 min staff) or older than 12 h."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            session = request.session
            login_at = session.setdefault("login_at", now)
            last_seen = session.get("last_seen", now)
            idle = idle_timeout(user)
            if now - last_seen > idle or now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT:
                language = user.language
                logout(request)
                with translation.override(language):
                    messages.info(request, _("You were signed out to protect your data. Please sign in again."))
                return _login_redirect(request)
            # Written at most once a minute (a quarter of a short timeout), so the stamp the
            # page's warning counts from is never far behind.
            if now - last_seen >= min(ACTIVITY_WRITE_INTERVAL, idle / 4) or "last_seen" not in session:
                session["last_seen"] = now
        return self.get_response(request)


def idle_timeout(user: Any) -> int:
    return int(settings.SESSION_IDLE_TIMEOUT["staff" if user.is_care_staff else "patient"])


def seconds_left(request: HttpRequest) -> int:
    """How long this session may stay idle from now before SessionTimeoutMiddleware ends it
    (the idle limit, or the absolute one if nearer)."""
    now = time.time()
    session = request.session
    idle_left = idle_timeout(request.user) - (now - session.get("last_seen", now))
    absolute_left = settings.SESSION_ABSOLUTE_TIMEOUT - (now - session.get("login_at", now))
    return max(0, int(min(idle_left, absolute_left)))


class NoStoreWhenSignedInMiddleware:
    """Nothing answered to a signed-in user is kept by a browser cache or a proxy: the pages
    show clinical content, and the computer may be shared. Public pages stay cacheable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:  # before the sign-out, or after the sign-in
            patch_cache_control(response, private=True, no_store=True)
        return response


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over cookies and browser settings."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            translation.activate(request.user.language)
            request.LANGUAGE_CODE = request.user.language
        return self.get_response(request)


class UserTimeZoneMiddleware:
    """Times on a signed-in person's pages are in their time zone (accounts/timezones.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = zone_of(request.user) if request.user.is_authenticated else None
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def needs_second_factor(user: Any) -> bool:
    """Staff always; patients once they have enrolled a device."""
    from django_otp import user_has_device

    return bool(user.is_care_staff or user_has_device(user, confirmed=True))


class MFARequiredMiddleware:
    """Until a second factor is verified in this session, only enrolment/verification is reachable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or is_verified(user):
            return None
        match = request.resolver_match
        if match is None or match.view_name in MFA_EXEMPT_VIEWS:
            return None
        if not needs_second_factor(user):
            return None
        from django_otp import user_has_device

        target = "accounts:mfa_verify" if user_has_device(user, confirmed=True) else "accounts:mfa_enrol"
        url = reverse(target)
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)
