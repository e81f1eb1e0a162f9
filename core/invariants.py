"""What a consistency check found: categories of ids (UUIDs and object names: no patient data).
Each app checks its own rows against the object store (uploads/invariants.py,
reports/invariants.py); secondopinion/invariants.py runs them over one listing of the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Findings:
    items: dict[str, list[str]] = field(default_factory=dict)
    objects: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # rows checked, per kind ("uploads", ...)

    def add(self, category: str, ids: Iterable[str]) -> None:
        ids = sorted(ids)
        if ids:
            self.items[category] = sorted([*self.items.get(category, []), *ids])

    @property
    def ok(self) -> bool:
        return not self.items


@dataclass(frozen=True)
class Store:
    """One listing of the object store: name -> last modified, per prefix; and the check's clock.
    Rows newer than `now` are left for the next run; work younger than `cutoff` may be under way."""

    objects: dict[str, dict[str, datetime]]
    now: datetime
    cutoff: datetime
