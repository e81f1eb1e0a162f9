from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_email_task(email_id: str) -> str:
    """Send one outbox e-mail (accounts/emails.py). The argument is the row's id, never a link,
    an address or a name: the broker keeps task arguments and Celery logs them."""
    from accounts.emails import outgoing_send

    return outgoing_send(email_id=email_id)


@shared_task
def sweep_outbox_task() -> dict[str, int]:
    """Periodic (CELERY_BEAT_SCHEDULE): send e-mails whose message was lost, and retries."""
    from accounts.emails import outbox_sweep

    return outbox_sweep()
