"""A patient asks for their data to be erased, keeps the account, gets the certificate and checks
it on the public page; the admin pages of retention and deletion, in English and Spanish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from cases.models import Case, Status
from lifecycle.models import DeletionRequest
from lifecycle.retention import purge_expired
from tests.browser.helpers import assert_accessible
from tests.factories import PASSWORD, AdminFactory, PatientFactory, add_totp, totp_code
from tests.lifecycle.helpers import full_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _translator(language: str) -> Callable[[str], str]:
    def t(text: str) -> str:
        with translation.override(language):
            return translation.gettext(text)

    return t


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_patient_erases_their_data_and_verifies_the_certificate(page: Page, live_server: Any, language: str) -> None:
    t = _translator(language)
    patient = PatientFactory(language=language)
    case = full_case(patient)

    _sign_in(page, live_server.url, patient.email)
    page.goto(live_server.url + "/accounts/security/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    panel = page.locator("[data-erasure-panel]")
    assert_accessible(page)
    panel.get_by_role("link", name=t("Delete my data")).click()

    # Patients without a second factor step up with their password.
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Confirm it is you"))
    page.get_by_label(t("Password")).fill(PASSWORD)
    page.get_by_role("button", name=t("Confirm")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Delete my data"))
    assert_accessible(page)

    main = page.get_by_role("main")
    main.get_by_role("button", name=t("Delete my data")).click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text(t("Choose whether to keep your account."))
    assert_accessible(page)

    page.locator("input[name=account][value=keep]").check()
    page.locator("input[name=confirm]").check()
    main.get_by_role("button", name=t("Delete my data")).click()
    expect(page.locator("[data-erasure-status=done]")).to_be_visible()
    assert_accessible(page)
    assert not Case.objects.filter(pk=case.pk).exists()
    assert DeletionRequest.objects.get().status == "done"

    with page.expect_download() as download:
        page.get_by_role("link", name=t("Download the signed certificate (JSON)")).click()
    path = download.value.path()

    page.get_by_role("link", name=t("Check a deletion certificate")).click()
    assert_accessible(page)
    page.set_input_files("#id_certificate", str(path))
    page.get_by_role("button", name=t("Check the certificate")).click()
    expect(page.locator("[data-verify-status=valid]")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(case.reference)
    assert_accessible(page)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_admin_retention_and_deletion_pages_are_accessible(
    page: Page, live_server: Any, language: str, settings: Any
) -> None:
    t = _translator(language)
    settings.DEFAULT_RETENTION_DAYS = 0
    full_case(PatientFactory())
    purge_expired()  # one retention certificate to list
    held = full_case(PatientFactory(), status=Status.IN_REVIEW)
    Case.objects.filter(pk=held.pk).update(legal_hold_reason="complaint", legal_hold_note="Ref 7")
    admin = AdminFactory(language=language)
    device = add_totp(admin)
    _sign_in(page, live_server.url, admin.email)
    page.get_by_label(t("Code")).fill(totp_code(device))
    page.get_by_role("button", name=t("Continue")).click()

    page.goto(live_server.url + "/console/retention/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_accessible(page)
    page.get_by_role("button", name=t("Save policy")).click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    assert_accessible(page)
    for url in (
        "/console/deletion-requests/",
        "/console/deletion-certificates/",
        f"/console/cases/{held.pk}/legal-hold/",
    ):
        page.goto(live_server.url + url)
        assert_accessible(page)
