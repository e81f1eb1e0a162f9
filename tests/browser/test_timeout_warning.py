"""The session ends without warning and typed text is lost (seen by a patient after 30 min, staff
after 15): now a dialog warns first, 'Stay signed in' keeps the session, and if nobody answers the
person signs in again to the same page with what they had typed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case
from tests.browser.helpers import assert_accessible
from tests.factories import PASSWORD, CaseFactory, PatientFactory

pytestmark = pytest.mark.browser

TYPED = "It itches at night and has grown since June."


@pytest.fixture
def short_sessions(settings: Any) -> None:
    settings.SESSION_IDLE_TIMEOUT = {"patient": 8, "staff": 8}


def _sign_in(page: Page, url: str, email: str) -> None:
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _on_reason_step(page: Page, live_server: Any) -> tuple[Any, Case]:
    patient = PatientFactory()
    case = CaseFactory(patient=patient, reason="")
    page.goto(f"{live_server.url}/accounts/login/?next=/cases/{case.pk}/intake/reason/")
    _sign_in(page, live_server.url, patient.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Why you want a second opinion")
    return patient, case


def test_stay_signed_in_keeps_the_session(page: Page, live_server: Any, short_sessions: None) -> None:
    _, case = _on_reason_step(page, live_server)
    page.get_by_label("Why do you want a second opinion?").fill(TYPED)
    dialog = page.get_by_role("dialog", name="You will be signed out soon")
    expect(dialog).to_be_visible(timeout=8000)
    assert_accessible(page)
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(5000)  # past the first deadline: still here, warned again
    expect(page.get_by_role("heading", level=1)).to_have_text("Why you want a second opinion")
    expect(dialog).to_be_visible(timeout=8000)
    dialog.get_by_role("button", name="Stay signed in").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")
    case.refresh_from_db()
    assert case.reason == TYPED


def test_without_an_answer_the_text_comes_back_after_signing_in(
    page: Page, live_server: Any, short_sessions: None
) -> None:
    patient, case = _on_reason_step(page, live_server)
    page.get_by_label("Why do you want a second opinion?").fill(TYPED)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in", timeout=15000)
    expect(page.get_by_role("status").first).to_contain_text("You were signed out to protect your data")
    _sign_in(page, live_server.url, patient.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Why you want a second opinion")
    expect(page.get_by_label("Why do you want a second opinion?")).to_have_value(TYPED)
    expect(page.get_by_role("status").filter(has_text="We kept what you had typed")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    case.refresh_from_db()
    assert case.reason == TYPED


def test_someone_else_signing_in_in_that_tab_gets_nothing(page: Page, live_server: Any, short_sessions: None) -> None:
    _on_reason_step(page, live_server)
    page.get_by_label("Why do you want a second opinion?").fill(TYPED)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in", timeout=15000)
    other = PatientFactory()
    _sign_in(page, live_server.url, other.email)
    assert TYPED not in page.content()
