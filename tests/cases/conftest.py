from __future__ import annotations

import importlib
from typing import Any

import pytest

from cases.models import ConsentVersion


@pytest.fixture
def consent_version(db: Any) -> ConsentVersion:
    # Transactional tests flush every table afterwards, so the version the data migration
    # published may be gone: publish it again, with the migration's own texts.
    migration = importlib.import_module("cases.migrations.0002_consent_v1")
    version, _ = ConsentVersion.objects.get_or_create(
        version=1, defaults={"text_en": migration.TEXT_EN, "text_es": migration.TEXT_ES}
    )
    return version
