"""core.claims, on the upload pipeline's rows: one claim wins, the sweeper finds what was lost and
never fails work that a worker still holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from tests.factories import CaseFactory, accepted_upload
from uploads.models import Upload, UploadStatus
from uploads.services import WORK

pytestmark = pytest.mark.django_db


def _received(patient: User, **fields: object) -> Upload:
    upload = accepted_upload(CaseFactory(patient=patient))
    Upload.objects.filter(pk=upload.pk).update(
        **{"status": UploadStatus.RECEIVED, "claimed_at": None, "attempts": 0, **fields}
    )
    return Upload.objects.get(pk=upload.pk)


def test_of_two_claims_only_the_first_takes_the_row(patient_a: User) -> None:
    upload = _received(patient_a)
    assert WORK.claim(upload.pk) is True
    assert WORK.claim(upload.pk) is False
    upload.refresh_from_db()
    assert (upload.status, upload.attempts) == (UploadStatus.SCANNING, 1)


def test_a_claim_held_past_the_timeout_can_be_taken_again(patient_a: User) -> None:
    upload = _received(patient_a)
    assert WORK.claim(upload.pk)
    Upload.objects.filter(pk=upload.pk).update(claimed_at=timezone.now() - WORK.timeout - timedelta(seconds=1))
    assert WORK.claim(upload.pk) is True
    assert Upload.objects.get(pk=upload.pk).attempts == 2


def test_no_claim_once_the_attempts_are_used_up(patient_a: User) -> None:
    upload = _received(patient_a, attempts=WORK.max_attempts)
    assert WORK.claim(upload.pk) is False


def test_the_sweeper_finds_lost_messages_and_dead_workers_but_not_fresh_work(patient_a: User) -> None:
    now = timezone.now()
    fresh = _received(patient_a)
    lost = _received(patient_a, created_at=now - WORK.lost_after - timedelta(seconds=1))
    working = _received(patient_a, status=UploadStatus.SCANNING, claimed_at=now)
    dead = _received(patient_a, status=UploadStatus.SCANNING, claimed_at=now - WORK.timeout - timedelta(seconds=1))
    assert set(WORK.stuck()) == {lost.pk, dead.pk}
    assert fresh.pk not in WORK.stuck() and working.pk not in WORK.stuck()


def test_work_out_of_attempts_is_failed_only_when_no_worker_holds_it(patient_a: User) -> None:
    now = timezone.now()
    done_trying = _received(patient_a, attempts=WORK.max_attempts)
    last_try_running = _received(patient_a, attempts=WORK.max_attempts, status=UploadStatus.SCANNING, claimed_at=now)
    last_try_died = _received(
        patient_a,
        attempts=WORK.max_attempts,
        status=UploadStatus.SCANNING,
        claimed_at=now - WORK.timeout - timedelta(seconds=1),
    )
    finished = accepted_upload(CaseFactory(patient=patient_a))
    assert set(WORK.exhausted()) == {done_trying.pk, last_try_died.pk}
    assert last_try_running.pk not in WORK.exhausted() and finished.pk not in WORK.exhausted()
