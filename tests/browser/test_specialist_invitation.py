from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible, link_from_outbox
from tests.factories import PASSWORD, AdminFactory, add_totp, totp_code

pytestmark = pytest.mark.browser

NEW_PASSWORD = "violet kettle under the bridge"


def _code_from_secret(secret: str) -> str:
    """What an authenticator app shows for the key typed in by hand."""
    raw = "".join(secret.split()).upper()
    key = base64.b32decode(raw + "=" * (-len(raw) % 8))
    return f"{totp(key):06d}"


def test_an_admin_invites_a_specialist_who_enrols_and_reaches_their_home(
    page: Page, new_context: Any, live_server: Any
) -> None:
    admin = AdminFactory()
    device = add_totp(admin)

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your verification code")
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    assert_accessible(page)

    page.get_by_role("link", name="Invite a specialist or administrator").click()
    page.get_by_label("Full name").fill("Dra. Lucía Romero")
    page.get_by_label("E-mail address").fill("lucia@example.org")
    page.get_by_role("group", name="Role").get_by_label("Specialist").check()
    page.get_by_role("group", name="Language").get_by_label("English").check()
    page.get_by_label("Licence number").fill("DERM-1234")
    page.get_by_role("group", name="Specialties").get_by_label("Dermatology").check()
    page.get_by_label("Jurisdictions where licensed").fill("ES, MX")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent")

    # The specialist, on their own computer.
    specialist = new_context().new_page()
    specialist.goto(link_from_outbox("lucia@example.org", live_server.url))
    expect(specialist.get_by_role("heading", level=1)).to_have_text("Accept your invitation")
    specialist.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    specialist.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    specialist.get_by_role("button", name="Continue").click()
    expect(specialist.get_by_role("heading", level=1)).to_have_text("Set up two-step verification")
    assert_accessible(specialist)

    # Until the second factor is set up, every other page leads back here.
    specialist.goto(live_server.url + "/specialist/")
    expect(specialist).to_have_url(re.compile(r"/accounts/mfa/enrol/"))
    expect(specialist.get_by_role("heading", level=1)).to_have_text("Set up two-step verification")

    specialist.get_by_text("Can't scan it? Type this key instead").click()
    secret = specialist.get_by_test_id("totp-secret").inner_text()
    specialist.get_by_label("Code from the app").fill(_code_from_secret(secret))
    specialist.get_by_role("button", name="Turn on two-step verification").click()
    expect(specialist.get_by_role("heading", level=1)).to_have_text("Your backup codes")
    expect(specialist.get_by_test_id("backup-codes").get_by_role("listitem")).to_have_count(10)
    assert_accessible(specialist)

    specialist.get_by_role("link", name="I have saved my codes, continue").click()
    expect(specialist.get_by_role("heading", level=1)).to_have_text("Specialist home")
    expect(specialist.get_by_role("main")).to_contain_text("DERM-1234")
    assert_accessible(specialist)
