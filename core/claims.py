"""Work that a worker takes by a conditional UPDATE and a sweeper recovers.

A row's work is either waiting (nobody holds it) or held (a worker claimed it at `claimed_at`).
`claim()` takes it with one UPDATE whose WHERE says "waiting, or held longer than `timeout`, and
attempts left": of two workers only one gets a row count of 1. The sweeper (`stuck()`) re-queues
what a lost message or a dead worker left: waiting since `lost_after` after it was queued, or
held past `timeout`; `exhausted()` lists what used up its attempts and nobody holds any more.
Used by the upload pipeline (uploads/services.py) and the report renderer (reports/rendering.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


@dataclass(frozen=True)
class Claims:
    model: type[models.Model]
    waiting: Q  # the work is to be done and nobody holds it
    held: Q  # the work is to be done and a worker holds it
    queued_at: str  # field: when the work was queued
    timeout: timedelta
    lost_after: timedelta
    max_attempts: int
    claimed_at: str = "claimed_at"
    attempts: str = "attempts"
    on_claim: dict[str, Any] = field(default_factory=dict)  # also set when claiming (a status)

    def claim(self, pk: uuid.UUID | str) -> bool:
        """Take the row for this worker; False if another has it or it has no attempts left."""
        now = timezone.now()
        takeable = self.waiting | (self.held & Q(**{f"{self.claimed_at}__lt": now - self.timeout}))
        rows = self.model._default_manager.filter(
            takeable, pk=pk, **{f"{self.attempts}__lt": self.max_attempts}
        ).update(**{self.claimed_at: now, self.attempts: F(self.attempts) + 1}, **self.on_claim)
        return rows == 1

    def stuck(self) -> list[Any]:
        """Primary keys to queue again: their message was lost, or their worker died."""
        now = timezone.now()
        lost = (self.waiting & Q(**{f"{self.queued_at}__lt": now - self.lost_after})) | (
            self.held & Q(**{f"{self.claimed_at}__lt": now - self.timeout})
        )
        return list(
            self.model._default_manager.filter(lost, **{f"{self.attempts}__lt": self.max_attempts}).values_list(
                "pk", flat=True
            )
        )

    def exhausted(self) -> list[Any]:
        """Primary keys that used up their attempts and that no worker is still working on."""
        now = timezone.now()
        return list(
            self.model._default_manager.filter(self.waiting | self.held, **{f"{self.attempts}__gte": self.max_attempts})
            .exclude(self.held & Q(**{f"{self.claimed_at}__gte": now - self.timeout}))
            .values_list("pk", flat=True)
        )
