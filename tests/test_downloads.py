"""Downloads never render inline (SECURITY.md row 17): every file response is an attachment,
never sniffed, sandboxed and not cached, as the browser receives it (after every middleware,
django-csp's included). The walk over every URL finds a file response missing from the list."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.stepup import SESSION_KEY
from tests.accounts.matrix import ALL_URL_NAMES, _url
from tests.lifecycle.helpers import MATRIX_CERTIFICATE_ID

pytestmark = pytest.mark.django_db

SANDBOX = "sandbox; default-src 'none'"
# (url name, who downloads, URL kwargs instead of the matrix's, query string)
DOWNLOADS: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = [
    ("lifecycle:certificate_download", "admin", {"certificate_id": MATRIX_CERTIFICATE_ID, "fmt": "json"}, {}),
    ("lifecycle:certificate_download", "admin", {"certificate_id": MATRIX_CERTIFICATE_ID, "fmt": "pdf"}, {}),
    ("lifecycle:erase_certificate", "patient_a", {"fmt": "json"}, {}),
    ("lifecycle:erase_certificate", "patient_a", {"fmt": "pdf"}, {}),
    ("console:export_csv", "admin", None, {}),
    ("console:export_fhir", "admin", None, {}),
    ("reports:statistics", "admin", None, {"period": "90", "format": "csv"}),
    ("lifecycle:export_zip", "patient_a", None, {}),
    ("lifecycle:export_fhir", "patient_a", None, {}),
    ("uploads:backup", "patient_a", None, {}),
    ("uploads:download", "patient_a", None, {}),
    ("uploads:thumbnail", "specialist", None, {}),
    ("reports:preview_pdf", "specialist", None, {}),
    ("reports:download", "patient_a", None, {}),
]
# Answers that are not pages and not files: read by our own scripts and by monitoring.
NOT_FILES = {"uploads:status", "healthz", "healthz_detail"}
# Images for <img> tags on the review pages: inline, but sandboxed, never sniffed, not cached.
INLINE_IMAGES = {"uploads:image", "uploads:frame"}


def _stepped_up(client: Client) -> Client:
    session = client.session
    session[SESSION_KEY] = time.time()
    session.save()
    return client


@pytest.fixture
def world(clients: dict[str, Client]) -> dict[str, Client]:
    """The authorization matrix's cases, files, report and certificate; every client with a fresh factor."""
    return {role: _stepped_up(client) for role, client in clients.items() if role != "anonymous"}


def _directives(response: Any) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",")}


def _assert_never_rendered(response: Any, *, disposition: str = "attachment") -> None:
    assert response["Content-Disposition"].split(";")[0] == disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert "no-store" in _directives(response)


@pytest.mark.parametrize(
    ("name", "role", "kwargs", "query"),
    DOWNLOADS,
    ids=[f"{d[0]}-{(d[2] or {}).get('fmt', '')}".rstrip("-") for d in DOWNLOADS],
)
def test_every_download_is_an_attachment_that_never_renders(
    name: str, role: str, kwargs: dict[str, Any] | None, query: dict[str, str], world: dict[str, Client]
) -> None:
    url = reverse(name, kwargs=kwargs) if kwargs else _url(name)
    response = world[role].get(url, query)
    assert response.status_code == 200, response.get("Location")
    assert not response["Content-Type"].startswith("text/html")
    _assert_never_rendered(response)


def test_no_file_response_is_left_out_of_the_list(world: dict[str, Client]) -> None:
    listed = {d[0] for d in DOWNLOADS}
    for role in ("patient_a", "specialist", "admin"):
        client = world[role]
        for name in ALL_URL_NAMES:
            response = client.get(_url(name))
            if response.status_code != 200 or response["Content-Type"].startswith("text/html") or name in NOT_FILES:
                continue
            if name in INLINE_IMAGES:
                _assert_never_rendered(response, disposition="inline")
            else:
                assert name in listed, f"{name} ({role}) answers a file: add it to DOWNLOADS"
                _assert_never_rendered(response)
