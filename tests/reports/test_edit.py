"""The report editor beside the evidence: the case's photos (key photos chosen by thumbnail),
measurements, files and the patient's answers on the same page as the form."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import formats, timezone

from cases.models import Measurement
from tests.reports.helpers import case_in_review
from tests.reports.samples import photo_sample, rejected_upload, sanitized_upload

pytestmark = pytest.mark.django_db


def _label_for(html: str, input_id: str) -> str:
    match = re.search(rf'<label[^>]*for="{input_id}"[^>]*>(.*?)</label>', html, re.S)
    assert match, f"no label for {input_id}"
    return match.group(1)


def test_the_editor_shows_the_evidence_and_offers_key_photos_by_thumbnail(
    patient_a: Any, specialist: Any, specialist_client: Client
) -> None:
    case = case_in_review(patient_a, specialist, reason="It has grown since January.")
    arm = sanitized_upload(case, photo_sample(), "arm.jpg")
    rejected_upload(case, "notes.docx")
    Measurement.objects.create(
        case=case, site="Mole, left arm", value_mm=Decimal("6.5"), method="ruler", measured_on=date(2024, 1, 10)
    )

    html = specialist_client.get(f"/specialist/cases/{case.pk}/report/").content.decode()

    # The key photo is a checkbox labelled by the photo's thumbnail, named by its file and date.
    checkbox = re.search(rf'<input type="checkbox" name="key_photos" value="{arm.pk}"[^>]*id="([^"]+)"', html)
    assert checkbox, "no key-photo checkbox for the photo"
    label = _label_for(html, checkbox.group(1))
    day = formats.date_format(timezone.localtime(arm.created_at), "SHORT_DATE_FORMAT")
    assert f'src="/files/{arm.pk}/thumbnail/"' in label
    assert f'alt="arm.jpg ({day})"' in label
    assert html.count('name="key_photos"') == 1  # the rejected file is not offered

    # The evidence beside the form: the photo, the measurements and what the patient told us.
    evidence = html[html.index('id="evidence"') :]
    assert f"/files/{arm.pk}/image/" in evidence
    assert "Measurements of Mole, left arm" in evidence and "6.5 mm" in evidence
    assert "It has grown since January." in evidence
    assert "notes.docx" in evidence  # a file not accepted is named, so the specialist can ask again
    assert 'href="#evidence"' in html  # reachable without JavaScript on a narrow screen


def test_key_photos_chosen_by_thumbnail_are_saved(patient_a: Any, specialist: Any, specialist_client: Client) -> None:
    case = case_in_review(patient_a, specialist)
    arm = sanitized_upload(case, photo_sample(), "arm.jpg")
    url = f"/specialist/cases/{case.pk}/report/"
    response = specialist_client.post(url, {"key_photos": [str(arm.pk)]}, HTTP_X_AUTOSAVE="1")
    assert response.json()["saved"] is True
    assert case.reports.get().key_photos == [str(arm.pk)]
    assert re.search(rf'value="{arm.pk}"[^>]*checked', specialist_client.get(url).content.decode())
