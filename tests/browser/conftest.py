"""Browser tests: Debian's Chromium driven by pytest-playwright against pytest-django's live_server."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core import mail
from playwright.sync_api import Page

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
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_axe = Axe()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Playwright cannot download its own browsers here.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # Pin the browser's language so the machine's locale cannot change which page we get.
    return {**browser_context_args, "locale": "en-GB"}


def assert_accessible(page: Page) -> None:
    """Fail with a readable list if axe finds WCAG 2.2 A/AA violations on the current page."""
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    if results.violations_count == 0:
        return
    lines = [f"{results.violations_count} accessibility violation(s) on {page.url} ({page.title()!r}):"]
    for v in results.response["violations"]:
        targets = ["".join(map(str, node["target"])) for node in v["nodes"][:3]]
        more = f" (+{len(v['nodes']) - 3} more)" if len(v["nodes"]) > 3 else ""
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']}: {', '.join(targets)}{more}")
    pytest.fail("\n".join(lines), pytrace=False)


def link_from_outbox(to: str, live_server_url: str) -> str:
    """The link in the last e-mail sent to `to`, rebased on the live server (e-mails use SITE_URL)."""
    messages = [m for m in mail.outbox if to in m.to]
    assert messages, f"no e-mail was sent to {to}"
    match = re.search(re.escape(settings.SITE_URL) + r"(/\S+)", messages[-1].body)
    assert match, f"no {settings.SITE_URL} link in the e-mail:\n{messages[-1].body}"
    return live_server_url + match.group(1)


@pytest.fixture(autouse=True)
def _verification_rate_limit_off(settings: Any) -> None:
    """Every browser comes from 127.0.0.1 and the counter lives in the shared Redis cache, so the
    journeys that verify reports and certificates would trip the per-address limit together.
    The limit itself is tested in tests/reports/test_verify.py."""
    settings.REPORT_VERIFY_RATE = (10_000, 600)
