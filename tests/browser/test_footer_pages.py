"""The footer's pages on a phone, in English and Spanish (issue 15, item 17): reached by their
links from any page, readable at 390 px without sideways scrolling, and clean for axe."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from core.models import ClinicDetails
from tests.browser.helpers import assert_accessible

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
LINKS = {
    "en": {
        "Privacy notice": "Privacy notice",
        "Accessibility": "Accessibility statement",
        "Cookies": "Cookies",
        "Contact us": "Contact us",
    },
    "es": {
        "Aviso de privacidad": "Aviso de privacidad",
        "Accesibilidad": "Declaración de accesibilidad",
        "Cookies": "Cookies",
        "Contacto": "Contacto",
    },
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_footer_pages_open_from_the_footer_and_fit_a_phone(
    browser: Browser, live_server: Any, transactional_db: Any, language: str
) -> None:
    ClinicDetails.objects.create(
        name="Demo Clinic", email="help@example.org", phone="+34 900 000 000", dpo_email="dpo@example.org"
    )
    context = browser.new_context(viewport=PHONE, locale=language)
    page = context.new_page()
    for link, heading in LINKS[language].items():
        page.goto(live_server.url + "/")
        footer = page.get_by_role("contentinfo")
        footer.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], link
        assert_accessible(page)
    expect(page.get_by_role("link", name="+34 900 000 000")).to_have_attribute("href", "tel:+34900000000")
    context.close()
