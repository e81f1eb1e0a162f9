"""The report editor beside the evidence in Chromium: side by side on a wide screen, two tabs on a
phone (WAI-ARIA tabs), key photos chosen by thumbnail, next/previous photo from the keyboard but
never while typing, and the draft still saved as the specialist types."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from cases.models import Case, Measurement
from reports.models import Report
from tests.browser.helpers import assert_accessible
from tests.factories import PASSWORD, PatientFactory, SpecialistFactory, add_totp, totp_code
from tests.reports.helpers import case_in_review
from tests.reports.samples import photo_sample, sanitized_upload

pytestmark = pytest.mark.browser


@pytest.fixture
def editor(transactional_db: Any) -> tuple[Case, Any]:
    specialist = SpecialistFactory()
    device = add_totp(specialist)
    case = case_in_review(PatientFactory(), specialist, questions=1, reason="It has grown since January.")
    sanitized_upload(case, photo_sample(640, 480, (200, 120, 90)), "mole-january.jpg")
    sanitized_upload(case, photo_sample(480, 640, (150, 90, 70)), "mole-march.jpg")
    Measurement.objects.create(
        case=case, site="Mole, left shoulder", value_mm=Decimal("6.5"), method="ruler", measured_on=date(2024, 1, 10)
    )
    return case, device


def _open_editor(browser: Browser, url: str, editor: tuple[Case, Any], width: int, height: int) -> Page:
    case, device = editor
    page = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB").new_page()
    page.goto(url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(case.specialist.email)  # type: ignore[union-attr]
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Specialist home")
    page.goto(f"{url}/specialist/cases/{case.pk}/report/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.reference)
    return page


def test_on_a_wide_screen_the_form_and_the_evidence_are_side_by_side(
    browser: Browser, live_server: Any, editor: tuple[Case, Any]
) -> None:
    page = _open_editor(browser, live_server.url, editor, 1280, 900)
    summary = page.get_by_label("Summary")
    evidence = page.get_by_role("region", name="Evidence")
    expect(summary).to_be_visible()
    expect(evidence).to_be_visible()
    expect(page.get_by_role("tablist")).to_have_count(0)
    form_box, evidence_box = summary.bounding_box(), evidence.bounding_box()
    assert form_box and evidence_box
    assert evidence_box["x"] >= form_box["x"] + form_box["width"], "the evidence is not beside the form"
    assert evidence_box["y"] < form_box["y"] + form_box["height"] + 400
    expect(evidence.get_by_role("img", name=re.compile(r"^Photo mole-january\.jpg"))).to_be_visible()
    expect(evidence.get_by_role("table", name="Measurements of Mole, left shoulder")).to_contain_text("6.5 mm")
    expect(evidence).to_contain_text("It has grown since January.")
    assert_accessible(page)

    # A key photo is chosen by its thumbnail, and autosave keeps it.
    page.get_by_role("checkbox", name=re.compile(r"^mole-march\.jpg")).check()
    expect(page.get_by_role("status")).to_contain_text("Draft saved at", timeout=10_000)
    report = Report.objects.get(case=editor[0])
    assert len(report.key_photos) == 1


def test_on_a_phone_the_form_and_the_evidence_are_two_tabs(
    browser: Browser, live_server: Any, editor: tuple[Case, Any]
) -> None:
    page = _open_editor(browser, live_server.url, editor, 390, 844)
    tabs = page.get_by_role("tablist", name="Report and evidence")
    report_tab, evidence_tab = tabs.get_by_role("tab", name="Report"), tabs.get_by_role("tab", name="Evidence")
    expect(report_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Report")).to_be_visible()
    expect(page.get_by_label("Summary")).to_be_visible()
    expect(page.get_by_role("region", name="Evidence")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)

    evidence_tab.click()
    expect(evidence_tab).to_have_attribute("aria-selected", "true")
    panel = page.get_by_role("tabpanel", name="Evidence")
    expect(panel).to_be_visible()
    expect(page.get_by_label("Summary")).to_be_hidden()
    expect(panel.get_by_role("table", name="Measurements of Mole, left shoulder")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)

    # Arrow keys move between the tabs (and select them).
    evidence_tab.focus()
    page.keyboard.press("ArrowLeft")
    expect(report_tab).to_be_focused()
    expect(report_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Summary")).to_be_visible()


def test_without_javascript_the_evidence_follows_the_form(
    browser: Browser, live_server: Any, editor: tuple[Case, Any]
) -> None:
    case, device = editor
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(case.specialist.email)  # type: ignore[union-attr]
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
    page.goto(f"{live_server.url}/specialist/cases/{case.pk}/report/")
    expect(page.get_by_role("tablist")).to_have_count(0)
    page.get_by_role("link", name=re.compile("^Go to the evidence")).click()
    expect(page.get_by_role("region", name="Evidence")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Next photo")).to_have_count(0)
    context.close()


def test_the_keyboard_steps_through_the_photos_but_not_while_typing(
    browser: Browser, live_server: Any, editor: tuple[Case, Any]
) -> None:
    page = _open_editor(browser, live_server.url, editor, 1280, 900)
    evidence = page.get_by_role("region", name="Evidence")
    expect(evidence).to_contain_text("press ] or J for the next photo")
    photo = evidence.get_by_role("img", name=re.compile(r"^Photo mole-"))
    expect(photo).to_have_accessible_name(re.compile(r"^Photo mole-january\.jpg"))

    page.locator("body").press("]")
    expect(photo).to_have_accessible_name(re.compile(r"^Photo mole-march\.jpg"))
    expect(evidence).to_contain_text("Photo 2 of 2")
    page.locator("body").press("[")
    expect(photo).to_have_accessible_name(re.compile(r"^Photo mole-january\.jpg"))
    page.locator("body").press("k")  # wraps round
    expect(evidence).to_contain_text("Photo 2 of 2")
    evidence.get_by_role("button", name="Next photo").click()
    expect(evidence).to_contain_text("Photo 1 of 2")

    # Typing in a field types: the photo stays.
    summary = page.get_by_label("Summary")
    summary.press_sequentially("See [1] and j")
    expect(summary).to_have_value("See [1] and j")
    expect(evidence).to_contain_text("Photo 1 of 2")
    expect(page.get_by_role("status")).to_contain_text("Draft saved at", timeout=10_000)
    assert Report.objects.get(case=editor[0]).summary == "See [1] and j"

    # The shortcuts can be turned off (WCAG 2.1.4).
    page.get_by_label("Use these keyboard shortcuts").uncheck()
    page.locator("body").press("]")
    expect(evidence).to_contain_text("Photo 1 of 2")
