"""Helpers for tests that write audit checkpoints: the test bucket outlives each test's
database, so checkpoints are removed before and after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audit.checkpoint import PREFIX
from core import storage


def _remove_all() -> None:
    for name in storage.names(PREFIX):
        storage.delete(name)


@pytest.fixture
def no_checkpoints() -> Iterator[None]:
    _remove_all()
    yield
    _remove_all()
