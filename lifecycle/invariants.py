"""The lifecycle's part of `manage.py check_invariants` (uploads/invariants.py), registered from
LifecycleConfig.ready()."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils.translation import gettext_noop

from lifecycle.models import DeletionRequest, DeletionStatus
from uploads.invariants import contribute


@contribute("erasure_not_done", gettext_noop("approved erasure requests not carried out"))
def erasures_not_done(cutoff: datetime) -> Iterable[str]:
    """Erasures approved before the cutoff and not carried out (the sweeper retries them)."""
    return (str(pk) for pk in DeletionRequest.objects.filter(
        status=DeletionStatus.APPROVED, decided_at__lt=cutoff).values_list("pk", flat=True))
