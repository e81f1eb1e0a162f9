"""What is kept, and the proof of what was destroyed: retention policies, erasure requests and
deletion certificates. Moved here from audit (issue 14); the tables keep their audit_ names."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RetentionPolicy(models.Model):
    """How long a closed case is kept, per country of the patient ("" is the default for the
    countries without their own policy). The daily purge reads these."""

    country = models.CharField(max_length=2, blank=True, unique=True)  # ISO 3166-1 alpha-2, "" = default
    keep_days = models.PositiveIntegerField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "audit_retentionpolicy"
        ordering = ["country"]

    def __str__(self) -> str:
        return f"retention:{self.country or 'default'}"


class DeletionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved, being carried out")
    REFUSED = "refused", _("Refused")
    DONE = "done", _("Done")


class DeletionRequest(models.Model):
    """A patient's request to erase their data (GDPR Art. 17). `patient_ref` outlives the account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="deletion_requests"
    )
    patient_ref = models.UUIDField()  # the patient's id, kept after the account is deleted
    keep_account = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=DeletionStatus.choices, default=DeletionStatus.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_approved = models.BooleanField(default=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal_code = models.CharField(max_length=32, blank=True)  # e.g. "legal_hold"
    completed_at = models.DateTimeField(null=True, blank=True)
    certificate = models.OneToOneField(
        "DeletionCertificate", null=True, blank=True, on_delete=models.PROTECT, related_name="request"
    )

    class Meta:
        db_table = "audit_deletionrequest"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient_ref"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="audit_one_open_deletion_request",
            ),
        ]

    def __str__(self) -> str:
        return f"deletion-request:{self.pk}"


class DeletionCertificate(models.Model):
    """Signed proof of what was destroyed: `content` is the canonical JSON the Ed25519
    signature covers (core/signing.py, purpose "deletion-certificate"). Never clinical text,
    never a name: case references, file ids, SHA-256s, key ids, times and the approver."""

    class Kind(models.TextChoices):
        ERASURE = "erasure", _("Erasure on request")
        RETENTION = "retention", _("Retention period ended")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    patient_ref = models.UUIDField()
    issued_at = models.DateTimeField(default=timezone.now)
    content = models.TextField()  # canonical JSON, exactly the signed bytes (UTF-8)
    signature = models.CharField(max_length=128)
    key_id = models.CharField(max_length=16)

    class Meta:
        db_table = "audit_deletioncertificate"
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["patient_ref", "issued_at"], name="audit_delet_patient_14309f_idx")]

    def __str__(self) -> str:
        return f"deletion-certificate:{self.pk}"
