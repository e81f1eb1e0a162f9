"""The pipeline on a real Celery worker (a subprocess on the Redis broker, the test database and
the S3 server): an upload reaches "accepted", survives its worker being killed mid-way and its
task message being lost, and a re-run changes nothing (DESIGN.md "Tasks")."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError

from audit.models import AuditEvent
from cases.models import Case
from tests.factories import login
from tests.uploads.pipeline.samples import (
    Part,
    bucket_objects,
    dicom_folder_zip,
    dicom_zip_of_many,
    jpeg_part,
    large_png,
    post_files,
)
from tests.worker import Worker, bucket_fixture, real_worker_fixture, worker_bucket_fixture, worker_fixture  # noqa: F401
from uploads import services
from uploads.models import Upload, UploadStatus
from uploads.tasks import validate_upload_task

DONE_WITHIN = 60  # seconds for an upload to reach its end state

pytestmark = pytest.mark.django_db(transaction=True)  # rows committed, so the worker sees them


def _wait(upload_id: Any, *, until: set[str], within: float = DONE_WITHIN, worker: Worker | None = None) -> Upload:
    deadline = time.monotonic() + within
    while True:
        upload = Upload.objects.get(pk=upload_id)
        if upload.status in until:
            return upload
        if time.monotonic() > deadline:
            log = f"\nworker log:\n{worker.output()}" if worker else ""
            pytest.fail(f"upload still {upload.status!r} after {within} s, waiting for {sorted(until)}{log}")
        time.sleep(0.01)


def _backdate(upload: Upload, field: str, by: timedelta) -> None:
    Upload.objects.filter(pk=upload.pk).update(**{field: timezone.now() - by - timedelta(minutes=1)})


def test_an_upload_is_validated_by_the_worker(
    real_worker: Worker, patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    response = post_files(patient_client, case, [jpeg_part("mole.jpg"), Part("cd.zip", dicom_folder_zip())])
    assert response.status_code == 302

    for upload in Upload.objects.filter(case=case, parent__isnull=True):
        done = _wait(upload.pk, until={"accepted", "rejected"}, worker=real_worker)
        assert (done.status, done.attempts) == (UploadStatus.ACCEPTED, 1)
    members = Upload.objects.filter(case=case, parent__isnull=False)
    assert members.count() == 2
    keys = set(bucket_objects(s3, bucket))
    assert not any(key.startswith("raw/") for key in keys)
    assert {f"files/{m.pk}" for m in members} <= keys


SLOW = {
    "12-megapixel-png": lambda: Part("scan.png", large_png(), "image/png"),
    "zip-of-60-dicom-slices": lambda: Part("cd.zip", dicom_zip_of_many(60), "application/zip"),
}


@pytest.mark.parametrize("make", SLOW.values(), ids=SLOW.keys())
def test_an_upload_whose_worker_is_killed_mid_way_is_accepted_once_after_the_sweep(
    real_worker: Worker, patient_client: Client, case: Case, s3: Any, bucket: str, make: Any
) -> None:
    assert post_files(patient_client, case, [make()]).status_code == 302
    upload = Upload.objects.get(case=case)
    _wait(upload.pk, until={"scanning", "accepted", "rejected"}, worker=real_worker)
    real_worker.kill()
    upload.refresh_from_db()
    assert upload.status == UploadStatus.SCANNING, "the worker finished before it was killed: use a slower file"

    real_worker.start()  # its message stays unacknowledged for the broker's visibility timeout (1 h)
    _backdate(upload, "claimed_at", services.CLAIM_TIMEOUT)
    assert services.uploads_sweep() == {"requeued": 1, "failed": 0}

    done = _wait(upload.pk, until={"accepted", "rejected"}, worker=real_worker)
    assert (done.status, done.attempts) == (UploadStatus.ACCEPTED, 2)
    rows = Upload.objects.filter(case=case)
    members = rows.filter(parent=upload)
    assert rows.count() == 1 + members.count()  # no duplicate members from the first, killed run
    if done.kind == "archive":
        assert members.count() == 60
        assert len({m.info["series_uid"] + str(m.info["instance_number"]) for m in members}) == 60
    kept = {f"files/{u.pk}" for u in rows if u.kind != "archive"} | {
        f"thumbs/{u.pk}" for u in rows if u.thumb_wrapped_key
    }
    assert set(bucket_objects(s3, bucket)) == kept  # the raw copy is gone, nothing is stored twice


def test_an_upload_whose_task_message_was_lost_is_recovered_by_the_sweep(
    real_worker: Worker, patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    with mock.patch.object(validate_upload_task, "delay", autospec=True) as lost:  # published into the void
        assert post_files(patient_client, case, [jpeg_part("mole.jpg")]).status_code == 302
    assert lost.call_count == 1
    upload = Upload.objects.get(case=case)
    assert upload.status == UploadStatus.RECEIVED
    assert services.uploads_sweep() == {"requeued": 0, "failed": 0}  # not lost yet: just queued

    _backdate(upload, "created_at", services.LOST_AFTER)
    assert services.uploads_sweep() == {"requeued": 1, "failed": 0}

    assert _wait(upload.pk, until={"accepted", "rejected"}, worker=real_worker).status == UploadStatus.ACCEPTED
    assert set(bucket_objects(s3, bucket)) == {f"files/{upload.pk}", f"thumbs/{upload.pk}"}


def test_an_upload_whose_task_could_not_be_published_is_kept_and_recovered_by_the_sweep(
    real_worker: Worker, patient_a: Any, case: Case, s3: Any, bucket: str
) -> None:
    client = login(Client(raise_request_exception=False), patient_a)
    with mock.patch.object(
        validate_upload_task, "delay", autospec=True, side_effect=OperationalError("Error 111 connecting to the broker")
    ):
        response = post_files(client, case, [jpeg_part("mole.jpg")])

    upload = Upload.objects.get(case=case)
    assert upload.status == UploadStatus.RECEIVED
    assert upload.raw_name in bucket_objects(s3, bucket), "the received file was deleted"
    assert response.status_code == 302

    _backdate(upload, "created_at", services.LOST_AFTER)
    assert services.uploads_sweep() == {"requeued": 1, "failed": 0}
    assert _wait(upload.pk, until={"accepted", "rejected"}, worker=real_worker).status == UploadStatus.ACCEPTED


def test_running_the_task_again_on_an_accepted_upload_changes_nothing(
    real_worker: Worker, patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    post_files(patient_client, case, [jpeg_part("first.jpg")])
    first = _wait(Upload.objects.get(case=case).pk, until={"accepted", "rejected"}, worker=real_worker)
    assert first.status == UploadStatus.ACCEPTED
    fields = [
        "status",
        "reject_code",
        "processed_at",
        "claimed_at",
        "attempts",
        "kind",
        "mime",
        "stored_size",
        "stored_wrapped_key",
        "thumb_wrapped_key",
        "raw_wrapped_key",
        "hints",
        "info",
        "sha256",
        "size",
    ]
    before = {f: getattr(first, f) for f in fields}
    objects_before = bucket_objects(s3, bucket)
    events_before = AuditEvent.objects.filter(entity_id=str(first.pk)).count()

    validate_upload_task.delay(str(first.pk))
    validate_upload_task.delay(str(first.pk))
    # One worker process takes tasks in order: once a later upload is done, the re-runs are too.
    post_files(patient_client, case, [jpeg_part("marker.jpg")])
    marker = Upload.objects.get(case=case, original_name="marker.jpg")
    assert _wait(marker.pk, until={"accepted", "rejected"}, worker=real_worker).status == UploadStatus.ACCEPTED

    first.refresh_from_db()
    assert {f: getattr(first, f) for f in fields} == before
    objects_after = bucket_objects(s3, bucket)
    assert {k: v for k, v in objects_after.items() if str(marker.pk) not in k} == objects_before
    assert AuditEvent.objects.filter(entity_id=str(first.pk)).count() == events_before
    assert Upload.objects.filter(case=case).count() == 2
