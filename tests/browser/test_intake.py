"""A patient asks for a second opinion in Chromium: the intake wizard, the red-flag stop,
the Spanish pages and withdrawing a sent case."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation
from playwright.sync_api import Locator, Page, expect

from cases.models import Case, ConsentVersion, Status
from tests.browser.helpers import assert_accessible
from tests.factories import PASSWORD, CaseFactory, PatientFactory

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"SO-[2-9A-HJ-NP-TV-Z]{4}-[2-9A-HJ-NP-TV-Z]{4}")


@pytest.fixture(autouse=True)
def consent_version(transactional_db: Any) -> ConsentVersion:
    # The live server's tests flush every table afterwards, so the version the data migration
    # published may be gone: publish it again, with the migration's own texts.
    migration = importlib.import_module("cases.migrations.0002_consent_v1")
    version, _ = ConsentVersion.objects.get_or_create(
        version=1, defaults={"text_en": migration.TEXT_EN, "text_es": migration.TEXT_ES}
    )
    return version


def _sign_in(page: Page, live_server: Any, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _h1(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def _new_row(page: Page) -> Locator:
    """The empty row a formset page offers for a new item."""
    return page.get_by_role("group", name="Add a new one").first


def _continue(page: Page, name: str = "Continue") -> None:
    page.get_by_role("main").get_by_role("button", name=name, exact=True).click()


def _expect_error_summary(page: Page, heading: str = "There is a problem") -> Locator:
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("heading", name=heading)).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error:"))
    hrefs = [link.get_attribute("href") or "" for link in summary.get_by_role("link").all()]
    assert hrefs, "the error summary does not link to the field"
    missing = page.evaluate("hrefs => hrefs.filter(h => !document.getElementById(h.slice(1)))", hrefs)
    assert missing == [], f"error summary links to fields that are not on the page: {missing}"
    return summary


def _start_now(page: Page) -> None:
    expect(_h1(page)).to_have_text("Ask for a second opinion")
    expect(page.get_by_role("main")).to_contain_text("It helps to have at hand")
    assert_accessible(page)
    page.get_by_role("button", name="Start now").click()
    expect(_h1(page)).to_have_text("Urgent symptoms")


def _choose_country(page: Page, typed: str, country: str, label: str = "In which country do you live?") -> None:
    """The country is a search box (frontend/src/autocomplete.js): type, then pick from the list."""
    page.get_by_role("combobox", name=label).fill(typed)
    page.get_by_role("option", name=country, exact=True).click()


def _case_id(page: Page) -> str:
    match = re.search(r"/cases/([0-9a-f-]{36})/", page.url)
    assert match, page.url
    return match.group(1)


def test_a_patient_answers_every_step_checks_the_answers_and_sends_the_case(
    page: Page, live_server: Any, every_specialty_in_spain: Any
) -> None:
    patient = PatientFactory()
    _sign_in(page, live_server, patient.email)
    expect(_h1(page)).to_have_text("Your cases")
    assert_accessible(page)
    main = page.get_by_role("main")
    ask = main.get_by_role("link", name="Ask for a second opinion").or_(
        main.get_by_role("button", name="Ask for a second opinion")
    )
    ask.click()
    _start_now(page)  # the start page says what to have at hand before a case is created

    # Urgent symptoms, sent with nothing ticked.
    expect(page.get_by_text("Step 1 of 14")).to_be_visible()
    assert_accessible(page)
    _continue(page)
    summary = _expect_error_summary(page)
    expect(summary).to_contain_text("Select the symptoms you have now, or “None of these”.")
    expect(page.locator(".field-error")).to_contain_text("Select the symptoms you have now")
    assert_accessible(page)
    page.get_by_role("group", name="Do you have any of these right now?").get_by_label("None of these").check()
    _continue(page)

    expect(_h1(page)).to_have_text("Kind of specialist")
    expect(page.get_by_role("link", name="Back")).to_have_attribute("href", re.compile(r"/intake/urgent/$"))
    assert_accessible(page)
    page.get_by_role("group", name="Which kind of specialist do you want to review your case?").get_by_label(
        "Dermatology"
    ).check()
    _continue(page)

    expect(_h1(page)).to_have_text("Where you live")
    assert_accessible(page)
    _choose_country(page, "Spai", "Spain")
    _continue(page)

    # About you: kept with the account, so a patient who told us once finds the answers there.
    expect(_h1(page)).to_have_text("About you")
    assert_accessible(page)
    dob = page.get_by_role("group", name="Date of birth")
    expect(dob.get_by_label("Year")).to_have_value("1970")
    expect(page.get_by_role("group", name="Sex recorded at birth").get_by_label("Female")).to_be_checked()
    page.get_by_label("Gender identity (optional)").fill("Woman")
    _continue(page)

    expect(_h1(page)).to_have_text("Why you want a second opinion")
    assert_accessible(page)
    page.get_by_label("Why do you want a second opinion?").fill("I was told the mole is benign but it keeps growing.")
    page.get_by_label("What do you hope to get from it?").fill("To know whether it should be removed.")
    _continue(page)

    expect(_h1(page)).to_have_text("The first opinion")
    assert_accessible(page)
    page.get_by_label("What diagnosis were you given?").fill("Benign naevus")
    page.get_by_label("Who gave this opinion?").fill("Dermatology clinic")
    page.get_by_label("Month").fill("6")
    page.get_by_label("Year").fill("2024")
    _continue(page)

    expect(_h1(page)).to_have_text("Your questions for the specialist")
    assert_accessible(page)
    _new_row(page).get_by_label("Question").fill("Should the mole be removed?")
    page.get_by_role("button", name="Save and add another").click()
    expect(page.get_by_role("group", name="Item 1").get_by_label("Question")).to_have_value(
        "Should the mole be removed?"
    )
    assert_accessible(page)
    _new_row(page).get_by_label("Question").fill("Is a biopsy needed?")
    _continue(page)

    expect(_h1(page)).to_have_text("Your medical history")
    assert_accessible(page)
    page.get_by_label("Allergies").fill("Penicillin")
    _continue(page)

    expect(_h1(page)).to_have_text("Operations and procedures")
    assert_accessible(page)
    _continue(page)  # none: the empty row is left empty

    expect(_h1(page)).to_have_text("Medicines you take now")
    assert_accessible(page)
    row = _new_row(page)
    row.get_by_label("Medicine", exact=True).fill("Ibuprofen")
    row.get_by_label("Dose and how often").fill("400 mg when needed")
    row.get_by_label("Since when").fill("March 2024")
    _continue(page)

    expect(_h1(page)).to_have_text("What has happened so far")
    assert_accessible(page)
    row = _new_row(page)
    when = row.get_by_role("group", name="When")
    when.get_by_label("Month").fill("3")  # the day is forgotten: a partial date
    when.get_by_label("Year").fill("2024")
    row.get_by_label("What happened").fill("First noticed the mole changing shape")
    _continue(page)

    expect(_h1(page)).to_have_text("Measurements")
    assert_accessible(page)
    row = _new_row(page)
    row.get_by_label("Where, or which lesion").fill("Mole on left shoulder")
    row.get_by_label("Size").fill("1.5")
    row.get_by_role("group", name="Unit").get_by_label("cm", exact=True).check()
    row.get_by_label("How was it measured?").select_option(label="Ruler")
    measured = row.get_by_role("group", name="Date measured")
    measured.get_by_label("Day").fill("10")
    measured.get_by_label("Month").fill("2")
    measured.get_by_label("Year").fill("2025")
    _continue(page)

    expect(_h1(page)).to_have_text("Photos, reports and scans")
    assert_accessible(page)
    _continue(page)

    expect(_h1(page)).to_have_text("Consent")
    expect(page.get_by_test_id("consent-text")).to_contain_text("What this service is")
    assert_accessible(page)
    page.get_by_label("I have read this and I agree").check()
    _continue(page)

    # Check your answers.
    expect(_h1(page)).to_have_text("Check your answers before sending")
    main = page.get_by_role("main")
    expect(main).to_contain_text("I was told the mole is benign but it keeps growing.")
    expect(main).to_contain_text("Benign naevus")
    expect(main).to_contain_text("(06/2024)")
    expect(main.get_by_role("listitem").filter(has_text="Should the mole be removed?")).to_be_visible()
    expect(main.get_by_role("listitem").filter(has_text="Is a biopsy needed?")).to_be_visible()
    expect(main).to_contain_text("Ibuprofen, 400 mg when needed (since March 2024)")
    expect(main.get_by_role("listitem").filter(has_text="First noticed the mole changing shape")).to_contain_text(
        "03/2024"
    )
    expect(main.get_by_role("cell", name="1.5 cm")).to_be_visible()
    expect(main.get_by_role("cell", name="Mole on left shoulder")).to_be_visible()
    assert_accessible(page)

    # Change the reason: the page goes back to the check page.
    main.get_by_role("link", name="Change reason").click()
    expect(_h1(page)).to_have_text("Why you want a second opinion")
    reason = page.get_by_label("Why do you want a second opinion?")
    expect(reason).to_have_value("I was told the mole is benign but it keeps growing.")
    expect(page.get_by_role("link", name="Back")).to_have_attribute("href", re.compile(r"/check/$"))
    reason.fill("The mole keeps growing although I was told it is benign.")
    _continue(page)
    expect(_h1(page)).to_have_text("Check your answers before sending")
    expect(main).to_contain_text("The mole keeps growing although I was told it is benign.")
    expect(main).not_to_contain_text("I was told the mole is benign but it keeps growing.")

    mail.outbox.clear()
    page.get_by_role("button", name="Send my case").click()

    # Confirmation: reference, what happens next, receipt.
    expect(_h1(page)).to_have_text("Your case has been sent")
    reference = page.get_by_test_id("reference").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.get_by_role("heading", name="Your receipt")).to_be_visible()
    expect(page.get_by_role("main").locator("dl")).to_contain_text(reference)
    assert_accessible(page)
    receipts = [m for m in mail.outbox if patient.email in m.to]
    assert len(receipts) == 1, [m.subject for m in mail.outbox]
    assert reference in receipts[0].subject
    assert reference in receipts[0].body

    # The case page.
    page.get_by_role("link", name="Go to your case").click()
    expect(_h1(page)).to_have_text(f"Case {reference}")
    expect(page.locator(".summary-list").first).to_contain_text("Submitted")
    timeline = page.get_by_test_id("case-timeline")
    expect(timeline.get_by_role("listitem")).to_have_count(2)
    expect(timeline).to_contain_text("Case started")
    expect(timeline).to_contain_text("Submitted")
    assert_accessible(page)

    case = Case.objects.get(reference=reference)
    assert case.status == Status.SUBMITTED
    assert case.reason == "The mole keeps growing although I was told it is benign."


def test_a_patient_with_a_red_flag_is_told_to_get_emergency_help_and_cannot_send(page: Page, live_server: Any) -> None:
    patient = PatientFactory()
    _sign_in(page, live_server, patient.email)
    page.goto(live_server.url + "/cases/new/")
    _start_now(page)
    case_id = _case_id(page)

    page.get_by_role("group", name="Do you have any of these right now?").get_by_label(
        "Chest pain or pressure", exact=False
    ).check()
    _continue(page)

    alert = page.get_by_role("alert")
    expect(alert.get_by_role("heading", level=1)).to_have_text("Get emergency help now")
    expect(alert).to_contain_text("Call your local emergency number now")
    expect(page).to_have_title(re.compile(r"^Get emergency help now"))
    assert_accessible(page)

    page.goto(f"{live_server.url}/cases/{case_id}/check/")
    expect(_h1(page)).to_have_text("Check your answers before sending")
    problems = page.locator("[data-error-summary]")
    expect(problems).to_contain_text("You told us about symptoms that need emergency care now.")
    expect(page.get_by_role("button", name="Send my case")).to_have_count(0)
    assert_accessible(page)


def _es(text: str, missing: list[str]) -> str:
    """The Spanish for `text`, as the server will show it; untranslated strings are noted."""
    with translation.override("es"):
        spanish = translation.gettext(text)
    if spanish == text:
        missing.append(text)
    return spanish


def test_the_wizard_speaks_spanish_to_a_spanish_speaking_patient(
    page: Page, live_server: Any, every_specialty_in_spain: Any
) -> None:
    patient = PatientFactory(language="es")
    missing: list[str] = []
    es = lambda text: _es(text, missing)  # noqa: E731

    _sign_in(page, live_server, patient.email)  # the sign-in page follows the browser: English
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(_h1(page)).to_have_text(es("Your cases"))
    page.goto(live_server.url + "/cases/new/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(_h1(page)).to_have_text(es("Ask for a second opinion"))
    assert_accessible(page)
    page.get_by_role("button", name=es("Start now")).click()

    # Urgent symptoms, sent empty.
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(_h1(page)).to_have_text(es("Urgent symptoms"))
    assert_accessible(page)
    _continue(page, es("Continue"))
    summary = _expect_error_summary(page, heading="Hay un problema")
    expect(summary).to_contain_text(es("Select the symptoms you have now, or “None of these”."))
    assert_accessible(page)
    page.get_by_role("group", name=es("Do you have any of these right now?")).get_by_label(es("None of these")).check()
    _continue(page, es("Continue"))

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(_h1(page)).to_have_text(es("Kind of specialist"))
    assert_accessible(page)
    page.get_by_role("group", name=es("Which kind of specialist do you want to review your case?")).get_by_label(
        es("Dermatology")
    ).check()
    _continue(page, es("Continue"))

    expect(_h1(page)).to_have_text(es("Where you live"))
    assert_accessible(page)
    # Nobody gives dermatology in Mexico: said at once, with where it is given.
    _choose_country(page, "Méx", "México", es("In which country do you live?"))
    _continue(page, es("Continue"))
    summary = _expect_error_summary(page, heading="Hay un problema")
    expect(summary).to_contain_text("No tenemos ningún especialista en dermatología con licencia en México")
    expect(summary).to_contain_text("Dermatología está disponible para pacientes que viven en: España.")
    assert_accessible(page)
    _choose_country(page, "Espa", "España", es("In which country do you live?"))
    _continue(page, es("Continue"))

    expect(_h1(page)).to_have_text(es("About you"))
    assert_accessible(page)
    _continue(page, es("Continue"))

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(_h1(page)).to_have_text(es("Why you want a second opinion"))
    assert_accessible(page)
    page.get_by_label(es("Why do you want a second opinion?")).fill("El lunar sigue creciendo.")
    _continue(page, es("Continue"))

    expect(_h1(page)).to_have_text(es("The first opinion"))
    assert_accessible(page)
    case = Case.objects.get(patient=patient)
    assert case.red_flags_answered and case.specialty == "dermatology"
    assert case.reason == "El lunar sigue creciendo."

    assert not missing, f"these intake strings have no Spanish translation yet: {missing}"


def test_a_patient_withdraws_a_sent_case(page: Page, live_server: Any) -> None:
    patient = PatientFactory()
    now = timezone.now()
    case = CaseFactory(patient=patient, status=Status.SUBMITTED, submitted_at=now, due_at=now + timedelta(hours=72))
    _sign_in(page, live_server, patient.email)

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(_h1(page)).to_have_text(f"Case {case.reference}")
    expect(page.locator(".summary-list").first).to_contain_text("Submitted")
    page.get_by_role("link", name="Withdraw this case").click()

    expect(_h1(page)).to_have_text(f"Withdraw case {case.reference}?")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, withdraw my case").click()

    expect(_h1(page)).to_have_text(f"Case {case.reference}")
    expect(page.get_by_role("status")).to_contain_text(f"Your case {case.reference} has been withdrawn.")
    expect(page.locator(".summary-list").first).to_contain_text("Withdrawn")
    expect(page.get_by_test_id("case-timeline")).to_contain_text("Withdrawn")
    expect(page.get_by_role("link", name="Withdraw this case")).to_have_count(0)
    assert_accessible(page)
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
