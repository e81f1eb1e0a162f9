"""Browser tests: Debian's Chromium driven by pytest-playwright against pytest-django's live_server
(the helpers the tests import are in tests/browser/helpers.py)."""

from __future__ import annotations

import os
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread, so Django sees every ORM call made
# by the test (factories, fixtures, teardown) as coming from an async context and refuses it.
# Nothing here is really concurrent: this is the documented workaround for pytest-playwright.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Playwright cannot download its own browsers here.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # Pin the browser's language so the machine's locale cannot change which page we get.
    return {**browser_context_args, "locale": "en-GB"}


@pytest.fixture(autouse=True)
def _verification_rate_limit_off(settings: Any) -> None:
    """Every browser comes from 127.0.0.1 and the counter lives in the shared Redis cache, so the
    journeys that verify reports and certificates would trip the per-address limit together.
    The limit itself is tested in tests/reports/test_verify.py."""
    settings.REPORT_VERIFY_RATE = (10_000, 600)
