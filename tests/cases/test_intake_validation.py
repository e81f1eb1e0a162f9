from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from cases.models import Case, Measurement, Question, TimelineEntry
from tests.cases.helpers import rows, step_url
from tests.factories import CaseFactory


@pytest.fixture
def case(patient_a: User) -> Case:
    return CaseFactory(patient=patient_a)


def assert_error_page(response: Any, *messages: str) -> str:
    """The page the patient sees after a mistake: 200, "Error:" in the title, a "There is a
    problem" summary whose links lead to fields on the page, and each message."""
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r"<title>Error:", page), re.search(r"<title>.*?</title>", page, re.S)
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary is not None
    assert "There is a problem" in summary.group()
    anchors = re.findall(r'href="#([^"]+)"', summary.group())
    for anchor in anchors:
        assert f'id="{anchor}"' in page, f"the summary links to #{anchor}, which is not on the page"
    text = html_lib.unescape(summary.group())
    for message in messages:
        assert message in text, f"{message!r} not in the summary"
        assert message in html_lib.unescape(page.replace(summary.group(), "")), f"{message!r} not beside the field"
    return page


def timeline_row(day: str, month: str, year: str, what: str = "First symptoms: a red patch") -> dict[str, Any]:
    return rows({"what": what, "symptoms": "It itched", "response": "", "when_0": day, "when_1": month, "when_2": year})


# -- dates ---------------------------------------------------------------------------------


def test_it_refuses_a_date_in_the_future(patient_client: Client, case: Case) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = patient_client.post(
        step_url(case.pk, "timeline"), timeline_row(str(tomorrow.day), str(tomorrow.month), str(tomorrow.year))
    )

    page = assert_error_page(response, "The date must be today or in the past.")
    assert 'href="#id_rows-0-when_0"' in page
    assert not TimelineEntry.objects.filter(case=case).exists()


def test_it_refuses_a_date_that_does_not_exist(patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "timeline"), timeline_row("31", "2", "2024"))

    assert_error_page(response, "That date does not exist. Check the day and the month.")
    assert not TimelineEntry.objects.filter(case=case).exists()


def test_it_asks_for_the_month_when_the_day_is_given(patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "timeline"), timeline_row("5", "", "2020"))
    assert_error_page(response, "Enter the month as well as the day.")


def test_it_asks_for_the_year(patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "timeline"), timeline_row("5", "3", ""))
    assert_error_page(response, "Enter the year.")


def test_it_refuses_a_month_that_does_not_exist(patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "timeline"), timeline_row("", "13", "2020"))
    assert_error_page(response, "That date does not exist. Check the day and the month.")


def test_it_accepts_a_year_alone_or_a_month_and_year(patient_client: Client, case: Case) -> None:
    data = rows(
        {"what": "Biopsy", "when_0": "", "when_1": "", "when_2": "2019"},
        {"what": "Surgery", "when_0": "", "when_1": "7", "when_2": "2021"},
    )
    response = patient_client.post(step_url(case.pk, "timeline"), data)

    assert response.status_code == 302
    assert [(e.what, e.year, e.month, e.day, e.display_date()) for e in case.timeline.all()] == [
        ("Biopsy", 2019, None, None, "2019"),
        ("Surgery", 2021, 7, None, "07/2021"),
    ]


def test_it_keeps_what_the_patient_typed_after_a_date_error(patient_client: Client, case: Case) -> None:
    response = patient_client.post(
        step_url(case.pk, "timeline"), timeline_row("31", "2", "2024", what="Dermatologist said eczema")
    )

    page = assert_error_page(response, "That date does not exist")
    assert "Dermatologist said eczema" in page and "It itched" in page
    for name, value in [("when_0", "31"), ("when_1", "2"), ("when_2", "2024")]:
        assert re.search(rf'name="rows-0-{name}"[^>]*value="{value}"|value="{value}"[^>]*name="rows-0-{name}"', page)


def test_it_asks_for_the_year_of_the_first_opinion_when_the_month_is_given(patient_client: Client, case: Case) -> None:
    response = patient_client.post(
        step_url(case.pk, "first-opinion"), {"first_diagnosis": "Psoriasis", "first_opinion_when_0": "4"}
    )
    page = assert_error_page(response, "Enter the year as well as the month.")
    assert "Psoriasis" in page


def _box(page: str, name: str) -> str:
    """The value a date box shows ("" when empty)."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert tag is not None, name
    value = re.search(r'value="([^"]*)"', tag.group())
    return value.group(1) if value else ""


def test_a_saved_first_opinion_date_comes_back_in_its_boxes(patient_client: Client, case: Case) -> None:
    url = step_url(case.pk, "first-opinion")
    posted = {"first_diagnosis": "Psoriasis", "first_opinion_when_0": "11", "first_opinion_when_1": "2026"}
    assert patient_client.post(url, posted).status_code == 302

    page = patient_client.get(url).content.decode()
    assert (_box(page, "first_opinion_when_0"), _box(page, "first_opinion_when_1")) == ("11", "2026")
    # Continue with the page as it was shown: no error about something the patient never typed.
    shown = {"first_diagnosis": "Psoriasis", "first_opinion_when_0": "11", "first_opinion_when_1": "2026"}
    assert patient_client.post(url, shown).status_code == 302


@pytest.mark.parametrize("step", ["timeline", "surgeries"])
def test_saved_row_dates_come_back_in_their_boxes(step: str, patient_client: Client, case: Case) -> None:
    url = step_url(case.pk, step)
    data = rows(
        {"what": "Biopsy", "symptoms": "", "response": "", "when_0": "", "when_1": "", "when_2": "2005"},
        {"what": "Surgery", "symptoms": "", "response": "", "when_0": "", "when_1": "7", "when_2": "2021"},
    )
    assert patient_client.post(url, data).status_code == 302

    page = patient_client.get(url).content.decode()
    boxes = [tuple(_box(page, f"rows-{i}-when_{n}") for n in range(3)) for i in range(2)]
    assert boxes == [("", "", "2005"), ("", "7", "2021")]


# -- measurements --------------------------------------------------------------------------


def measurement(value: str, unit: str = "mm", **extra: str) -> dict[str, Any]:
    return rows(
        {
            "site": "Mole on left shoulder",
            "method": "ruler",
            "value": value,
            "unit": unit,
            "measured_on_0": "10",
            "measured_on_1": "1",
            "measured_on_2": "2025",
            **extra,
        }
    )


@pytest.mark.parametrize("value", ["0", "-3", "0.00"])
def test_a_size_must_be_more_than_zero(value: str, patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "measurements"), measurement(value))

    page = assert_error_page(response, "The size must be more than 0.")
    assert 'href="#id_rows-0-value"' in page
    assert "Mole on left shoulder" in page
    assert not Measurement.objects.filter(case=case).exists()


@pytest.mark.parametrize(("value", "unit"), [("250", "cm"), ("2001", "mm")])
def test_a_size_over_two_metres_is_refused_with_a_hint_about_the_unit(
    value: str, unit: str, patient_client: Client, case: Case
) -> None:
    response = patient_client.post(step_url(case.pk, "measurements"), measurement(value, unit))

    assert_error_page(response, "That is more than 2 metres. Check the number and the unit (mm or cm).")
    assert not Measurement.objects.filter(case=case).exists()


def test_two_metres_exactly_is_accepted(patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "measurements"), measurement("200", "cm"))
    assert response.status_code == 302
    assert Measurement.objects.get(case=case).value_mm == Decimal("2000")


def test_it_refuses_a_measurement_date_in_the_future(patient_client: Client, case: Case) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = measurement(
        "12", measured_on_0=str(tomorrow.day), measured_on_1=str(tomorrow.month), measured_on_2=str(tomorrow.year)
    )
    assert_error_page(
        patient_client.post(step_url(case.pk, "measurements"), data), "The date must be today or in the past."
    )


def test_it_stores_centimetres_as_millimetres_and_shows_them_back_in_centimetres(
    patient_client: Client, case: Case
) -> None:
    response = patient_client.post(step_url(case.pk, "measurements"), measurement("1.5", "cm"))

    assert response.status_code == 302
    stored = Measurement.objects.get(case=case)
    assert (stored.value_mm, stored.unit) == (Decimal("15"), "cm")
    assert stored.display_value == "1.5 cm"
    form = patient_client.get(step_url(case.pk, "measurements")).content.decode()
    assert re.search(r'name="rows-0-value"[^>]*value="1.5"|value="1.5"[^>]*name="rows-0-value"', form)
    assert re.search(r'<input[^>]*name="rows-0-unit"[^>]*value="cm"[^>]*checked', form)
    assert "1.5 cm" in patient_client.get(f"/cases/{case.pk}/check/").content.decode()


def test_a_round_size_comes_back_in_the_form_as_typed(patient_client: Client, case: Case) -> None:
    patient_client.post(step_url(case.pk, "measurements"), measurement("100", "mm"))
    assert Measurement.objects.get(case=case).display_value == "100 mm"

    form = patient_client.get(step_url(case.pk, "measurements")).content.decode()

    assert re.search(r'name="rows-0-value"[^>]*value="100"', form), re.findall(r"<input[^>]*rows-0-value[^>]*>", form)


# -- questions -----------------------------------------------------------------------------


def test_it_asks_for_at_least_one_question(patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "questions"), rows({"text": ""}))

    assert_error_page(response, "Write at least one question for the specialist.")


def test_it_refuses_an_eleventh_question(patient_client: Client, case: Case) -> None:
    questions = [{"text": f"Question number {n}?"} for n in range(1, 12)]

    response = patient_client.post(step_url(case.pk, "questions"), rows(*questions))

    page = assert_error_page(response, "You can ask up to 10 questions.")
    assert "Question number 11?" in page
    assert not Question.objects.filter(case=case).exists()


@pytest.mark.parametrize(
    ("count", "message"),
    [(0, "Write at least one question for the specialist."), (11, "You can ask up to 10 questions.")],
)
def test_the_summary_links_a_question_count_error_to_a_question_box(
    count: int, message: str, patient_client: Client, case: Case
) -> None:
    questions = [{"text": f"Question number {n}?"} for n in range(1, count + 1)] or [{"text": ""}]

    page = assert_error_page(patient_client.post(step_url(case.pk, "questions"), rows(*questions)), message)

    link = re.search(rf'<a href="#([^"]+)">{re.escape(message)}</a>', page)
    assert link is not None
    assert f'id="{link.group(1)}"' in page


def test_it_accepts_ten_questions(patient_client: Client, case: Case) -> None:
    questions = [{"text": f"Question number {n}?"} for n in range(1, 11)]
    response = patient_client.post(step_url(case.pk, "questions"), rows(*questions))
    assert response.status_code == 302
    assert Question.objects.filter(case=case).count() == 10


def test_a_question_over_the_limit_gets_the_length_message(patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "questions"), rows({"text": "x" * 1001}))
    assert_error_page(response, "Write no more than 1000 characters (you wrote 1001).")


# -- text ----------------------------------------------------------------------------------


def test_a_text_over_the_limit_gets_the_length_message_and_keeps_the_other_answers(
    patient_client: Client, case: Case
) -> None:
    response = patient_client.post(
        step_url(case.pk, "reason"), {"reason": "y" * 4001, "expectations": "A clear plan for my treatment"}
    )

    page = assert_error_page(response, "Write no more than 4000 characters (you wrote 4001).")
    assert "A clear plan for my treatment" in page
    assert "y" * 4001 in page
    assert Case.objects.get(pk=case.pk).expectations == ""


def test_a_missing_required_answer_gets_its_own_message(patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "reason"), {"reason": "", "expectations": "Certainty"})
    page = assert_error_page(response, "Tell us why you want a second opinion.")
    assert 'href="#id_reason"' in page and "Certainty" in page


def test_a_missing_specialty_links_to_the_first_choice(patient_client: Client, case: Case) -> None:
    response = patient_client.post(step_url(case.pk, "specialty"), {})
    page = assert_error_page(response, "Choose a kind of specialist, or “Not sure”.")
    assert 'href="#id_specialty_0"' in page


def test_a_page_without_errors_has_a_plain_title(patient_client: Client, case: Case) -> None:
    page = patient_client.get(step_url(case.pk, "timeline")).content.decode()
    assert "<title>Error:" not in page and "There is a problem" not in page


def test_a_measurement_can_point_to_a_photo_of_the_case_but_not_of_another(patient_client: Client, case: Case) -> None:
    from tests.factories import CaseFactory, accepted_upload

    mine = accepted_upload(case, name="mole-march.jpg")
    theirs = accepted_upload(CaseFactory())
    page = patient_client.get(step_url(case.pk, "measurements")).content.decode()
    assert "mole-march.jpg" in page
    refused = patient_client.post(step_url(case.pk, "measurements"), measurement("12", photo=str(theirs.pk)))
    assert refused.status_code == 200 and not case.measurements.exists()
    patient_client.post(step_url(case.pk, "measurements"), measurement("12", photo=str(mine.pk)))
    assert case.measurements.get().photo_id == mine.pk
