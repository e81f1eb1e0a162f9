from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=4, default_retry_delay=30)
def render_document_task(self, document_id: str) -> None:  # type: ignore[no-untyped-def]
    """Render a signed document's PDF (reports.rendering). Idempotent; the sweeper re-queues
    documents left pending."""
    from reports.rendering import document_render, document_render_failed

    try:
        document_render(document_id=document_id)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            document_render_failed(document_id=document_id)
            return
        raise self.retry(exc=exc) from exc


@shared_task
def sweep_documents_task() -> dict[str, int]:
    """Periodic (CELERY_BEAT_SCHEDULE): re-queue documents whose render was lost."""
    from reports.rendering import documents_sweep

    return documents_sweep()


@shared_task
def close_quiet_cases_task() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): close the cases whose announced closing day has passed."""
    from reports.services import close_quiet_cases

    return close_quiet_cases()


@shared_task
def queue_digest_task() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): tell specialists how many new cases wait in their queue."""
    from reports.emails import queue_digest

    return queue_digest()
