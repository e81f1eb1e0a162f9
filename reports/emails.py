"""The specialists' digest of new cases in their queue (CELERY_BEAT_SCHEDULE "queue-digest"): at
most one e-mail an hour, a count and a link, never a case's content or reference."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.urls import reverse
from django.utils import timezone

from accounts.emails import email_kind, email_user
from accounts.models import OutgoingEmail, Role, User
from cases.models import Case

DIGEST = "queue-digest"
# A specialist never digested before hears of the cases of the last day, not of the whole backlog.
FIRST_LOOK_BACK = timedelta(days=1)


@email_kind(DIGEST)
def _digest(user: User, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "count": int(params["count"]),
        "waiting": Case.objects.claimable_by(user).count(),
        "path": reverse("reports:queue"),
    }


def queue_digest(*, now: datetime | None = None) -> int:
    """E-mail each active specialist how many cases reached their queue since their last digest.
    Returns how many e-mails were queued."""
    now = now or timezone.now()
    sent = 0
    specialists = (
        User.objects.filter(role=Role.SPECIALIST, is_active=True, specialist_profile__isnull=False)
        .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .select_related("specialist_profile")
    )
    for specialist in specialists:
        last = (
            OutgoingEmail.objects.filter(user=specialist, kind=DIGEST)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        since = last or now - FIRST_LOOK_BACK
        new = Case.objects.claimable_by(specialist).filter(submitted_at__gt=since, submitted_at__lte=now).count()
        if new:
            email_user(user=specialist, name=DIGEST, params={"count": new})
            sent += 1
    return sent
