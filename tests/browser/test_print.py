"""Printing a case or a report gives the content only: no header, footer, forms or buttons
(issue 15, item 17)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import _sign_in_with_code
from tests.factories import PatientFactory, SpecialistFactory
from tests.reports.helpers import reported_case

pytestmark = pytest.mark.browser


def test_the_case_page_prints_the_report_without_the_pages_chrome(
    page: Page, live_server: Any, transactional_db: Any
) -> None:
    patient = PatientFactory()
    case = reported_case(SpecialistFactory(), specialty="cardiology", took_days=2, patient=patient)
    _sign_in_with_code(page, live_server, patient)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_role("banner")).to_be_visible()

    page.emulate_media(media="print")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("banner")).to_be_hidden()
    expect(page.get_by_role("contentinfo")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    assert page.locator("main form:visible").count() == 0
