"""The pages every visitor can read from the footer: the privacy notice (GDPR Art. 13), the
accessibility statement, the cookies used and how to contact the clinic. They read the clinic's
details (core/clinic.py) and, for the privacy notice, the retention periods in force."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_countries import countries

from core.clinic import details
from lifecycle.models import RetentionPolicy
from lifecycle.retention import keep_days_for

# When the accessibility statement was last checked against the pages (update it with the text).
ACCESSIBILITY_REVIEWED = date(2026, 12, 4)


def privacy(request: HttpRequest) -> HttpResponse:
    policies = sorted(
        (
            (str(countries.name(code)), days)
            for code, days in RetentionPolicy.objects.values_list("country", "keep_days")
            if code
        ),
    )
    return render(
        request,
        "pages/privacy.html",
        {
            "clinic": details(),
            "policies": policies,
            "default_days": keep_days_for(""),
            "audit_years": settings.AUDIT_RETENTION_YEARS,
            "quiet_days": settings.FOLLOW_UP_QUIET_DAYS,
        },
    )


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html", {"clinic": details(), "reviewed": ACCESSIBILITY_REVIEWED})


def cookies(request: HttpRequest) -> HttpResponse:
    hours = settings.SESSION_COOKIE_AGE // 3600
    rows = [
        (
            settings.SESSION_COOKIE_NAME,
            _("Keeps you signed in."),
            _("Until you sign out, or %(hours)d hours at most.") % {"hours": hours},
        ),
        (
            settings.CSRF_COOKIE_NAME,
            _("Protects the forms you send from being forged by another website."),
            _("One year."),
        ),
        (settings.LANGUAGE_COOKIE_NAME, _("Remembers the language you chose."), _("Until you close the browser.")),
        ("messages", _("Carries a short notice, like “Saved”, to the next page."), _("Until the notice is shown.")),
    ]
    return render(request, "pages/cookies.html", {"rows": rows})


def contact(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/contact.html", {"clinic": details()})
