"""From the queue to a verified PDF, in Chromium: a specialist signs in with TOTP, claims a case,
asks the patient for more, the patient answers, the specialist writes and signs the report
(step-up), and the patient reads it, downloads the PDF (step-up) and checks it on the public
verification page. In English and in Spanish; axe-clean on every page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone, translation
from playwright.sync_api import BrowserContext, Page, expect

from cases.models import Case, Question, Status
from reports.models import SignedDocument
from tests.browser.helpers import assert_accessible
from tests.cases.helpers import accept_consent
from tests.factories import (
    PASSWORD,
    CaseFactory,
    PatientFactory,
    SpecialistFactory,
    add_totp,
    next_totp_code,
    publish_consent_v1,
    totp_code,
)
from tests.reports.helpers import COMPLETE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _translator(language: str) -> Callable[[str], str]:
    def t(text: str) -> str:
        with translation.override(language):
            return translation.gettext(text)

    return t


def _sign_in(page: Page, url: str, email: str) -> None:
    """The sign-in page is in the browser's language (English); the user's own language applies after."""
    page.goto(url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_case_goes_from_the_queue_to_a_verified_pdf(
    page: Page, new_context: Callable[..., BrowserContext], live_server: Any, tmp_path: Path, language: str
) -> None:
    t = _translator(language)
    publish_consent_v1()
    patient = PatientFactory(language=language)
    case = CaseFactory(
        patient=patient,
        status=Status.SUBMITTED,
        submitted_at=timezone.now(),
        due_at=timezone.now() + timezone.timedelta(hours=30),
    )
    Question.objects.create(case=case, position=0, text="Does the mole need to be removed?")
    accept_consent(case)
    specialist = SpecialistFactory(full_name="Dr Ana Ruiz", language=language)
    device = add_totp(specialist)

    # The specialist signs in with a TOTP code and claims the case from the queue.
    _sign_in(page, live_server.url, specialist.email)
    page.get_by_label(t("Code")).fill(totp_code(device))
    page.get_by_role("button", name=t("Continue")).click()
    page.get_by_role("link", name=t("Open the case queue")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Case queue"))
    expect(page.get_by_test_id("queue")).to_contain_text(case.reference)
    assert_accessible(page)
    page.get_by_role("button", name=f"{t('Claim')} {case.reference}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.reference)
    assert_accessible(page)

    # ... and asks the patient for more information.
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_label(t("Message")).fill("Please send a photo with a ruler next to the mole.")
    page.get_by_label(t("This is a request for information (the case waits for the patient's answer)")).check()
    page.get_by_role("button", name=t("Send message")).click()
    case.refresh_from_db()
    assert case.status == Status.AWAITING_PATIENT

    # The patient answers on their own computer.
    patient_page = new_context().new_page()
    _sign_in(patient_page, live_server.url, patient.email)
    patient_page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(patient_page.get_by_role("main")).to_contain_text(
        t("The specialist needs more information from you. Answer in the messages below.")
    )
    patient_page.get_by_label(t("Message")).fill("It is 6 mm; photo added.")
    patient_page.get_by_role("button", name=t("Send message")).click()
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW

    # The specialist writes the report, previews it and signs after a fresh code.
    page.goto(f"{live_server.url}/specialist/cases/{case.pk}/")
    page.get_by_role("link", name=t("Write the report")).click()
    assert_accessible(page)
    for name in (
        "summary",
        "findings",
        "certainty_reason",
        "recommendations",
        "alternatives",
        "suggested_tests",
        "in_person_reason",
        "limitations",
    ):
        page.locator(f"#id_{name}").fill(COMPLETE[name])
    page.locator("#id_diagnosis_agreement input[value=confirmed]").check()
    page.locator("#id_treatment_agreement input[value=modified]").check()
    page.locator("#id_certainty input[value=moderate]").check()
    page.locator("#id_in_person input[value=soon]").check()
    page.locator("textarea[name^=answer_]").fill("No: it can be watched with monthly photos.")
    page.get_by_role("button", name=t("Save and preview")).click()
    expect(page.get_by_role("main")).to_contain_text(COMPLETE["summary"])
    assert_accessible(page)
    page.get_by_role("link", name=t("Sign the report")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Confirm it is you"))
    page.get_by_label(t("Code")).fill(next_totp_code(device))
    page.get_by_role("button", name=t("Confirm")).click()
    assert_accessible(page)
    page.get_by_label(
        t(
            "I have reviewed this report and sign it. I understand it cannot be changed afterwards, "
            "only added to by a signed addendum."
        )
    ).check()
    page.get_by_role("button", name=t("Sign the report")).click()
    expect(page.get_by_role("status")).to_contain_text(
        t("The report is signed. The patient has been told it is ready.")
    )
    document = SignedDocument.objects.get(report__case=case)
    assert Case.objects.get(pk=case.pk).status == Status.REPORT_READY

    # The patient reads the report, downloads the PDF after confirming it is them, and checks it.
    patient_page.goto(f"{live_server.url}/cases/{case.pk}/")
    main = patient_page.get_by_role("main")
    expect(main).to_contain_text(COMPLETE["summary"])
    expect(main).to_contain_text("No: it can be watched with monthly photos.")
    assert_accessible(patient_page)
    patient_page.get_by_role("link", name=t("Download the PDF")).first.click()
    expect(patient_page.get_by_role("heading", level=1)).to_have_text(t("Confirm it is you"))
    # A wrong password first: its error must not be left showing once the person is through.
    patient_page.get_by_label(t("Your password")).fill("not my password")
    patient_page.get_by_role("button", name=t("Confirm")).click()
    expect(patient_page.get_by_role("alert").first).to_be_visible()
    patient_page.get_by_label(t("Your password")).fill(PASSWORD)
    patient_page.get_by_role("button", name=t("Confirm")).click()
    # Back on the case (not left on the step-up page), told they may download now.
    expect(patient_page.get_by_role("heading", level=1)).to_contain_text(case.reference)
    expect(patient_page.get_by_role("status").first).to_have_text(
        t("You confirmed it is you. You can download the report now.")
    )
    with patient_page.expect_download() as download:
        patient_page.get_by_role("link", name=t("Download the PDF")).first.click()
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    patient_page.goto(f"{live_server.url}/verify/")
    assert_accessible(patient_page)
    patient_page.get_by_label(t("Report PDF")).set_input_files(pdf)
    patient_page.get_by_role("button", name=t("Check the file")).click()
    expect(patient_page.get_by_role("heading", level=1)).to_have_text(t("Authentic and unaltered"))
    expect(patient_page.get_by_role("main")).to_contain_text("Dr Ana Ruiz")
    expect(patient_page.get_by_role("main")).not_to_contain_text(case.reference)
    assert_accessible(patient_page)

    # The code printed on the PDF says the same; an altered copy does not pass.
    patient_page.goto(f"{live_server.url}/verify/")
    patient_page.get_by_label(t("Verification code")).fill(document.verification_code)
    patient_page.get_by_role("button", name=t("Check the code")).click()
    expect(patient_page.locator("[data-verify-status]")).to_have_attribute("data-verify-status", "valid")
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    patient_page.goto(f"{live_server.url}/verify/")
    patient_page.get_by_label(t("Report PDF")).set_input_files(
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": bytes(data)}]
    )
    patient_page.get_by_role("button", name=t("Check the file")).click()
    expect(patient_page.get_by_role("heading", level=1)).to_have_text(t("We cannot confirm this report"))
