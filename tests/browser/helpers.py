"""What the browser tests share: an accessibility check with axe, the link in the last e-mail,
and signing in with a password and a TOTP code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.factories import PASSWORD, add_totp, totp_code

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_axe = Axe()


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


def _sign_in_with_code(page: Page, live_server: Any, user: User) -> None:
    device = TOTPDevice.objects.filter(user=user).first() or add_totp(user)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your verification code")
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
