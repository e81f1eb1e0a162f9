"""At 390 px (a phone) no page is wider than the screen: wide tables scroll inside their
`.table-wrap`, the page itself never does (issue 15, item 17)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cases.models import Status
from tests.browser.helpers import _sign_in_with_code, assert_accessible
from tests.factories import AdminFactory, CaseFactory, SpecialistFactory
from tests.reports.helpers import reported_case

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_the_admins_table_pages_fit_a_phone(page: Page, live_server: Any, transactional_db: Any) -> None:
    specialist = SpecialistFactory()
    for day in range(1, 8):
        reported_case(specialist, specialty="cardiology", took_days=day, in_person="soon" if day < 3 else "no")
    CaseFactory(status=Status.SUBMITTED, country="ES", specialty="dermatology")
    admin = AdminFactory()
    page.set_viewport_size(PHONE)
    _sign_in_with_code(page, live_server, admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")

    wide = {}
    for path in (
        "/console/",
        "/console/statistics/?period=365",
        "/console/cases/",
        "/console/users/",
        "/console/assign/",
        "/console/audit/?action=R",
        "/console/audit/access-review/",
        "/console/retention/",
        "/console/turnaround/",
        "/console/consent/",
        "/console/clinic/",
        "/console/deletion-certificates/",
    ):
        page.goto(live_server.url + path)
        if _page_width(page) > PHONE["width"]:
            wide[path] = _page_width(page)
    assert wide == {}
    page.goto(live_server.url + "/console/statistics/?period=365")
    assert_accessible(page)
