"""A patient's key and the data keys it wraps (the primitives are in core/crypto.py)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING
from uuid import UUID

from accounts.models import PatientKey
from core.crypto import KEY_SIZE, unwrap_key, wrap_key

if TYPE_CHECKING:
    from accounts.models import User


def patient_key_for(user: User) -> PatientKey:
    """The patient's live key, created on first use (safe when two requests race)."""
    return PatientKey.objects.for_patient(user)


def new_data_key(patient_key: PatientKey, object_id: UUID, purpose: str) -> tuple[bytes, bytes]:
    """A fresh data key for one encryption of one object, and the same key wrapped to store with it."""
    key = secrets.token_bytes(KEY_SIZE)
    return key, wrap_key(patient_key.unwrap(), key, object_id.bytes + purpose.encode())


def unwrap_data_key(patient_key: PatientKey, object_id: UUID, purpose: str, wrapped: bytes) -> bytes:
    return unwrap_key(patient_key.unwrap(), bytes(wrapped), object_id.bytes + purpose.encode())
