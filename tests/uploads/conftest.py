from __future__ import annotations

from typing import Any

import pytest

from core.keyring import KeyRing


@pytest.fixture(autouse=True)
def keyring(settings: Any) -> KeyRing:
    """A fresh local key ring for each test, and no KMS."""
    settings.KEYRING = KeyRing.generate("test-1")
    settings.KMS_KEY_ID = ""
    return settings.KEYRING
