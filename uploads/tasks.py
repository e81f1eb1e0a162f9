from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=4, default_retry_delay=30)
def validate_upload_task(self, upload_id: str) -> None:  # type: ignore[no-untyped-def]
    from uploads.services import upload_fail, upload_process

    try:
        upload_process(upload_id=upload_id)
    except Exception as exc:  # storage, scanner or broker hiccup: try again, then give up visibly
        if self.request.retries >= self.max_retries:
            upload_fail(upload_id=upload_id)
            return
        raise self.retry(exc=exc) from exc


@shared_task
def sweep_uploads_task() -> dict[str, int]:
    from uploads.services import uploads_sweep

    return uploads_sweep()
