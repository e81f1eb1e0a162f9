"""An admin answers "who saw this patient's data": searches the trail by case reference, exports
it as CSV after a fresh factor, opens the access review and signs off the month. The patient
sees the same reads on their case's access log. Every page is checked with axe, English and Spanish."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from console.models import AuditReview
from tests.browser.helpers import _sign_in_with_code, assert_accessible
from tests.console.review_helpers import break_glass, read, reviewed_case, staff
from tests.factories import PASSWORD, AdminFactory, next_totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHECKS = [
    "Flagged reads reviewed (many cases read quickly, reads outside assignment)",
    "Break-glass uses and their reasons reviewed",
    "Denials reviewed",
    "Audit chain verified",
    "Exports of the audit trail reviewed",
]


def _to_spanish(page: Page) -> None:
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")


def test_an_admin_reviews_who_saw_a_case(page: Page, live_server: Any, tmp_path: Any) -> None:
    case = reviewed_case()
    admin = staff(AdminFactory, full_name="Ada Admin")
    read(case, case.specialist)
    break_glass(case, admin)
    other = reviewed_case()
    read(other, other.specialist)

    _sign_in_with_code(page, live_server, admin)
    page.goto(live_server.url + "/console/")
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    assert_accessible(page)

    page.get_by_label("Case reference").fill("SO-0000-0000")
    page.get_by_role("button", name="Search").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("No case has this reference.")
    assert_accessible(page)

    page.get_by_label("Case reference").fill(case.reference.lower())
    page.get_by_role("button", name="Search").click()
    events = page.get_by_test_id("audit-events")
    expect(events.get_by_role("row")).to_have_count(3)  # the header, the break-glass and the read
    expect(events).to_contain_text("Ada Admin (admin)")
    expect(events).to_contain_text("Emergency access to a case (break-glass)")
    expect(events).to_contain_text("Dr Ana Ruiz (specialist)")
    expect(events).not_to_contain_text(other.reference)
    assert_accessible(page)

    page.get_by_role("link", name="Export CSV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    page.get_by_label("Code").fill(next_totp_code(TOTPDevice.objects.get(user=admin)))
    with page.expect_download() as download:
        page.get_by_role("button", name="Confirm").click()
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert {r["event_type"] for r in rows} == {"case.read", "case.break_glass"}
    assert {r["case_reference"] for r in rows} == {case.reference}

    page.goto(live_server.url + "/console/audit/")
    page.get_by_role("link", name="Access review").click()  # the last full month
    expect(page.get_by_role("heading", level=1)).to_contain_text("Access review")
    page.get_by_role("textbox", name="Month").fill(f"{timezone.now():%Y-%m}")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("flag-outside")).to_contain_text(f"Ada Admin read case {case.reference} once")
    expect(page.get_by_test_id("flag-outside")).to_contain_text("(break-glass)")
    assert_accessible(page)
    for label in CHECKS:
        page.get_by_label(label).check()
    page.get_by_label("Note (optional)").fill("Break-glass explained by the on-call admin.")
    page.get_by_role("button", name="Sign off this month").click()
    expect(page.get_by_role("status")).to_contain_text("is signed off")
    expect(page.get_by_test_id("signed")).to_contain_text("Signed off by Ada Admin")
    assert AuditReview.objects.get().signed_by == admin
    assert_accessible(page)

    _to_spanish(page)
    assert_accessible(page)
    page.goto(live_server.url + f"/console/audit/?case={case.reference}")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_accessible(page)


def test_a_patient_sees_who_opened_their_case(page: Page, live_server: Any) -> None:
    case = reviewed_case()
    read(case, case.specialist)
    break_glass(case, staff(AdminFactory, full_name="Ada Admin"))

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(case.patient.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_role("link", name="Who has seen this case").click()
    log = page.get_by_test_id("access-log")
    expect(log.get_by_role("row")).to_have_count(3)
    expect(log.get_by_role("row").nth(1)).to_contain_text("Administrator: Ada Admin")
    expect(log.get_by_role("row").nth(1)).to_contain_text("Emergency access by an administrator")
    expect(log.get_by_role("row").nth(2)).to_contain_text("Specialist: Dr Ana Ruiz")
    expect(log.get_by_role("row").nth(2)).to_contain_text("Opened your case")
    assert_accessible(page)

    _to_spanish(page)
    expect(page.get_by_test_id("access-log").get_by_role("row")).to_have_count(3)
    assert_accessible(page)
