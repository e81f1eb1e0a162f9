from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_expired_task() -> dict[str, Any]:
    """Daily: purge the closed cases whose retention period has ended (audit/retention.py)."""
    from audit.retention import purge_expired

    return purge_expired()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5, default_retry_delay=60)
def erasure_run_task(self, request_id: str) -> None:  # type: ignore[no-untyped-def]
    """Carry out an approved erasure request (audit/erasure.py); idempotent, so a retry is safe."""
    from audit.erasure import erasure_run

    try:
        erasure_run(request_id=request_id)
    except Exception as exc:  # storage hiccup: the request stays approved and is retried
        raise self.retry(exc=exc) from exc


@shared_task
def sweep_erasures_task() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): run approved erasures whose run was lost."""
    from audit.erasure import erasure_sweep

    return erasure_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def audit_checkpoint_task() -> dict[str, Any]:
    """Hourly: verify the chain and write a signed checkpoint of its head to the object store."""
    from audit.checkpoint import checkpoint_write

    return checkpoint_write()
