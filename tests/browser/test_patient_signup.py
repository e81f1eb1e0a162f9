from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible, link_from_outbox
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.browser


def _sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_patient_signs_up_confirms_the_address_and_signs_in(page: Page, live_server: Any) -> None:
    page.goto(live_server.url)
    page.get_by_role("main").get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")

    # Sent empty: a summary at the top takes focus and links to each field.
    page.get_by_role("button", name="Create account").click()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error:"))
    hrefs = [link.get_attribute("href") or "" for link in summary.get_by_role("link").all()]
    assert len(hrefs) >= 4, hrefs  # name, e-mail, language, password, repeated password
    missing = page.evaluate("hrefs => hrefs.filter(h => !document.getElementById(h.slice(1)))", hrefs)
    assert missing == [], f"error summary links to fields that are not on the page: {missing}"
    assert_accessible(page)

    page.get_by_label("Full name").fill("Ana Torres")
    page.get_by_label("E-mail address").fill("ana@example.org")
    page.get_by_role("group", name="Language for e-mails and pages").get_by_label("English").check()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    assert_accessible(page)

    page.goto(link_from_outbox("ana@example.org", live_server.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("status")).to_contain_text("Your e-mail address is confirmed")

    _sign_in(page, "ana@example.org", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cases")
    assert_accessible(page)


def test_signing_in_before_confirming_the_address_says_what_to_do(page: Page, live_server: Any) -> None:
    patient = PatientFactory(email_verified=False)

    page.goto(live_server.url + "/accounts/login/")
    _sign_in(page, patient.email, PASSWORD)

    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Confirm your e-mail address first")
    expect(summary.get_by_role("link", name="Send the link again")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error:"))
