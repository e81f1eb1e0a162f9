"""The browser tells its time zone at sign-in; the account page shows it and lets the person
change it; times on the pages follow it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.browser


def test_signing_in_from_mexico_shows_mexican_times(new_context: Any, live_server: Any) -> None:
    patient = PatientFactory()
    page = new_context(timezone_id="America/Mexico_City", viewport={"width": 390, "height": 844}).new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(patient.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cases")
    patient.refresh_from_db()
    assert patient.time_zone == "America/Mexico_City"

    page.goto(live_server.url + "/accounts/security/")
    expect(page.get_by_label("Your time zone")).to_have_value("America/Mexico_City")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("Your time zone").select_option("Europe/Madrid")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_role("status").first).to_have_text("Your time zone is saved.")
    patient.refresh_from_db()
    assert patient.time_zone == "Europe/Madrid"
