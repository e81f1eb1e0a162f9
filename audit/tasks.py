from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]  # Celery has no hints
def audit_checkpoint_task() -> dict[str, Any]:
    """Hourly: verify the chain and write a signed checkpoint of its head to the object store."""
    from audit.checkpoint import checkpoint_write

    return checkpoint_write()
