"""Patient keys and per-object data keys."""

from __future__ import annotations

import threading
from typing import Any
from uuid import uuid4

import pytest
from django.db import IntegrityError, connection

from accounts.models import PatientKey
from core.crypto import DecryptionError, decrypt_bytes, encrypt_bytes
from tests.factories import PatientFactory
from uploads.keys import new_data_key, patient_key_for, unwrap_data_key

pytestmark = pytest.mark.django_db


def test_every_data_key_is_unique_and_stored_only_wrapped(patient_a: Any) -> None:
    patient_key = patient_key_for(patient_a)
    object_ids = [uuid4() for _ in range(1000)]
    pairs = [new_data_key(patient_key, object_id, "original") for object_id in object_ids]

    keys = {key for key, _ in pairs}
    assert len(keys) == 1000 and len({wrapped for _, wrapped in pairs}) == 1000
    assert all(len(key) == 32 and key not in wrapped for key, wrapped in pairs)
    assert patient_key.unwrap() not in keys
    for object_id, (key, wrapped) in zip(object_ids[:20], pairs[:20], strict=True):
        assert unwrap_data_key(patient_key, object_id, "original", wrapped) == key


def test_every_patient_key_is_unique_and_stored_only_wrapped(db: Any) -> None:
    patient_keys = [patient_key_for(PatientFactory()) for _ in range(20)]
    stored = {key.id: bytes(key.wrapped_key) for key in PatientKey.objects.all()}
    plaintext = {key.unwrap() for key in PatientKey.objects.all()}

    assert len(plaintext) == 20 and len(set(stored.values())) == 20
    assert all(len(key) == 32 and key not in wrapped for key in plaintext for wrapped in stored.values())
    assert {key.kek_id for key in patient_keys} == {"test-1"}


def test_it_returns_the_same_live_key(patient_a: Any) -> None:
    assert patient_key_for(patient_a).id == patient_key_for(patient_a).id
    assert PatientKey.objects.filter(patient=patient_a).count() == 1


def test_a_data_key_opens_only_for_its_object_purpose_and_patient(patient_a: Any, patient_b: Any) -> None:
    patient_key, object_id = patient_key_for(patient_a), uuid4()
    _, wrapped = new_data_key(patient_key, object_id, "original")

    for args in [
        (patient_key, uuid4(), "original"),
        (patient_key, object_id, "thumbnail"),
        (patient_key_for(patient_b), object_id, "original"),
    ]:
        with pytest.raises(DecryptionError):
            unwrap_data_key(*args, wrapped)


def test_a_wrapped_patient_key_copied_to_another_patient_fails(patient_a: Any, patient_b: Any) -> None:
    key_a, key_b = patient_key_for(patient_a), patient_key_for(patient_b)
    key_b.wrapped_key = key_a.wrapped_key
    with pytest.raises(DecryptionError):
        key_b.unwrap()


def test_a_destroyed_key_opens_nothing_and_a_new_one_is_made(patient_a: Any) -> None:
    patient_key, object_id = patient_key_for(patient_a), uuid4()
    key, wrapped = new_data_key(patient_key, object_id, "original")
    ciphertext = encrypt_bytes(key, object_id, "original", b"%PDF-1.7 biopsy report")

    patient_key.destroy()

    stored = PatientKey.objects.get(id=patient_key.id)
    assert bytes(stored.wrapped_key) == b"" and stored.destroyed_at is not None
    with pytest.raises(DecryptionError):
        unwrap_data_key(stored, object_id, "original", wrapped)
    replacement = patient_key_for(patient_a)
    assert replacement.id != patient_key.id
    with pytest.raises(DecryptionError):
        decrypt_bytes(unwrap_data_key(replacement, object_id, "original", wrapped), object_id, "original", ciphertext)


def test_the_database_allows_one_live_key_per_patient(patient_a: Any) -> None:
    patient_key = patient_key_for(patient_a)
    with pytest.raises(IntegrityError):
        PatientKey.objects.create(
            patient=patient_a, kek_id=patient_key.kek_id, wrapped_key=bytes(patient_key.wrapped_key)
        )


def test_the_database_refuses_a_destroyed_key_that_keeps_its_material(patient_a: Any) -> None:
    patient_key = patient_key_for(patient_a)
    patient_key.destroyed_at = patient_key.created_at
    with pytest.raises(IntegrityError):
        patient_key.save()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the in-memory SQLite test database locks whole tables")
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_uploads_get_the_same_key(db: Any) -> None:
    patient = PatientFactory()
    barrier, ids, errors = threading.Barrier(8), [], []

    def first_upload() -> None:
        try:
            barrier.wait()
            ids.append(patient_key_for(patient).id)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and len(ids) == 8
    assert len(set(ids)) == 1
    assert PatientKey.objects.filter(patient=patient).count() == 1
