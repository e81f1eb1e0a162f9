"""The key a patient's text is encrypted under (core.fieldcrypt), derived from their PatientKey.

A derived key is kept only for the request or task that needed it (a list page decrypts many
rows of one patient with one unwrap), never between them: `forget_keys` runs when a request or
a Celery task starts and ends, and `PatientKey.destroy` forgets the destroyed key at once.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any
from uuid import UUID

from celery.signals import task_postrun, task_prerun
from django.core.signals import request_finished, request_started

from accounts.models import PatientKey
from core.fieldcrypt import field_key

_keys: ContextVar[dict[UUID, bytes] | None] = ContextVar("field_keys", default=None)


def field_key_for(patient_id: UUID) -> bytes:
    keys = _keys.get()
    if keys is None:
        keys = {}
        _keys.set(keys)
    if (key := keys.get(patient_id)) is None:
        key = keys[patient_id] = field_key(PatientKey.objects.for_patient_id(patient_id).unwrap())
    return key


def forget_keys(*args: Any, **kwargs: Any) -> None:
    _keys.set(None)


for signal in (request_started, request_finished, task_prerun, task_postrun):
    signal.connect(forget_keys, dispatch_uid=f"forget-field-keys-{id(signal)}")
