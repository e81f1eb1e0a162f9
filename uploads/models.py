from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import PatientKey


class UploadStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    SCANNING = "scanning", _("Checking")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class Kind(models.TextChoices):
    IMAGE = "image", _("Photo")
    PDF = "pdf", _("PDF document")
    DICOM = "dicom", _("Imaging (DICOM)")
    ARCHIVE = "archive", _("Folder of imaging (ZIP)")


class UploadQuerySet(models.QuerySet["Upload"]):
    def counted(self) -> UploadQuerySet:
        """What counts against the case's quota: everything the patient sent, not derived rows."""
        return self.filter(parent__isnull=True).exclude(status=UploadStatus.REJECTED)


class Upload(models.Model):
    """One file a patient sent, and the sanitised copy we keep of it.

    `raw/<id>` holds the encrypted bytes as received until a worker has validated them;
    `files/<id>` holds the encrypted sanitised copy, `thumbs/<id>` its thumbnail. Each object
    has its own data key, wrapped by the patient key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="uploads")
    patient_key = models.ForeignKey(PatientKey, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="members")
    original_name = models.CharField(max_length=255)  # for display only, never a path
    declared_type = models.CharField(max_length=100, blank=True)  # what the browser said; not trusted
    size = models.BigIntegerField()  # bytes the patient sent
    sha256 = models.CharField(max_length=64)  # of what the patient sent, shown on the receipt
    status = models.CharField(max_length=10, choices=UploadStatus.choices, default=UploadStatus.RECEIVED)
    reject_code = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    raw_wrapped_key = models.BinaryField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, blank=True)
    mime = models.CharField(max_length=64, blank=True)
    stored_wrapped_key = models.BinaryField(null=True, blank=True)
    stored_size = models.BigIntegerField(null=True, blank=True)
    thumb_wrapped_key = models.BinaryField(null=True, blank=True)
    hints = models.JSONField(default=list, blank=True)
    info = models.JSONField(default=dict, blank=True)  # technical facts only (size, pages, modality, series)

    objects = UploadQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "original_name"]
        indexes = [models.Index(fields=["case", "created_at"]), models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Upload {self.id}"

    @property
    def raw_name(self) -> str:
        return f"raw/{self.id}"

    @property
    def stored_name(self) -> str:
        return f"files/{self.id}"

    @property
    def thumb_name(self) -> str:
        return f"thumbs/{self.id}"

    @property
    def status_label(self) -> str:
        """The status as the patient reads it: a CD's index we do not keep is not something they did wrong."""
        if self.reject_code == "dicomdir":
            return str(_("Not needed"))
        return str(self.get_status_display())

    @property
    def is_final(self) -> bool:
        return self.status in (UploadStatus.ACCEPTED, UploadStatus.REJECTED)
