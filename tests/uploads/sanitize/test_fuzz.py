"""Mutated inputs must end as a sanitised copy or a Rejected, never another exception: a parser
crash would fail the task for the wrong reason (SECURITY.md rows 15 and 35). Fixed seeds, so a
failure reproduces."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.uploads.sanitize import corpus
from uploads.sanitize import Rejected, sanitize


@dataclass
class Seed:
    make: Callable[[], bytes]
    count: int
    keep: int  # leading bytes left alone, so the magic still routes each variant to its parser
    end: int | None = None  # mutate only before this offset
    fix: Callable[[bytes], bytes] = lambda data: data


SEEDS = {
    # CT_small's header ends at 6,300 bytes; past it, mutations only change pixel values.
    "dicom": Seed(corpus.dicom_bytes, 200, keep=132, end=6300),
    "dicom-multiframe": Seed(lambda: corpus.dicom_bytes("rtdose.dcm"), 100, keep=132),
    "dicom-jpeg2000": Seed(lambda: corpus.dicom_bytes("JPEG2000.dcm"), 100, keep=132),
    "jpeg": Seed(corpus.phone_jpeg, 100, keep=3),
    "png": Seed(lambda: corpus.encode(corpus.page((320, 240)), "PNG"), 100, keep=8, fix=corpus.fix_png_crcs),
    "pdf": Seed(corpus.active_pdf, 100, keep=5),
    "pdf-object-streams": Seed(lambda: corpus.active_pdf(object_streams=True), 100, keep=5),
}


@pytest.mark.parametrize("kind", SEEDS)
def test_mutated_inputs_are_sanitised_or_rejected(kind: str) -> None:
    seed = SEEDS[kind]
    outcomes: dict[str, int] = {}
    crashes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom and pikepdf warn loudly about damage
        for i, variant in enumerate(
            corpus.mutations(seed.make(), seed.count, seed=20240601, keep=seed.keep, end=seed.end)
        ):
            try:
                sanitize(seed.fix(variant))
                outcome = "accepted"
            except Rejected as e:
                outcome = e.code
            except Exception as e:  # the bug this test hunts
                crashes.append(f"variant {i}: {type(e).__name__}: {e}")
                continue
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert not crashes, crashes
    assert sum(outcomes.values()) == seed.count
