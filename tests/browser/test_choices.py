"""Checkboxes and radios are large targets (GOV.UK: 40 px boxes, the label too), and "None of
these" is set apart by an "or" and clears the other answers, and they clear it (issue 15, item 17)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import _sign_in_with_code, assert_accessible
from tests.factories import CaseFactory, PatientFactory

pytestmark = pytest.mark.browser


def test_none_of_these_is_set_apart_and_exclusive(page: Page, live_server: Any, transactional_db: Any) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient, red_flags_answered=False)
    _sign_in_with_code(page, live_server, patient)
    page.goto(f"{live_server.url}/cases/{case.pk}/intake/urgent/")
    group = page.get_by_role("group", name="Do you have any of these right now?")
    chest = group.get_by_label("Chest pain or pressure", exact=False)
    none = group.get_by_label("None of these")

    expect(group.get_by_text("or", exact=True)).to_be_visible()
    box = chest.bounding_box()
    assert box and box["width"] >= 40 and box["height"] >= 40, box
    chest.check()
    none.check()
    expect(chest).not_to_be_checked()
    chest.check()
    expect(none).not_to_be_checked()
    assert_accessible(page)


def test_radios_are_large_targets(page: Page, live_server: Any, transactional_db: Any) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient, red_flags_answered=True)
    _sign_in_with_code(page, live_server, patient)
    page.goto(f"{live_server.url}/cases/{case.pk}/intake/specialty/")
    radio = page.get_by_role("radio").first
    box = radio.bounding_box()
    assert box and box["width"] >= 40 and box["height"] >= 40, box
    page.get_by_role("radio").nth(1).locator("xpath=following-sibling::label").click()
    expect(page.get_by_role("radio").nth(1)).to_be_checked()
