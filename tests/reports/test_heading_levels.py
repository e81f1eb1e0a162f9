"""Report pages never skip a heading level (issue 15, item 17: the preview went from h1 to h3)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from reports import services
from tests.reports.helpers import case_in_review, complete_draft

pytestmark = pytest.mark.django_db


def _skips(page: str) -> list[str]:
    levels = [int(n) for n in re.findall(r"<h([1-6])[\s>]", page.split("<main", 1)[1])]
    return [f"h{a} → h{b}" for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]


def test_the_preview_does_not_skip_a_heading_level(patient_a: Any, specialist: Any, specialist_client: Client) -> None:
    case = case_in_review(patient_a, specialist, questions=1)
    complete_draft(case, specialist)
    page = specialist_client.get(f"/specialist/cases/{case.pk}/report/preview/").content.decode()
    assert "<h2>" in page
    assert _skips(page) == []


def test_the_patients_and_the_specialists_case_pages_do_not_skip_a_heading_level(
    patient_a: Any, specialist: Any, patient_client: Client, specialist_client: Client
) -> None:
    case = case_in_review(patient_a, specialist, questions=1)
    services.report_sign(report=complete_draft(case, specialist), signer=specialist)
    assert _skips(patient_client.get(f"/cases/{case.pk}/").content.decode()) == []
    assert _skips(specialist_client.get(f"/specialist/cases/{case.pk}/").content.decode()) == []
