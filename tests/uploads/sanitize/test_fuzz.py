"""Mutated inputs must end as a sanitised copy or a Rejected, never another exception: a parser
crash would fail the task for the wrong reason (SECURITY.md rows 15 and 35)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest

from tests.uploads.sanitize import corpus
from uploads.sanitize import Rejected, sanitize

SEEDS: dict[str, tuple[Callable[[], bytes], int, int]] = {
    # name: (seed file, variants, leading bytes left alone so the magic still routes it)
    "dicom": (corpus.dicom_bytes, 200, 132),
    "jpeg": (lambda: corpus.phone_jpeg(), 100, 3),
    "png": (lambda: corpus.encode(corpus.page((320, 240)), "PNG"), 100, 8),
    "pdf": (corpus.active_pdf, 100, 5),
}


@pytest.mark.parametrize("kind", SEEDS)
def test_mutated_inputs_are_sanitised_or_rejected(kind: str) -> None:
    make, count, keep = SEEDS[kind]
    outcomes: dict[str, int] = {}
    crashes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom and pikepdf warn loudly about damage
        for i, variant in enumerate(corpus.mutations(make(), count, seed=20240601, keep=keep)):
            try:
                sanitize(variant)
                outcome = "accepted"
            except Rejected as e:
                outcome = e.code
            except Exception as e:  # the bug this test hunts
                crashes.append(f"variant {i}: {type(e).__name__}: {e}")
                continue
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert not crashes, crashes
    assert sum(outcomes.values()) == count
