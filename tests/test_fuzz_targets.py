"""The `make fuzz` harness stays runnable: every target takes its seeds and a few mutants."""

from __future__ import annotations

import pytest

from fuzz.seeds import seeds
from fuzz.targets import TARGETS
from tests.uploads.sanitize import corpus


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_each_target_takes_its_seeds_and_mutants(target: str) -> None:
    for seed in seeds()[target]:
        for data in [seed, *corpus.mutations(seed, 5, seed=7, keep=min(8, len(seed) - 1))]:
            TARGETS[target](data)
