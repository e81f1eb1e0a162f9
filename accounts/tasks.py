from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_email_task(user_id: str, name: str, ctx: dict[str, Any]) -> None:
    from accounts.emails import email_user_send
    from accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None:
        email_user_send(user=user, name=name, ctx=ctx)
