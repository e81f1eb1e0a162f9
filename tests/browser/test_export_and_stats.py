"""A patient downloads everything of theirs after confirming their password; an admin reads the
anonymised statistics. Both pages pass axe in English and in Spanish."""

from __future__ import annotations

import json
import zipfile
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.browser.helpers import assert_accessible
from tests.factories import (
    PASSWORD,
    AdminFactory,
    CaseFactory,
    PatientFactory,
    SpecialistFactory,
    accepted_upload,
    add_totp,
    totp_code,
)
from tests.reports.helpers import reported_case

pytestmark = pytest.mark.browser


def _sign_in(page: Page, live_server: Any, user: User) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None:
        expect(page.get_by_role("heading", level=1)).to_have_text("Enter your verification code")
        page.get_by_label("Code").fill(totp_code(device))
        page.get_by_role("button", name="Continue").click()


def _in_spanish(page: Page, user: User) -> None:
    user.language = "es"
    user.save(update_fields=["language"])
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "es")


def test_a_patient_downloads_everything_after_confirming_it_is_them(
    page: Page, live_server: Any, transactional_db: Any
) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient, reason="My own words")
    accepted_upload(case, name="rash.jpg")
    _sign_in(page, live_server, patient)

    page.goto(live_server.url + "/accounts/security/")
    page.get_by_role("main").get_by_role("link", name="Download your data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Download your data")
    assert_accessible(page)

    page.get_by_role("link", name="Download everything (ZIP)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    assert_accessible(page)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Confirm").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        answers = json.loads(archive.read("answers.json"))
        assert f"files/{case.reference}/rash.jpg" in archive.namelist()
    assert answers["cases"][0]["intake"]["reason"] == "My own words"

    page.goto(live_server.url + "/accounts/export/")
    _in_spanish(page, patient)
    assert_accessible(page)


def test_an_admin_reads_the_statistics(page: Page, live_server: Any, transactional_db: Any) -> None:
    specialist = SpecialistFactory()
    for day in range(1, 8):
        reported_case(specialist, specialty="cardiology", took_days=day, in_person="soon" if day < 3 else "no")
    admin = AdminFactory()
    add_totp(admin)
    _sign_in(page, live_server, admin)

    page.get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistics")
    row = page.get_by_role("row", name="Cardiology")
    expect(row).to_contain_text("fewer than 5")
    assert_accessible(page)
    page.get_by_label("Period", exact=True).select_option("365")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{live_server.url}/console/statistics/?period=365")
    _in_spanish(page, admin)
    assert_accessible(page)
