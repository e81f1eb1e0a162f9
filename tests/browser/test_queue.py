"""A specialist signs in with a second factor, filters the queue and claims a case; an admin
gives a case nobody could claim (the patient was not sure of the specialty) to a specialist."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case, Status
from tests.browser.helpers import _sign_in_with_code, assert_accessible
from tests.factories import AdminFactory
from tests.reports.helpers import specialist_with, waiting_case

pytestmark = pytest.mark.browser


def test_a_specialist_filters_the_queue_and_claims_a_case(page: Page, live_server: Any, transactional_db: Any) -> None:
    specialist = specialist_with(specialties=["dermatology", "oncology"])
    waiting_case(due_in=timedelta(hours=-3), question="Is this mole dangerous?")
    onco = waiting_case(specialty="oncology", due_in=timedelta(hours=10), question="Do I need chemotherapy?")
    waiting_case(specialty="cardiology", question="Not for this specialist")

    _sign_in_with_code(page, live_server, specialist)
    expect(page.get_by_role("heading", level=1)).to_have_text("Specialist home")
    expect(page.get_by_role("main")).to_contain_text("2 cases are waiting in your queue.")
    page.get_by_role("link", name="Open the case queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Case queue")
    queue = page.get_by_test_id("queue")
    expect(queue.get_by_role("row")).to_have_count(3)  # the header and two cases
    expect(queue.get_by_role("row").nth(1)).to_contain_text("Overdue")
    expect(queue.get_by_role("row").nth(2)).to_contain_text("At risk")
    expect(queue).not_to_contain_text("Not for this specialist")
    assert_accessible(page)

    page.get_by_label("Specialty").select_option(label="Oncology")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"specialty=oncology"))
    expect(queue.get_by_role("row")).to_have_count(2)
    expect(queue).to_contain_text("Do I need chemotherapy?")
    expect(queue).to_contain_text("Oncology")
    assert_accessible(page)

    queue.get_by_role("button", name=f"Claim {onco.reference}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(onco.reference)
    expect(page.get_by_role("status")).to_contain_text(f"Case {onco.reference} is yours")
    onco.refresh_from_db()
    assert (onco.status, onco.specialist_id) == (Status.IN_REVIEW, specialist.pk)

    page.get_by_role("link", name="Home").click()
    expect(page.get_by_test_id("my-cases")).to_contain_text(onco.reference)


def test_an_admin_assigns_a_case_to_a_specialist(page: Page, live_server: Any, transactional_db: Any) -> None:
    admin = AdminFactory()
    lucia = specialist_with(specialties=["oncology"])
    case = waiting_case(specialty="not_sure", due_in=timedelta(hours=30))

    _sign_in_with_code(page, live_server, admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    page.get_by_role("link", name="Assign cases to specialists").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assign cases")
    expect(page.get_by_test_id("assign")).to_contain_text(case.reference)
    assert_accessible(page)

    page.get_by_label(f"Specialist for case {case.reference}").select_option(label=f"{lucia.full_name} (Oncology)")
    page.get_by_role("button", name=f"Assign {case.reference}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Case {case.reference} has been assigned.")
    expect(page.get_by_role("main")).to_contain_text("No cases are waiting for a specialist.")
    assert_accessible(page)
    assert Case.objects.get(pk=case.pk).specialist_id == lucia.pk


def test_on_a_phone_the_queue_table_scrolls_by_itself_not_the_page(
    page: Page, live_server: Any, transactional_db: Any
) -> None:
    specialist = specialist_with(specialties=["dermatology"])
    waiting_case(question="Should the mole on my left shoulder be removed or watched?")
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in_with_code(page, live_server, specialist)
    page.goto(live_server.url + "/specialist/queue/")
    expect(page.get_by_test_id("queue").get_by_role("row")).to_have_count(2)
    # The table is wider than a phone: its wrapper scrolls; the page itself must not.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
