"""The review workspace in Chromium: a specialist reads the case, opens a photo and zooms, puts
two photos side by side, steps through a DICOM series, sees the measurement chart and asks the
patient for information; every page passes axe and breaks no CSP rule."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from cases.models import Case, Measurement, Question, Status
from tests.browser.helpers import assert_accessible
from tests.factories import PASSWORD, CaseFactory, PatientFactory, SpecialistFactory, add_totp, totp_code
from tests.reports.samples import dicom_sample, photo_sample, sanitized_upload

pytestmark = pytest.mark.browser

SERIES = "1.2.826.0.1.3680043.8.498.3"


@pytest.fixture
def review(transactional_db: Any) -> tuple[Case, Any]:
    specialist = SpecialistFactory()
    device = add_totp(specialist)
    now = timezone.now()
    case = CaseFactory(
        patient=PatientFactory(),
        specialist=specialist,
        status=Status.IN_REVIEW,
        submitted_at=now,
        due_at=now + timedelta(hours=72),
    )
    Question.objects.create(case=case, text="Should the mole be removed?")
    sanitized_upload(case, photo_sample(640, 480, (200, 120, 90)), "mole-january.jpg")
    sanitized_upload(case, photo_sample(480, 640, (150, 90, 70)), "mole-march.jpg")
    sanitized_upload(case, dicom_sample("CT_small.dcm", instance=1, series_uid=SERIES), "ct.dcm")
    sanitized_upload(case, dicom_sample("rtdose.dcm", instance=2, series_uid=SERIES), "dose.dcm")
    for day, mm in ((0, "6"), (30, "6.5"), (60, "7.5")):
        Measurement.objects.create(
            case=case,
            site="Mole, left shoulder",
            value_mm=Decimal(mm),
            method="ruler",
            measured_on=date(2024, 1, 10) + timedelta(days=day),
        )
    return case, device


def _sign_in(page: Page, url: str, case: Case, device: Any) -> None:
    page.goto(url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(case.specialist.email)  # type: ignore[union-attr]
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Specialist home")


def _loaded(image: Locator) -> int:
    """The image's natural width once it has loaded (0 if it failed)."""
    expect(image).to_be_visible()
    image.evaluate("img => img.complete || new Promise(r => { img.onload = img.onerror = r; })")
    return int(image.evaluate("img => img.naturalWidth"))


def test_a_specialist_reviews_photos_imaging_and_measurements(
    page: Page, live_server: Any, review: tuple[Case, Any]
) -> None:
    case, device = review
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, live_server.url, case, device)

    page.goto(f"{live_server.url}/specialist/cases/{case.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.reference)
    expect(page.get_by_test_id("questions")).to_contain_text("Should the mole be removed?")
    expect(page.get_by_role("navigation", name="On this page")).to_be_visible()
    chart = page.get_by_role("img", name="Chart of the size of Mole, left shoulder over time")
    assert _loaded(chart) > 0
    expect(page.get_by_role("table", name="Measurements of Mole, left shoulder")).to_contain_text("7.5 mm")
    assert all(_loaded(thumb) > 0 for thumb in page.get_by_test_id("photos").locator("img").all())
    assert_accessible(page)

    # The photo viewer: the size links resize in place, the buttons step the zoom.
    page.get_by_role("link", name="mole-january.jpg").click()
    photo = page.get_by_role("img", name="Photo mole-january.jpg")
    assert _loaded(photo) == 640
    assert_accessible(page)
    page.get_by_role("link", name="200%").click()
    expect(photo).to_have_attribute("width", "1280")
    expect(page).to_have_url(re.compile(r"\?zoom=200$"))
    expect(page.get_by_role("link", name="200%")).to_have_attribute("aria-current", "true")
    page.get_by_role("button", name="Zoom in").click()
    expect(photo).to_have_attribute("width", "1920")
    page.get_by_role("button", name="Zoom out").click()
    page.get_by_role("button", name="Zoom out").click()
    expect(photo).to_have_attribute("width", "960")
    page.get_by_role("link", name="Fit to the screen").click()
    expect(photo).to_have_class("zoom-fit")
    expect(page).to_have_url(re.compile(r"\?zoom=fit$"))

    # Side by side.
    page.get_by_role("link", name="Compare with another photo").click()
    expect(page.get_by_label("First photo")).to_have_value(
        page.get_by_label("First photo").locator("option", has_text="mole-january.jpg").get_attribute("value") or ""
    )
    expect(page.get_by_role("alert")).to_have_count(0)  # no error before the form is sent
    page.get_by_label("Second photo").select_option(index=1)
    page.get_by_role("button", name="Compare").click()
    pair = page.get_by_test_id("compare").get_by_role("img")
    expect(pair).to_have_count(2)
    assert [_loaded(img) for img in pair.all()] == [640, 480]
    boxes = [img.bounding_box() for img in pair.all()]
    assert boxes[0] and boxes[1] and abs(boxes[0]["width"] - boxes[1]["width"]) < 1
    expect(page.get_by_test_id("compare")).to_contain_text("Sent")
    assert_accessible(page)

    # The DICOM series: one CT image and a 15-frame dose grid, stepped one image at a time.
    page.get_by_role("link", name="Back to the case").click()
    page.get_by_role("link", name="View the images of series 1").click()
    expect(page.get_by_test_id("position")).to_have_text("Image 1 of 16")
    assert _loaded(page.get_by_role("img", name="Image 1 of 16")) == 128
    expect(page.get_by_role("link", name="Previous image")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="Next image").click()
    expect(page.get_by_test_id("position")).to_have_text("Image 2 of 16")
    assert _loaded(page.get_by_role("img", name="Image 2 of 16")) == 10
    page.get_by_label("Go to image number").fill("16")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_test_id("position")).to_have_text("Image 16 of 16")
    expect(page.get_by_role("link", name="Next image")).to_have_count(0)
    page.get_by_role("link", name="Previous image").click()
    expect(page.get_by_test_id("position")).to_have_text("Image 15 of 16")

    # A request for information puts the case on hold.
    page.get_by_role("link", name="Back to the case").click()
    page.get_by_label("What do you need from the patient?").fill("Please send a photo in daylight.")
    page.get_by_role("button", name="Send request and wait for the patient").click()
    expect(page.get_by_role("status")).to_contain_text("Request sent")
    expect(page.get_by_test_id("case-summary")).to_contain_text("Waiting for the patient's answer")
    expect(page.get_by_test_id("thread")).to_contain_text("Please send a photo in daylight.")
    assert_accessible(page)
    case.refresh_from_db()
    assert case.status == Status.AWAITING_PATIENT

    assert errors == [], errors


def test_the_viewer_sizes_work_without_javascript(browser: Any, live_server: Any, review: tuple[Case, Any]) -> None:
    case, device = review
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    _sign_in(page, live_server.url, case, device)
    page.goto(f"{live_server.url}/specialist/cases/{case.pk}/")
    page.get_by_role("link", name="mole-march.jpg").click()
    page.get_by_role("link", name="50%").click()
    expect(page).to_have_url(re.compile(r"\?zoom=50$"))
    expect(page.get_by_role("img", name="Photo mole-march.jpg")).to_have_attribute("width", "240")
    expect(page.get_by_role("button", name="Zoom in")).to_have_count(0)
    context.close()
