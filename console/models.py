from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditReview(models.Model):
    """The monthly audit review an admin signs off: which checks were done, and when. (Moved from
    audit, which holds the trail only; the table keeps its name.)"""

    month = models.DateField(unique=True)  # first day of the reviewed month
    checks = models.JSONField(default=list)  # codes of the checklist items confirmed
    note = models.TextField(max_length=2000, blank=True)  # the admin's words, no patient data
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "audit_auditreview"
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"audit-review:{self.month:%Y-%m}"
