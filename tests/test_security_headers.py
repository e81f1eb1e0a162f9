"""Security headers on every page a person can open, for every kind of visitor."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.accounts.matrix import ALL_URL_NAMES, _url

pytestmark = pytest.mark.django_db

PRODUCTION_VALUES = {
    "SECURE_HSTS_SECONDS": 63072000,
    "SECURE_SSL_REDIRECT": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}


@pytest.fixture
def production_values(settings: Any) -> None:
    for name, value in PRODUCTION_VALUES.items():
        setattr(settings, name, value)


def _assert_headers(response: Any) -> None:
    csp = response["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "default-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    if response["Content-Type"].startswith("text/html") and response.status_code == 200:
        assert "'nonce-" in csp
    assert response["Strict-Transport-Security"].startswith("max-age=63072000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.usefixtures("production_values")
def test_every_page_sends_the_security_headers(
    patient_client: Client, specialist_client: Client, admin_client_verified: Client
) -> None:
    for client in (Client(), patient_client, specialist_client, admin_client_verified):
        for name in ALL_URL_NAMES:
            response = client.get(_url(name), secure=True)
            _assert_headers(response)


def _kept_by_no_cache(response: Any) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_every_answer_to_a_signed_in_user_is_kept_by_no_cache(
    patient_client: Client, specialist_client: Client, admin_client_verified: Client
) -> None:
    for client in (patient_client, specialist_client, admin_client_verified):
        for name in ALL_URL_NAMES:
            response = client.get(_url(name))
            assert _kept_by_no_cache(response), (name, response.status_code, response.get("Cache-Control"))


def test_clinical_pages_are_kept_by_no_cache_and_public_pages_stay_cacheable(
    patient_a: Any, patient_client: Client, specialist_client: Client
) -> None:
    from tests.factories import CaseFactory

    case = CaseFactory(patient=patient_a)
    page = patient_client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert _kept_by_no_cache(page)
    queue = specialist_client.get("/specialist/queue/")
    assert queue.status_code == 200 and _kept_by_no_cache(queue)
    for path in ("/", "/verify/"):
        response = Client().get(path)
        assert response.status_code == 200 and "no-store" not in response.get("Cache-Control", ""), path


@pytest.mark.usefixtures("production_values")
def test_plain_http_is_redirected_to_https() -> None:
    response = Client().get("/accounts/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")


@pytest.mark.usefixtures("production_values")
def test_cookies_are_secure_httponly_samesite(patient_a: Any) -> None:
    from tests.factories import PASSWORD

    client = Client()
    client.get("/accounts/login/", secure=True)
    client.post("/accounts/login/", {"username": patient_a.email, "password": PASSWORD}, secure=True)
    for name in ("so_session", "csrftoken"):
        cookie = client.cookies[name]
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax", name


def test_healthz_reports_each_service_without_secrets(client: Client, settings: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert set(body.values()) == {"OK"}
    assert any(k.startswith("Database") for k in body) and any(k.startswith("ObjectStorage") for k in body)
    text = response.content.decode()
    assert settings.SECRET_KEY not in text and "testing" not in text.lower().replace("healthtest", "")
