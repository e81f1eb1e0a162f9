"""Files picked but not sent were silently dropped when the patient pressed the page's Continue
instead of the widget's Send: Continue now sends the upload form (the widget sends its files
first), and "Check your answers" lists the files."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case
from tests.cases.helpers import step_url
from tests.factories import accepted_upload, publish_consent_v1
from tests.uploads.pipeline.samples import jpeg_part, multipart
from uploads.models import Upload

pytestmark = pytest.mark.usefixtures("bucket")


def _continue(client: Client, case: Case, parts: list[Any]) -> Any:
    body, content_type = multipart(parts, None)
    url = reverse("uploads:upload", args=[case.pk]) + "?next=" + step_url(case.pk, "consent")
    return client.post(url, data=body, content_type=content_type)


def test_the_files_steps_continue_sends_the_upload_form(patient_client: Client, case: Case) -> None:
    page = patient_client.get(step_url(case.pk, "files")).content.decode()
    upload_url = reverse("uploads:upload", args=[case.pk])
    assert 'form="upload-form"' in page and f'formaction="{upload_url}?next=' in page
    assert 'id="upload-form"' in page


def test_continue_with_a_file_chosen_keeps_it_and_goes_on(
    patient_client: Client, case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _continue(patient_client, case, [jpeg_part("mole.jpg")])
    assert response.status_code == 302 and response["Location"] == step_url(case.pk, "consent")
    assert Upload.objects.filter(case=case, original_name="mole.jpg").exists()


def test_continue_with_nothing_chosen_just_goes_on(patient_client: Client, case: Case) -> None:
    response = _continue(patient_client, case, [])
    assert response.status_code == 302 and response["Location"] == step_url(case.pk, "consent")
    assert not Upload.objects.filter(case=case).exists()


def test_check_your_answers_lists_the_files(patient_client: Client, case: Case) -> None:
    publish_consent_v1()
    accepted_upload(case, name="mole-front.jpg")
    page = patient_client.get(reverse("cases:check", args=[case.pk])).content.decode()
    assert "Your files" in page and "mole-front.jpg" in page
    assert step_url(case.pk, "files") + "?from=check" in page
