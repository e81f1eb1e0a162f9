"""Fixtures for the pipeline tests: every test here uses the key ring the worker subprocess is
given. The S3 server, a bucket per test (tests/fixtures/storage.py) and the real clamd
(tests/fixtures/clamd.py) come through pytest_plugins in tests/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from cases.models import Case
from core.keyring import KeyRing
from tests.factories import CaseFactory, login


@pytest.fixture(autouse=True)
def keyring(pipeline_keyring: KeyRing) -> KeyRing:
    """Overrides tests/uploads/conftest.py's fresh ring per test with one the worker shares."""
    return pipeline_keyring


@pytest.fixture
def case(patient_a: Any) -> Case:
    case: Case = CaseFactory(patient=patient_a)
    return case


@pytest.fixture
def csrf_client(patient_a: Any) -> Client:
    return login(Client(enforce_csrf_checks=True), patient_a)
