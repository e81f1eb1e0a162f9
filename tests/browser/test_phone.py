"""Issue 15 item 11, on a 390 × 844 phone: the upload widget's buttons are targets of at least
24 × 24 px and pass axe with a file waiting to be sent; a SHA-256 is a short fingerprint that opens
to the full value instead of a tall column; the consent text reads without a scroll box of its own,
its checkbox beside the label. The browser tests run an axe at least as new as pa11y's (4.11)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from cases.models import ConsentVersion, Status
from tests.browser.helpers import _axe, assert_accessible
from tests.factories import PASSWORD, CaseFactory, PatientFactory, accepted_upload, publish_consent_v1

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def consent_version(transactional_db: Any) -> ConsentVersion:
    return publish_consent_v1()


def _phone(browser: Browser, live_server: Any, email: str) -> Page:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    return page


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"


def test_the_browser_tests_run_axe_4_11_or_newer() -> None:
    match = re.match(r"/\*! axe v(\d+)\.(\d+)\.(\d+)", _axe.axe_script)
    assert match, "the axe script has no version header"
    assert tuple(int(n) for n in match.groups()) >= (4, 11, 0), match.group(0)


def test_the_widgets_buttons_are_large_enough_to_tap(browser: Browser, live_server: Any, tmp_path: Path) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    page = _phone(browser, live_server, patient.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/files/")
    widget = page.get_by_test_id("upload-widget")
    photo = tmp_path / "mole.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"0" * 2000)
    widget.locator("input.uppy-Dashboard-input[type=file]:not([webkitdirectory]):not([capture])").first.set_input_files(
        photo
    )
    expect(widget.get_by_role("button", name="Remove file")).to_be_visible()
    buttons = [b for b in widget.get_by_role("button").all() if b.is_visible()]
    assert len(buttons) >= 3
    for button in buttons:
        box = button.bounding_box()
        assert box, button
        name = button.get_attribute("aria-label") or button.inner_text()
        assert box["width"] >= 24 and box["height"] >= 24, f"{name!r} is {box['width']:.0f} × {box['height']:.0f} px"
    _fits(page)
    assert_accessible(page)  # a file waiting: the Send button in the site's colours


def test_a_sha256_is_a_fingerprint_that_opens_to_the_full_value(browser: Browser, live_server: Any) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient, status=Status.SUBMITTED, submitted_at=timezone.now())
    upload = accepted_upload(case, name="IMG_20240110_093512_left_shoulder.jpg")
    page = _phone(browser, live_server, patient.email)

    for url in (f"/cases/{case.pk}/files/", f"/cases/{case.pk}/submitted/"):
        page.goto(live_server.url + url)
        fingerprint = page.get_by_text(re.compile(rf"^SHA-256 {upload.sha256[:8]}…{upload.sha256[-8:]}")).first
        expect(fingerprint).to_be_visible()
        box = fingerprint.bounding_box()
        assert box and box["height"] <= 56, f"the fingerprint is {box and box['height']:.0f} px tall on {url}"
        fingerprint.click()
        full = page.locator("[data-sha256]").first
        expect(full).to_be_visible()
        assert re.sub(r"\s", "", full.inner_text()) == upload.sha256
        full_box = full.bounding_box()
        assert full_box and full_box["height"] <= 110, (
            f"the full value is {full_box and full_box['height']:.0f} px tall"
        )
        _fits(page)
        assert_accessible(page)


def test_the_consent_reads_as_part_of_the_page_with_its_checkbox_beside_the_label(
    browser: Browser, live_server: Any
) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    page = _phone(browser, live_server, patient.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/intake/consent/")
    text = page.get_by_test_id("consent-text")
    expect(text).to_contain_text("What this service is")
    scroll = text.evaluate("e => [e.scrollHeight, e.clientHeight, getComputedStyle(e).overflowY]")
    assert scroll[0] <= scroll[1] + 1 and scroll[2] == "visible", f"the consent scrolls inside the page: {scroll}"
    checkbox = page.get_by_role("checkbox", name="I have read this and I agree")
    label = page.locator("label", has_text="I have read this and I agree")
    box, label_box = checkbox.bounding_box(), label.bounding_box()
    assert box and label_box
    assert box["width"] >= 24 and box["height"] >= 24, box
    assert box["x"] + box["width"] <= label_box["x"], "the checkbox is not beside its label"
    assert box["y"] < label_box["y"] + label_box["height"] and label_box["y"] < box["y"] + box["height"], (
        "the checkbox and its label are not on the same line"
    )
    _fits(page)
    assert_accessible(page)
