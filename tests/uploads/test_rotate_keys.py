"""manage.py rotate_keys re-wraps patient keys only; the KMS backend (moto, in-process)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from io import StringIO
from typing import Any
from uuid import UUID, uuid4

import boto3
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from moto import mock_aws

from accounts.models import PatientKey
from core.crypto import DecryptionError, decrypt_bytes, encrypt_bytes
from core.keyring import KeyRing, _kms_client
from tests.factories import PatientFactory
from uploads.keys import new_data_key, patient_key_for, unwrap_data_key

pytestmark = pytest.mark.django_db

# (patient key id, object id, wrapped data key, ciphertext, plaintext): what an Upload row and its file keep.
Stored = tuple[UUID, UUID, bytes, bytes, bytes]


def _store_files(count: int) -> list[Stored]:
    stored = []
    for _ in range(count):
        patient_key, object_id, plaintext = patient_key_for(PatientFactory()), uuid4(), os.urandom(70_000)
        key, wrapped = new_data_key(patient_key, object_id, "original")
        stored.append(
            (patient_key.id, object_id, wrapped, encrypt_bytes(key, object_id, "original", plaintext), plaintext)
        )
    return stored


def _assert_all_open(stored: list[Stored]) -> None:
    for patient_key_id, object_id, wrapped, ciphertext, plaintext in stored:
        key = unwrap_data_key(PatientKey.objects.get(id=patient_key_id), object_id, "original", wrapped)
        assert decrypt_bytes(key, object_id, "original", ciphertext) == plaintext


def _rotate() -> str:
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    return out.getvalue()


def test_rotation_rewraps_under_the_new_key_and_old_files_still_open(settings: Any, keyring: KeyRing) -> None:
    stored = _store_files(3)
    destroyed = patient_key_for(PatientFactory())
    destroyed.destroy()
    before = {key.id: bytes(key.wrapped_key) for key in PatientKey.objects.live()}

    settings.KEYRING = KeyRing(current="test-2", keys={**keyring.keys, "test-2": os.urandom(32)})
    output = _rotate()

    assert "Re-wrapped 3 patient keys; 3 of 3 live patient keys are under the current master key test-2." in output
    assert "@" not in output  # counts and key ids only
    live = list(PatientKey.objects.live())
    assert {key.kek_id for key in live} == {"test-2"}
    assert all(bytes(key.wrapped_key) != before[key.id] for key in live)
    destroyed.refresh_from_db()
    assert (destroyed.kek_id, bytes(destroyed.wrapped_key)) == ("test-1", b"")
    _assert_all_open(stored)

    assert "Re-wrapped 0 patient keys; 3 of 3" in _rotate()  # idempotent

    settings.KEYRING = KeyRing(current="test-2", keys={"test-2": settings.KEYRING.keys["test-2"]})
    _assert_all_open(stored)  # the old master key is no longer needed


def test_rotation_reports_keys_it_cannot_unwrap_and_rotates_the_rest(settings: Any, keyring: KeyRing) -> None:
    stored = _store_files(2)
    orphan = PatientKey.objects.get(id=stored[0][0])
    PatientKey.objects.filter(id=orphan.id).update(kek_id="retired")

    settings.KEYRING = KeyRing(current="test-2", keys={**keyring.keys, "test-2": os.urandom(32)})
    with pytest.raises(CommandError, match=f"1 patient keys could not be unwrapped: {orphan.id}"):
        _rotate()
    assert PatientKey.objects.get(id=stored[1][0]).kek_id == "test-2"


@pytest.fixture
def kms_key(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A KMS key in moto's in-process mock, which stands in for AWS (KMS is never on our machine)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings.KMS_REGION, settings.KMS_ENDPOINT_URL = "us-east-1", None
    _kms_client.cache_clear()
    with mock_aws():
        yield boto3.client("kms", region_name="us-east-1").create_key(Description="test KEK")["KeyMetadata"]["Arn"]
    _kms_client.cache_clear()


def test_kms_wraps_patient_keys_bound_to_the_patient(
    settings: Any, kms_key: str, patient_a: Any, patient_b: Any
) -> None:
    settings.KMS_KEY_ID = kms_key
    stored_a = _store_files(1)
    key_a, key_b = patient_key_for(patient_a), patient_key_for(patient_b)

    assert key_a.kek_id == f"kms:{kms_key}"
    assert len(key_a.unwrap()) == 32 and key_a.unwrap() not in bytes(key_a.wrapped_key)
    _assert_all_open(stored_a)
    key_b.wrapped_key = key_a.wrapped_key  # the encryption context names patient a
    with pytest.raises(DecryptionError):
        key_b.unwrap()


def test_rotation_moves_local_keys_to_kms(settings: Any, kms_key: str) -> None:
    stored = _store_files(3)

    settings.KMS_KEY_ID = kms_key
    assert "Re-wrapped 3 patient keys; 3 of 3" in _rotate()
    assert {key.kek_id for key in PatientKey.objects.live()} == {f"kms:{kms_key}"}
    assert "Re-wrapped 0 patient keys; 3 of 3" in _rotate()

    settings.KEYRING = None  # production with KMS alone
    _assert_all_open(stored)
    _assert_all_open(_store_files(1))
