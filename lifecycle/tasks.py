"""The lifecycle's tasks: the daily retention purge and the erasure runs.

They moved here from audit/tasks.py (issue 14) but keep their registered names
("audit.tasks.…", given with `name=`): messages already queued under those names when the new
code is deployed, by beat or by an approval, and messages a not-yet-restarted worker receives
from new web processes during a rolling deploy, are all still understood. Renaming them would
need a release that registers both names first.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from lifecycle.erasure import erasure_run, erasure_sweep
from lifecycle.retention import purge_expired


@shared_task(name="audit.tasks.purge_expired_task", acks_late=True, reject_on_worker_lost=True)
def purge_expired_task() -> dict[str, Any]:
    """Daily: purge the closed cases whose retention period has ended (lifecycle/retention.py)."""
    return purge_expired()


@shared_task(
    name="audit.tasks.erasure_run_task",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    default_retry_delay=60,
)
def erasure_run_task(self, request_id: str) -> None:  # type: ignore[no-untyped-def]
    """Carry out an approved erasure request (lifecycle/erasure.py); idempotent, so a retry is safe."""
    try:
        erasure_run(request_id=request_id)
    except Exception as exc:  # storage hiccup: the request stays approved and is retried
        raise self.retry(exc=exc) from exc


@shared_task(name="audit.tasks.sweep_erasures_task")
def sweep_erasures_task() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): run approved erasures whose run was lost."""
    return erasure_sweep()
