"""An admin signs in with a code, deactivates a specialist, reads a case's metadata and uses
break-glass; every console page passes axe in English and in Spanish."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from cases.models import BreakGlass, Status
from tests.browser.helpers import _sign_in_with_code, assert_accessible
from tests.factories import AdminFactory, CaseFactory, SpecialistFactory, publish_consent_v1

pytestmark = pytest.mark.browser

REASON = "The patient's GP phoned about a suspected sepsis and needs the report."


def _console_pages(case: Any, specialist: User) -> list[str]:
    return [
        "/console/",
        "/console/users/",
        f"/console/users/{specialist.pk}/",
        f"/console/users/{specialist.pk}/specialist/",
        "/console/turnaround/",
        "/console/consent/",
        "/console/consent/1/",
        "/console/consent/new/",
        "/console/cases/",
        f"/console/cases/{case.pk}/",
    ]


def test_an_admin_deactivates_a_specialist_and_breaks_the_glass(
    page: Page, live_server: Any, transactional_db: Any
) -> None:
    publish_consent_v1()
    admin = AdminFactory()
    AdminFactory()  # someone to notify
    specialist = SpecialistFactory(full_name="Dr Pablo Ruiz")
    case = CaseFactory(
        status=Status.IN_REVIEW, specialist=specialist, submitted_at=timezone.now(), due_at=timezone.now()
    )

    _sign_in_with_code(page, live_server, admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Users", exact=True).click()
    page.get_by_label("Role").select_option(label="Specialist")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=specialist.email).click()
    expect(page.get_by_test_id("user")).to_contain_text("Dr Pablo Ruiz")
    page.get_by_role("link", name="Deactivate this account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deactivate this account?")
    assert_accessible(page)
    page.get_by_role("button", name="Deactivate the account").click()
    expect(page.get_by_role("status")).to_contain_text("The account is deactivated")
    expect(page.get_by_test_id("user")).to_contain_text("Deactivated")
    assert not User.objects.get(pk=specialist.pk).is_active

    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Cases", exact=True).click()
    page.get_by_label("Reference").fill(case.reference)
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=case.reference).click()
    expect(page.get_by_test_id("case-metadata")).to_contain_text("In review")

    page.get_by_label("Why do you need to read this case's clinical content?").fill("urgent")
    page.get_by_role("button", name="Open the clinical content").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Explain the reason in at least 20 characters.")
    expect(summary).to_contain_text("Confirm that you understand this access is recorded.")
    assert_accessible(page)

    page.get_by_label("Why do you need to read this case's clinical content?").fill(REASON)
    page.get_by_label("I understand that this access is recorded").check()
    page.get_by_role("button", name="Open the clinical content").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {case.reference}")
    expect(page.get_by_test_id("break-glass-banner")).to_contain_text("Emergency access until")
    expect(page.get_by_test_id("break-glass-banner")).to_contain_text("everything you open is recorded")
    assert_accessible(page)
    assert BreakGlass.objects.filter(case=case, admin=admin).exists()

    for path in _console_pages(case, specialist):
        page.goto(live_server.url + path)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert_accessible(page)

    page.get_by_role("button", name="Español").click()
    for path in _console_pages(case, specialist):
        page.goto(live_server.url + path)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        assert_accessible(page)
