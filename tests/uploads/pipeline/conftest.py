"""Fixtures for the pipeline tests: the S3 server from the environment (never skipped: without
S3_BUCKET these tests fail and say why), a bucket per test so that what a test leaves behind can
be listed exactly even while other runs share the server, a key ring the worker subprocess can
be given, and the real clamd started by tests/uploads/sanitize."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.conf import settings as django_settings
from django.test import Client

from cases.models import Case
from core.keyring import KeyRing
from tests.factories import CaseFactory, login
from tests.uploads.pipeline.samples import empty_bucket
from tests.uploads.sanitize.test_clamd import clamd_socket  # noqa: F401 - the fixture, reused

S3_MISSING = (
    "S3_BUCKET is not set, and the upload pipeline tests run against the S3 server. Start it with "
    "`bash scripts/test-services.sh start` and load `var/test-services.env` (make test does both)."
)
# One ring for the whole run: the worker subprocess gets it through KEYRING.
PIPELINE_KEYRING = KeyRing.generate("pipeline-1")


@pytest.fixture(autouse=True)
def keyring(settings: Any) -> KeyRing:
    """Overrides tests/uploads/conftest.py's fresh ring per test with one the worker shares."""
    settings.KEYRING = PIPELINE_KEYRING
    settings.KMS_KEY_ID = ""
    return PIPELINE_KEYRING


def s3_options() -> dict[str, Any]:
    if not django_settings.S3_BUCKET:
        pytest.fail(S3_MISSING, pytrace=False)
    options: dict[str, Any] = django_settings.STORAGES["default"]["OPTIONS"]
    return options


@pytest.fixture(scope="session")
def s3() -> Any:
    """A client of our own for the S3 server the settings point at (to list and tamper)."""
    options = s3_options()
    return boto3.client(
        "s3",
        endpoint_url=options["endpoint_url"],
        region_name=options["region_name"],
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
    )


def new_bucket(s3: Any) -> str:
    name = f"so-pipeline-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    return name


def drop_bucket(s3: Any, name: str) -> None:
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def bucket(s3: Any, settings: Any) -> Iterator[str]:
    """A fresh bucket on the environment's S3 server, used by the app for this test."""
    name = new_bucket(s3)
    settings.S3_BUCKET = name
    yield name
    drop_bucket(s3, name)


@pytest.fixture
def case(patient_a: Any) -> Case:
    case: Case = CaseFactory(patient=patient_a)
    return case


@pytest.fixture
def csrf_client(patient_a: Any) -> Client:
    return login(Client(enforce_csrf_checks=True), patient_a)
