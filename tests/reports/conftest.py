from __future__ import annotations

from typing import Any

import pytest

from core.keyring import KeyRing
from tests.factories import publish_consent_v1


@pytest.fixture
def consent(db: Any) -> Any:
    return publish_consent_v1()


@pytest.fixture(autouse=True)
def keyring(pipeline_keyring: KeyRing) -> KeyRing:
    """The shared key ring (a worker subprocess has it too) for every report test; the S3 client
    and a fresh bucket per test are tests/fixtures/storage.py's `s3` and `bucket`."""
    return pipeline_keyring
