"""The lifecycle's part of the storage check (secondopinion/invariants.py runs it): erasures
approved and not carried out (the sweeper retries them)."""

from __future__ import annotations

from core.invariants import Findings, Store
from lifecycle.models import DeletionRequest, DeletionStatus


def check(store: Store, found: Findings) -> None:
    found.add(
        "erasure_not_done",
        (
            str(pk)
            for pk in DeletionRequest.objects.filter(
                status=DeletionStatus.APPROVED, decided_at__lt=store.cutoff
            ).values_list("pk", flat=True)
        ),
    )
