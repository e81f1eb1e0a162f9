"""The malware scan inside the pipeline, against the real clamd of tests/uploads/sanitize (a
one-signature database for the EICAR test file): SECURITY.md row 18."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case
from tests.factories import login
from tests.uploads.pipeline.samples import Part, bucket_objects, jpeg_part, post_files
from tests.uploads.sanitize.corpus import EICAR  # the file the test clamd's signature matches
from uploads.models import Upload, UploadStatus
from uploads.services import upload_process
from uploads.tasks import validate_upload_task


@pytest.fixture
def send(patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any) -> Any:
    def send(part: Part) -> Upload:
        with django_capture_on_commit_callbacks(execute=True):
            assert post_files(patient_client, case, [part]).status_code == 302
        return Upload.objects.get(case=case, original_name=part.name)

    return send


@pytest.fixture
def scanner(settings: Any, clamd_socket: str) -> str:
    settings.CLAMD_SOCKET = clamd_socket
    return clamd_socket


def test_the_eicar_test_file_named_as_a_photo_is_rejected_as_malware(
    scanner: str, send: Any, patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    upload = send(Part("holiday.jpg", EICAR, "image/jpeg"))

    assert (upload.status, upload.reject_code) == (UploadStatus.REJECTED, "malware")
    page = patient_client.get(reverse("uploads:files", args=[case.pk])).content.decode()
    assert "The file contains malware." in page
    assert "Do not open it." in page
    assert bucket_objects(s3, bucket) == {}
    assert patient_client.get(reverse("uploads:download", args=[upload.pk])).status_code == 404


def test_a_clean_photo_is_scanned_and_accepted(scanner: str, send: Any, s3: Any, bucket: str) -> None:
    upload = send(jpeg_part("mole.jpg"))

    assert (upload.status, upload.reject_code) == (UploadStatus.ACCEPTED, "")
    assert set(bucket_objects(s3, bucket)) == {f"files/{upload.pk}", f"thumbs/{upload.pk}"}


@pytest.fixture
def received(patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any) -> Upload:
    """A photo as the request leaves it: stored raw, row committed, its validation not yet run."""
    with django_capture_on_commit_callbacks(execute=False):
        assert post_files(patient_client, case, [jpeg_part("mole.jpg")]).status_code == 302
    return Upload.objects.get(case=case)


def test_a_file_is_never_accepted_unscanned_when_the_scanner_is_down(
    settings: Any, tmp_path: Path, received: Upload, s3: Any, bucket: str
) -> None:
    settings.CLAMD_SOCKET = str(tmp_path / "clamd-is-down.sock")

    validate_upload_task.apply(args=[str(received.pk)], throw=False)  # the task and its retries, in-process

    received.refresh_from_db()
    assert received.status != UploadStatus.ACCEPTED
    assert not any(key.startswith(("files/", "thumbs/")) for key in bucket_objects(s3, bucket))


def test_when_the_scanner_is_back_the_retry_accepts_the_file(
    settings: Any, tmp_path: Path, clamd_socket: str, received: Upload
) -> None:
    settings.CLAMD_SOCKET = str(tmp_path / "clamd-is-down.sock")
    with pytest.raises(OSError):
        upload_process(upload_id=received.pk)  # the first run: clamd is being restarted

    settings.CLAMD_SOCKET = clamd_socket
    upload_process(upload_id=received.pk)  # what validate_upload_task's retry runs 30 s later

    received.refresh_from_db()
    assert received.status == UploadStatus.ACCEPTED


def test_after_the_last_retry_the_patient_is_told_the_file_could_not_be_checked(
    settings: Any, tmp_path: Path, received: Upload
) -> None:
    settings.CLAMD_SOCKET = str(tmp_path / "clamd-is-down.sock")

    validate_upload_task.apply(args=[str(received.pk)], throw=False)

    received.refresh_from_db()
    assert (received.status, received.reject_code) == (UploadStatus.REJECTED, "failed")


def test_with_eager_tasks_a_scanner_outage_is_not_a_server_error_and_keeps_the_file(
    transactional_db: Any, settings: Any, tmp_path: Path, patient_a: Any, case: Case, s3: Any, bucket: str
) -> None:
    settings.CLAMD_SOCKET = str(tmp_path / "clamd-is-down.sock")
    client = login(Client(raise_request_exception=False), patient_a)

    response = post_files(client, case, [jpeg_part("mole.jpg")])

    assert response.status_code == 302
    upload = Upload.objects.get(case=case)
    assert upload.status != UploadStatus.ACCEPTED
    assert upload.is_final or upload.raw_name in bucket_objects(s3, bucket)
