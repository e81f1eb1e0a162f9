"""What the apps above cases add to cases' own pages (the files a case has, its reports).

cases imports no app above it. A page here that shows their data asks `context(page, ...)`, and
each app above contributes a builder from its AppConfig.ready() with `@contributes_to(page)`
(uploads/panels.py, reports/panels.py). A builder returns template context for the page; keys
must not collide between contributors. `user` is None when no one is looking (a service).

Pages: "detail" (the case page), "submitted" (the receipt page), "check" (before submitting:
key "warnings", what a specialist will probably miss) and "intake-<step slug>" (an intake step;
the measurements step takes key "photos", the choices for a measurement's photo).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from cases.models import Case

Builder = Callable[[Case, Any], dict[str, Any]]

_builders: defaultdict[str, list[Builder]] = defaultdict(list)


def contributes_to(*pages: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        for page in pages:
            if builder not in _builders[page]:
                _builders[page].append(builder)
        return builder

    return register


def context(page: str, case: Case, user: Any = None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for builder in _builders[page]:
        merged.update(builder(case, user))
    return merged
