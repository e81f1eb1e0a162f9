"""Date boxes (day, month, year): an error marks only the boxes that are wrong, and says what is
missing (GOV.UK date input; issue 15, item 17)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django import forms
from django.utils import translation

from cases.forms import MonthYearField, PartialDateField


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


class _Dates(forms.Form):
    born = PartialDateField(label="Date of birth", exact=True)
    when = PartialDateField(label="When")
    given = MonthYearField(label="When was it given?", required=False)


def _invalid_boxes(form: forms.Form, name: str) -> list[str]:
    html = str(form[name])
    return [box for box in re.findall(r"<input[^>]*>", html) if 'aria-invalid="true"' in box]


def _names(boxes: list[str]) -> list[str]:
    return [re.search(r'name="([^"]+)"', b).group(1) for b in boxes]  # type: ignore[union-attr]


def test_only_the_missing_year_is_flagged() -> None:
    form = _Dates({"born_0": "3", "born_1": "12", "born_2": "", "when_0": "", "when_1": "5", "when_2": ""})
    assert not form.is_valid()
    assert _names(_invalid_boxes(form, "born")) == ["born_2"]
    assert form.errors["born"] == ["Enter the year."]
    assert _names(_invalid_boxes(form, "when")) == ["when_2"]


def test_a_missing_day_and_month_are_flagged_and_named() -> None:
    form = _Dates({"born_0": "", "born_1": "", "born_2": "1970", "when_2": "2024"})
    assert not form.is_valid()
    assert _names(_invalid_boxes(form, "born")) == ["born_0", "born_1"]
    assert form.errors["born"] == ["Enter the day and the month."]


def test_a_box_that_is_not_a_number_is_the_one_flagged() -> None:
    form = _Dates({"born_0": "3", "born_1": "x", "born_2": "1970", "when_2": "2024"})
    assert not form.is_valid()
    assert _names(_invalid_boxes(form, "born")) == ["born_1"]


def test_a_date_that_is_wrong_as_a_whole_flags_every_box() -> None:
    form = _Dates({"born_0": "31", "born_1": "2", "born_2": "1970", "when_2": "2024"})
    assert not form.is_valid()
    assert _names(_invalid_boxes(form, "born")) == ["born_0", "born_1", "born_2"]


def test_a_month_without_its_year_flags_the_year() -> None:
    form = _Dates({"born_0": "3", "born_1": "12", "born_2": "1970", "when_2": "2024", "given_0": "4", "given_1": ""})
    assert not form.is_valid()
    assert _names(_invalid_boxes(form, "given")) == ["given_1"]
