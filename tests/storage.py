"""The S3 server the tests use and the key ring they share with a worker subprocess (the
fixtures on top of them are in tests/fixtures/storage.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings as django_settings

from core.keyring import KeyRing
from tests.uploads.pipeline.samples import empty_bucket

S3_MISSING = (
    "S3_BUCKET is not set, and the upload pipeline tests run against the S3 server. Start it with "
    "`bash scripts/test-services.sh start` and load `var/test-services.env` (make test does both)."
)
# One ring for the whole run: the worker subprocess gets it through KEYRING.
PIPELINE_KEYRING = KeyRing.generate("pipeline-1")


def s3_options() -> dict[str, Any]:
    if not django_settings.S3_BUCKET:
        pytest.fail(S3_MISSING, pytrace=False)
    options: dict[str, Any] = django_settings.STORAGES["default"]["OPTIONS"]
    return options


def new_bucket(s3: Any) -> str:
    name = f"so-pipeline-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    return name


def drop_bucket(s3: Any, name: str) -> None:
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)
