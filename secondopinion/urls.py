from __future__ import annotations

from django.urls import include, path

from accounts import views as account_views
from secondopinion import pages
from secondopinion.health import healthz, healthz_detail

urlpatterns = [
    path("", account_views.landing, name="landing"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("privacy/", pages.privacy, name="privacy"),
    path("accessibility/", pages.accessibility, name="accessibility"),
    path("cookies/", pages.cookies, name="cookies"),
    path("contact/", pages.contact, name="contact"),
    path("healthz", healthz, name="healthz"),
    path("healthz/detail", healthz_detail, name="healthz_detail"),
    path("", include("accounts.urls")),
    path("", include("cases.urls")),
    path("", include("uploads.urls")),
    path("", include("reports.urls")),
    path("", include("lifecycle.urls")),
    path("", include("console.urls")),
]
