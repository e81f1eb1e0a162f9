"""A patient removes a file they sent by mistake: any file until the specialist starts the
review, a rejected one at any time. A POST from the file list (a plain form); the row goes, its
encrypted objects go from storage, and the removal is audited (without the file's name)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cases.models import Case, Status
from tests.factories import login
from tests.uploads.pipeline.samples import Part, bucket_objects, dicom_folder_zip, jpeg_part, post_files
from uploads.models import Upload, UploadStatus


def _send(client: Client, case: Case, capture: Any, part: Part) -> Upload:
    with capture(execute=True):
        assert post_files(client, case, [part]).status_code == 302
    return Upload.objects.get(case=case, parent__isnull=True, original_name=part.name)


def _remove(client: Client, upload: Upload, **extra: Any) -> Any:
    return client.post(reverse("uploads:remove", args=[upload.pk]), **extra)


def _objects_of(s3: Any, bucket: str, upload: Upload) -> list[str]:
    ids = {str(upload.pk), *(str(pk) for pk in Upload.objects.filter(parent=upload).values_list("pk", flat=True))}
    return [name for name in bucket_objects(s3, bucket) if name.split("/", 1)[-1] in ids]


def test_it_removes_a_file_and_its_stored_copies(
    patient_client: Client, case: Case, s3: Any, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    upload = _send(patient_client, case, django_capture_on_commit_callbacks, jpeg_part("wrong-arm.jpg"))
    assert upload.status == UploadStatus.ACCEPTED
    assert sorted(_objects_of(s3, bucket, upload)) == [f"files/{upload.pk}", f"thumbs/{upload.pk}"]

    with django_capture_on_commit_callbacks(execute=True):
        response = _remove(patient_client, upload)

    assert response.status_code == 302
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert not any(str(upload.pk) in name for name in bucket_objects(s3, bucket))
    event = AuditEvent.objects.get(event_type="upload.delete", entity_id=str(upload.pk))
    assert (event.case_id, event.actor_id) == (case.pk, case.patient_id)
    assert "wrong-arm" not in str(event.detail)
    page = patient_client.get(response["Location"]).content.decode()
    assert "“wrong-arm.jpg” was removed." in page


def test_it_removes_a_zip_with_the_imaging_files_taken_from_it(
    patient_client: Client, case: Case, s3: Any, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    upload = _send(patient_client, case, django_capture_on_commit_callbacks, Part("cd.zip", dicom_folder_zip()))
    members = list(Upload.objects.filter(parent=upload).values_list("pk", flat=True))
    assert members and _objects_of(s3, bucket, upload)

    with django_capture_on_commit_callbacks(execute=True):
        assert _remove(patient_client, upload).status_code == 302

    assert not Upload.objects.filter(case=case).exists()
    names = bucket_objects(s3, bucket)
    assert not [name for name in names if any(str(pk) in name for pk in [upload.pk, *members])]


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED, Status.TRIAGE, Status.ASSIGNED])
def test_any_file_can_be_removed_before_the_specialist_starts(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any, status: str
) -> None:
    upload = _send(patient_client, case, django_capture_on_commit_callbacks, jpeg_part())
    Case.objects.filter(pk=case.pk).update(status=status)
    assert _remove(patient_client, upload).status_code == 302
    assert not Upload.objects.filter(pk=upload.pk).exists()


@pytest.mark.parametrize("status", [Status.IN_REVIEW, Status.AWAITING_PATIENT, Status.REPORT_READY, Status.CLOSED])
def test_a_kept_file_stays_once_the_specialist_has_started(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any, status: str
) -> None:
    upload = _send(patient_client, case, django_capture_on_commit_callbacks, jpeg_part("arm.jpg"))
    Case.objects.filter(pk=case.pk).update(status=status)
    response = _remove(patient_client, upload, follow=True)
    assert Upload.objects.filter(pk=upload.pk).exists()
    assert "The specialist has started looking at your files" in response.content.decode()
    assert "Remove" not in patient_client.get(reverse("uploads:files", args=[case.pk])).content.decode()


@pytest.mark.parametrize("status", [Status.IN_REVIEW, Status.CLOSED, Status.WITHDRAWN])
def test_a_rejected_file_can_be_removed_at_any_time(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any, status: str
) -> None:
    upload = _send(patient_client, case, django_capture_on_commit_callbacks, Part("letter.docx", b"PK\x03\x04 x"))
    assert upload.status == UploadStatus.REJECTED
    Case.objects.filter(pk=case.pk).update(status=status)
    assert _remove(patient_client, upload).status_code == 302
    assert not Upload.objects.filter(pk=upload.pk).exists()


def test_a_file_being_checked_is_not_removed(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    upload = _send(patient_client, case, django_capture_on_commit_callbacks, jpeg_part())
    Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.SCANNING)
    response = _remove(patient_client, upload, follow=True)
    assert Upload.objects.filter(pk=upload.pk).exists()
    assert "is being checked" in response.content.decode()


def test_it_rejects_get(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    upload = _send(patient_client, case, django_capture_on_commit_callbacks, jpeg_part())
    assert patient_client.get(reverse("uploads:remove", args=[upload.pk])).status_code == 405
    assert Upload.objects.filter(pk=upload.pk).exists()


def test_nobody_else_can_remove_it(
    patient_client: Client,
    case: Case,
    bucket: str,
    django_capture_on_commit_callbacks: Any,
    patient_b: Any,
    specialist: Any,
) -> None:
    upload = _send(patient_client, case, django_capture_on_commit_callbacks, jpeg_part())
    Case.objects.filter(pk=case.pk).update(specialist=specialist, status=Status.ASSIGNED)
    for user in (patient_b, specialist):
        assert _remove(login(Client(), user), upload).status_code == 404
    assert Upload.objects.filter(pk=upload.pk).exists()
    assert AuditEvent.objects.filter(event_type="upload.read.denied", entity_id=str(upload.pk)).exists()


def test_the_file_list_offers_remove_as_a_plain_form(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    upload = _send(patient_client, case, django_capture_on_commit_callbacks, jpeg_part("arm.jpg"))
    page = patient_client.get(reverse("uploads:files", args=[case.pk])).content.decode()
    action = reverse("uploads:remove", args=[upload.pk])
    assert f'<form method="post" action="{action}' in page
    assert '<span class="visually-hidden">arm.jpg</span>' in page
