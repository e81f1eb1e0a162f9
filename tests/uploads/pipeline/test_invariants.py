"""`manage.py check_invariants` against a real bucket: a consistent store passes; each way of
losing or leaving something behind is named; --repair deletes only what nobody can read."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from reports.models import RenderStatus, SignedDocument
from secondopinion.invariants import LAST_RUN
from secondopinion.tasks import check_invariants_task
from tests.factories import AdminFactory, PatientFactory, accepted_upload
from tests.reports.signed import case_in_review, signed_document
from uploads.models import Upload, UploadStatus

pytestmark = pytest.mark.django_db


def _check(*args: str) -> tuple[bool, dict[str, Any]]:
    out = StringIO()
    try:
        call_command("check_invariants", "--json", *args, stdout=out)
        ok = True
    except CommandError:
        ok = False
    report = json.loads(out.getvalue())
    assert report["ok"] is ok
    return ok, report["findings"]


@pytest.fixture
def store(bucket: str, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """One patient's accepted photo and rendered report, all in place."""
    patient = PatientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        document = signed_document(case_in_review(patient=patient), photos=1, measurements=False)
    document.refresh_from_db()
    assert document.render_status == RenderStatus.READY
    upload = Upload.objects.filter(case=document.report.case).get()
    return {"upload": upload, "document": document, "case": document.report.case}


def _put(s3: Any, bucket: str, name: str) -> None:
    s3.put_object(Bucket=bucket, Key=name, Body=b"\x01ciphertext")


def test_a_consistent_store_passes(store: dict[str, Any]) -> None:
    out = StringIO()
    call_command("check_invariants", "--grace", "0", stdout=out)
    assert "Checked 3 objects, 1 uploads, 1 report documents." in out.getvalue()
    assert "ok: nothing missing, nothing dangling" in out.getvalue()


def test_a_lost_file_thumbnail_and_pdf_are_named(store: dict[str, Any], s3: Any, bucket: str) -> None:
    upload, document = store["upload"], store["document"]
    for name in (upload.stored_name, upload.thumb_name, document.pdf_name):
        s3.delete_object(Bucket=bucket, Key=name)
    ok, findings = _check("--grace", "0")
    assert not ok
    assert findings == {
        "file_missing": [str(upload.pk)],
        "thumbnail_missing": [str(upload.pk)],
        "pdf_missing": [str(document.pk)],
    }


def test_unfinished_work_is_named_only_after_the_grace(store: dict[str, Any]) -> None:
    case = store["case"]
    stuck = accepted_upload(case)
    Upload.objects.filter(pk=stuck.pk).update(
        status=UploadStatus.SCANNING, created_at=timezone.now() - timedelta(hours=3)
    )
    fresh = accepted_upload(case)
    Upload.objects.filter(pk=fresh.pk).update(status=UploadStatus.RECEIVED)
    pending = signed_document(case_in_review(), photos=0, measurements=False)  # not rendered: no on_commit
    SignedDocument.objects.filter(pk=pending.pk).update(signed_at=timezone.now() - timedelta(hours=3))
    failed = signed_document(case_in_review(), photos=0, measurements=False)
    SignedDocument.objects.filter(pk=failed.pk).update(render_status=RenderStatus.FAILED)

    ok, findings = _check()  # default grace: two hours
    assert not ok
    assert findings == {
        "upload_not_final": [str(stuck.pk)],
        "render_not_final": [str(pending.pk)],
        "render_failed": [str(failed.pk)],
    }
    _, findings = _check("--grace", "0")
    assert sorted(findings["upload_not_final"]) == sorted([str(stuck.pk), str(fresh.pk)])


def test_rows_under_a_destroyed_key_are_named(store: dict[str, Any]) -> None:
    store["upload"].patient_key.destroy()
    ok, findings = _check("--grace", "0")
    assert not ok
    assert findings == {"key_destroyed": sorted([str(store["upload"].pk), str(store["document"].pk)])}


def test_repair_deletes_orphans_and_leftover_raw_uploads_only(store: dict[str, Any], s3: Any, bucket: str) -> None:
    upload = store["upload"]
    orphans = [f"files/{uuid.uuid4()}", f"raw/{uuid.uuid4()}", f"reports/{uuid.uuid4()}.pdf"]
    for name in [*orphans, upload.raw_name]:
        _put(s3, bucket, name)
    _put(s3, bucket, "audit-checkpoints/20261122T000000.000000Z.json")  # not ours to judge
    Upload.objects.filter(pk=upload.pk).update(processed_at=timezone.now() - timedelta(minutes=5))

    ok, findings = _check("--grace", "0")
    assert not ok
    assert findings == {"raw_left": [upload.raw_name], "orphan": sorted(orphans)}
    # Within the grace, an object without its row may be an upload still arriving.
    assert _check("--grace", "3600") == (True, {})

    out = StringIO()
    call_command("check_invariants", "--grace", "0", "--repair", stdout=out)
    assert "Deleted 4 unreadable objects." in out.getvalue()
    left = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert left == {
        upload.stored_name,
        upload.thumb_name,
        store["document"].pdf_name,
        "audit-checkpoints/20261122T000000.000000Z.json",
    }
    assert _check("--grace", "0") == (True, {})


def test_repair_refuses_when_the_database_does_not_match_the_bucket(
    store: dict[str, Any], s3: Any, bucket: str
) -> None:
    # Like an empty or wrong database in front of a full bucket: (nearly) everything is an orphan.
    for _ in range(101):
        _put(s3, bucket, f"files/{uuid.uuid4()}")
    with pytest.raises(CommandError, match="101 of 104 objects would be deleted"):
        call_command("check_invariants", "--grace", "0", "--repair", stdout=StringIO())
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 104


def test_the_daily_check_tells_the_admins_and_healthz(
    store: dict[str, Any],
    s3: Any,
    bucket: str,
    admin_client_verified: Client,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    cache.delete(LAST_RUN)
    mailoutbox.clear()  # the report's notice to the patient
    assert admin_client_verified.get("/healthz/detail").json()["integrity_check"] is None
    with django_capture_on_commit_callbacks(execute=True):
        assert check_invariants_task()["ok"] is True
    assert mailoutbox == []
    assert admin_client_verified.get("/healthz/detail").json()["integrity_check"]["ok"] is True

    s3.delete_object(Bucket=bucket, Key=store["upload"].stored_name)
    Upload.objects.filter(pk=store["upload"].pk).update(created_at=timezone.now() - timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        summary = check_invariants_task()
    assert summary["ok"] is False and summary["findings"] == {"file_missing": 1}
    detail = admin_client_verified.get("/healthz/detail").json()["integrity_check"]
    assert detail["ok"] is False and detail["findings"] == {"file_missing": 1}
    assert AuditEvent.objects.filter(event_type="storage.check.failed").count() == 1
    [mail] = mailoutbox
    assert mail.subject == "The daily storage check found a problem"
    assert "1: accepted files whose stored copy is missing" in mail.body
    assert str(store["upload"].pk) not in mail.body  # counts only; the ids stay on the server
    cache.delete(LAST_RUN)


def test_the_admins_email_is_in_their_language(
    store: dict[str, Any], s3: Any, bucket: str, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    admin = AdminFactory(language="es")
    mailoutbox.clear()
    s3.delete_object(Bucket=bucket, Key=store["document"].pdf_name)
    SignedDocument.objects.filter(pk=store["document"].pk).update(signed_at=timezone.now() - timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        check_invariants_task()
    [mail] = mailoutbox
    assert mail.to == [admin.email]
    assert "missing" not in mail.body and "PDF" in mail.body
    cache.delete(LAST_RUN)
