from __future__ import annotations

from typing import Any

from celery import shared_task

from secondopinion.invariants import check_and_report


@shared_task
def check_invariants_task() -> dict[str, Any]:
    """Daily (beat): the storage check over every app's rows (secondopinion/invariants.py)."""
    return check_and_report()
