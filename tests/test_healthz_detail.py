"""/healthz/detail: the backlog an admin watches (queue length, oldest pending upload/report)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from secondopinion.celery import app as celery_app
from tests.factories import CaseFactory, accepted_upload
from uploads.models import Upload, UploadStatus


@pytest.fixture
def empty_queue(settings: Any) -> Any:
    if not settings.REDIS_URL:
        pytest.fail("needs Redis (REDIS_URL); make test starts it", pytrace=False)
    celery_app.control.purge()
    yield
    celery_app.control.purge()


def test_it_shows_queue_length_and_the_oldest_pending_upload(
    admin_client_verified: Client, patient_a: Any, empty_queue: Any
) -> None:
    upload = accepted_upload(CaseFactory(patient=patient_a))
    Upload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.RECEIVED, created_at=timezone.now() - timedelta(minutes=10)
    )
    with pytest.warns(UserWarning, match="always_eager"):  # meant: it goes to the broker
        celery_app.send_task("uploads.tasks.sweep_uploads_task")  # waits there: no worker here
    body = admin_client_verified.get("/healthz/detail").json()
    assert body["queues"] == {"celery": 1}
    assert body["pending_uploads"]["count"] == 1
    assert 590 <= body["pending_uploads"]["oldest_age_seconds"] <= 700
    assert body["pending_report_documents"] == {"count": 0, "oldest_age_seconds": None}
    assert str(upload.pk) not in str(body) and str(patient_a.pk) not in str(body)


def test_only_admins_see_it(patient_client: Client, specialist_client: Client) -> None:
    assert patient_client.get("/healthz/detail").status_code == 404
    assert specialist_client.get("/healthz/detail").status_code == 404
