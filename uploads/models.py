from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import keyring
from core.crypto import KEY_SIZE, DecryptionError

if TYPE_CHECKING:
    from accounts.models import User


class PatientKeyQuerySet(models.QuerySet["PatientKey"]):
    def live(self) -> PatientKeyQuerySet:
        return self.filter(destroyed_at__isnull=True)

    def for_patient(self, patient: User) -> PatientKey:
        """The patient's live key, created on first use; two requests racing get the same key."""
        if key := self.live().filter(patient=patient).first():
            return key
        # Wrap before any database work: with KMS this is a network call.
        kek_id, wrapped = keyring.wrap_patient_key(secrets.token_bytes(KEY_SIZE), patient.pk)
        try:
            with transaction.atomic():  # a savepoint, so a caller's transaction survives losing the race
                return self.create(patient=patient, kek_id=kek_id, wrapped_key=wrapped)
        except IntegrityError:  # the one-live-key constraint: another request created it first
            return self.live().get(patient=patient)


class PatientKey(models.Model):
    """A patient's random 256-bit key, stored only wrapped by a master key (core.keyring).

    It wraps the data key of every object of that patient, so destroying it makes all of
    them unreadable (crypto-shredding).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Null once an erased patient's account is deleted: the destroyed key's row stays as a record.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="patient_keys"
    )
    kek_id = models.CharField(max_length=255)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    objects = PatientKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(destroyed_at__isnull=True), name="uploads_one_live_key_per_patient"
            ),
            models.CheckConstraint(
                condition=Q(destroyed_at__isnull=True) | Q(wrapped_key=b""), name="uploads_destroyed_key_is_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"PatientKey {self.id}"

    def unwrap(self) -> bytes:
        if self.destroyed_at is not None or self.patient_id is None:
            raise DecryptionError("the patient key was destroyed")
        return keyring.unwrap_patient_key(self.kek_id, bytes(self.wrapped_key), self.patient_id)

    def rewrap(self) -> bool:
        """Re-wrap under the current master key; False if it was destroyed or re-wrapped meanwhile."""
        key = self.unwrap()
        assert self.patient_id is not None  # unwrap() refused a destroyed key
        kek_id, wrapped = keyring.wrap_patient_key(key, self.patient_id)
        stored = PatientKey.objects.live().filter(id=self.id, kek_id=self.kek_id, wrapped_key=bytes(self.wrapped_key))
        if stored.update(kek_id=kek_id, wrapped_key=wrapped) != 1:
            return False
        self.kek_id, self.wrapped_key = kek_id, wrapped
        return True

    def destroy(self) -> None:
        """Crypto-shredding: without the wrapped key nothing of this patient can be decrypted."""
        self.wrapped_key = b""
        self.destroyed_at = timezone.now()
        self.save(update_fields=["wrapped_key", "destroyed_at"])


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
