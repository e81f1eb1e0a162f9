"""Run one fuzz target under atheris (coverage-guided libFuzzer) for a bounded time.

    python -m fuzz.run TARGET [libFuzzer options] [corpus dirs]   e.g. -max_total_time=60

Run by `make fuzz`, which seeds fuzz/work/<target>/ from the test corpus first.
"""

from __future__ import annotations

import os
import sys

import atheris
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondopinion.settings")
django.setup()

with atheris.instrument_imports(include=["uploads", "fuzz"]):
    from fuzz.targets import TARGETS


def main() -> None:
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
