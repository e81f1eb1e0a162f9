"""Issue 15 item 12: the country a patient lives in is a search box (GOV.UK's accessible autocomplete
over the <select>): a few letters, with or without accents, find the country in the patient's
language; a screen reader hears the matches in that language; without JavaScript it is the plain
drop-down, and a country nobody covers is refused either way (cases/coverage.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils.translation import gettext, override
from playwright.sync_api import Browser, Page, expect

from cases.models import Case
from tests.browser.helpers import assert_accessible
from tests.factories import PASSWORD, CaseFactory, PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _open(browser: Browser, live_server: Any, case: Case, **context: Any) -> Page:
    page = browser.new_context(locale="en-GB", **context).new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(case.patient.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.goto(f"{live_server.url}/cases/{case.pk}/intake/country/")
    return page


def _t(text: str, language: str) -> str:
    with override(language):
        return gettext(text)


def test_a_few_letters_without_accents_find_the_country_in_spanish_on_a_phone(
    browser: Browser, live_server: Any, every_specialty_in_spain: Any
) -> None:
    case = CaseFactory(patient=PatientFactory(language="es"))
    page = _open(browser, live_server, case, viewport=PHONE, is_mobile=True, has_touch=True)
    box = page.get_by_role("combobox", name=_t("In which country do you live?", "es"))
    expect(box).to_be_visible()
    expect(page.locator("select[name=country]")).to_be_hidden()  # still in the form, sent with it
    assert_accessible(page)

    box.fill("espana")  # typed on a phone without the ñ
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options.first).to_have_text("España")
    expect(page.locator(".autocomplete__wrapper [role=status]").first).to_contain_text(
        re.compile(r"^1 país coincide\.|^\d+ países coinciden\.")
    )
    box_size = options.first.bounding_box()
    assert box_size and box_size["height"] >= 24, box_size
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"
    assert_accessible(page)  # the list open
    options.first.click()
    expect(box).to_have_value("España")
    page.get_by_role("main").get_by_role("button", name=_t("Continue", "es"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(_t("About you", "es"))
    case.refresh_from_db()
    assert case.country == "ES"

    # Back on the step, the box shows the country chosen.
    page.go_back()
    page.reload()
    expect(page.get_by_role("combobox", name=_t("In which country do you live?", "es"))).to_have_value("España")


def test_a_country_nobody_covers_or_a_name_that_is_not_a_country_is_refused_with_the_reason(
    browser: Browser, live_server: Any, every_specialty_in_spain: Any
) -> None:
    case = CaseFactory()  # in Spain so far: a refused answer leaves it so
    page = _open(browser, live_server, case)
    expect(page.get_by_role("combobox", name="In which country do you live?")).to_have_value("Spain")
    box = page.get_by_role("combobox", name="In which country do you live?")
    box.fill("xyzzy")
    expect(page.get_by_role("listbox")).to_contain_text("No country matches what you typed.")
    page.get_by_role("main").get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator("[data-error-summary]")).to_contain_text("Choose the country where you live.")
    assert Case.objects.get(pk=case.pk).country == "ES"
    assert_accessible(page)  # the error, said with the search box

    box = page.get_by_role("combobox", name="In which country do you live?")
    box.fill("mexi")
    page.get_by_role("option", name="Mexico").click()
    page.get_by_role("main").get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator("[data-error-summary]")).to_contain_text(
        "We have no specialist in dermatology licensed in Mexico yet"
    )
    assert Case.objects.get(pk=case.pk).country == "ES"


def test_without_javascript_the_country_is_a_plain_drop_down(
    browser: Browser, live_server: Any, every_specialty_in_spain: Any
) -> None:
    case = CaseFactory(patient=PatientFactory(language="es"))
    page = _open(browser, live_server, case, java_script_enabled=False)
    select = page.get_by_label(_t("In which country do you live?", "es"))
    expect(page.locator("select[name=country]")).to_be_visible()
    expect(page.locator("input[role=combobox]")).to_have_count(0)
    expect(select.locator("option").first).to_have_text(_t("Choose a country", "es"))
    select.select_option("ES")
    page.get_by_role("main").get_by_role("button", name=_t("Continue", "es"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(_t("About you", "es"))
    assert Case.objects.get(pk=case.pk).country == "ES"
