from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible

pytestmark = pytest.mark.browser


def _switch_to_spanish(page: Page, live_server: Any) -> None:
    page.goto(live_server.url)
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")


def test_a_visitor_switches_the_site_to_spanish(page: Page, live_server: Any) -> None:
    _switch_to_spanish(page, live_server)

    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Crear una cuenta")).to_be_visible()
    expect(main.get_by_role("link", name="Iniciar sesión")).to_be_visible()
    # The switcher now offers the way back.
    expect(page.get_by_role("button", name="English")).to_be_visible()


def test_the_spanish_register_and_sign_in_pages_are_accessible(page: Page, live_server: Any) -> None:
    _switch_to_spanish(page, live_server)

    page.get_by_role("main").get_by_role("link", name="Crear una cuenta").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_accessible(page)

    page.goto(live_server.url + "/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_accessible(page)


def test_a_registration_error_in_spanish_says_there_is_a_problem(page: Page, live_server: Any) -> None:
    _switch_to_spanish(page, live_server)

    page.goto(live_server.url + "/accounts/register/")
    # Whatever the button is called in Spanish, it is the only one in the main content.
    page.get_by_role("main").get_by_role("button").click()

    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("heading", name="Hay un problema")).to_be_visible()
    expect(summary).to_be_focused()
