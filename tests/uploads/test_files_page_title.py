"""The intake's files step and the case's files page have titles of their own (issue 15, item 17):
a screen reader user, or a tab list, tells them apart."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from cases.models import Status
from tests.cases.helpers import step_url
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _title(page: bytes) -> str:
    match = re.search(r"<title>(.*?)</title>", page.decode(), re.S)
    assert match
    return " ".join(match.group(1).split())


def test_the_files_step_and_the_files_page_have_different_titles(patient_client: Client, patient_a: Any) -> None:
    draft = CaseFactory(patient=patient_a, status=Status.DRAFT)
    sent = CaseFactory(patient=patient_a, status=Status.SUBMITTED)

    step = _title(patient_client.get(step_url(draft.pk, "files")).content)
    files = _title(patient_client.get(f"/cases/{sent.pk}/files/").content)

    assert step.startswith("Photos, reports and scans")
    assert files.startswith(f"Files of case {sent.reference}")
    assert step != _title(patient_client.get(f"/cases/{draft.pk}/files/").content)
