from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac
from django.utils.translation import gettext_lazy as _

from core import keyring
from core.crypto import KEY_SIZE, DecryptionError


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    SPECIALIST = "specialist", _("Specialist")
    ADMIN = "admin", _("Administrator")


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class Specialty(models.TextChoices):
    ONCOLOGY = "oncology", _("Oncology")
    CARDIOLOGY = "cardiology", _("Cardiology")
    NEUROLOGY = "neurology", _("Neurology")
    GENERAL_SURGERY = "general_surgery", _("General surgery")
    RHEUMATOLOGY = "rheumatology", _("Rheumatology and immunology")
    DERMATOLOGY = "dermatology", _("Dermatology")
    ORTHOPAEDICS = "orthopaedics", _("Orthopaedics")
    RADIOLOGY = "radiology", _("Radiology")
    INTERNAL_MEDICINE = "internal_medicine", _("Internal medicine")


class Sex(models.TextChoices):
    """Sex recorded at birth, as a specialist needs it (FHIR maps it to Patient.gender)."""

    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    INTERSEX = "intersex", _("Intersex")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)  # None gives an unusable password (invited users)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(role=Role.ADMIN, is_staff=True, is_superuser=True, email_verified=True)
        return self.create_user(email, password, **extra)


def _new_security_stamp() -> str:
    return get_random_string(32)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PATIENT)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH)
    email_verified = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)  # Django admin access, not our "staff" roles
    date_joined = models.DateTimeField(default=timezone.now)
    invited_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Changing the stamp logs the user out everywhere (see get_session_auth_hash).
    security_stamp = models.CharField(max_length=32, default=_new_security_stamp)
    # An IANA zone ("Europe/Madrid") the pages and e-mails show times in; "" until known (the
    # browser tells it at sign-in, the person may change it): then UTC.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # A patient's, asked once (the first case or the account page); shown to the specialist.
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, blank=True)
    gender_identity = models.CharField(_("gender identity"), max_length=100, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        # Never the name or e-mail: __str__ ends up in logs and audit details.
        return f"user:{self.pk}"

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_specialist(self) -> bool:
        return self.role == Role.SPECIALIST

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_care_staff(self) -> bool:
        """Specialists and admins: MFA is mandatory and the idle timeout is shorter."""
        return self.role in (Role.SPECIALIST, Role.ADMIN)

    @property
    def age(self) -> int | None:
        """Whole years today, from the date of birth (None when unknown)."""
        if self.birth_date is None:
            return None
        today = timezone.localdate()
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def get_session_auth_hash(self) -> str:
        # Django invalidates sessions whose stored hash no longer matches. Including the
        # security stamp ends every session when a factor changes or an admin acts.
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.security_stamp}",
            algorithm="sha256",
        ).hexdigest()

    def end_all_sessions(self) -> None:
        self.security_stamp = _new_security_stamp()
        self.save(update_fields=["security_stamp"])


class SpecialistProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="specialist_profile")
    licence_number = models.CharField(_("licence number"), max_length=64)
    # Specialty codes and ISO 3166 country/region codes where the specialist is licensed.
    specialties = models.JSONField(default=list)
    jurisdictions = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"specialist:{self.user_id}"

    def specialty_labels(self) -> list[str]:
        labels = dict(Specialty.choices)
        return [str(labels.get(code, code)) for code in self.specialties]


class OutgoingEmail(models.Model):
    """The intent to send one e-mail (accounts/emails.py): which message, to whom, about which
    objects. Written in the transaction of the action it announces; the worker renders and sends it.

    Never the text: links with reset, invitation or verification tokens are made when the message
    is sent, so they exist only in the e-mail that leaves, not in this table, the broker or a log.
    `params` holds ids and codes only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # None: a decoy with the same cost for an address without an account (emails.email_nobody).
    user = models.ForeignKey(User, null=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64)  # the template name: "password-reset", "case-status", ...
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # A worker's claim (conditional UPDATE); a claim older than WORK_CLAIM_TIMEOUT is taken again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set once the message has left (or will never be sent: recipient inactive, too many failures).
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, blank=True)  # "sent", "skipped", "failed"

    class Meta:
        indexes = [models.Index(fields=["done_at", "next_attempt_at"], name="outbox_pending_idx")]

    def __str__(self) -> str:
        return f"email:{self.pk}:{self.kind}"


class PatientKeyQuerySet(models.QuerySet["PatientKey"]):
    def live(self) -> PatientKeyQuerySet:
        return self.filter(destroyed_at__isnull=True)

    def for_patient(self, patient: User) -> PatientKey:
        """The patient's live key, created on first use; two requests racing get the same key."""
        return self.for_patient_id(patient.pk)

    def for_patient_id(self, patient_id: uuid.UUID) -> PatientKey:
        if key := self.live().filter(patient_id=patient_id).first():
            return key
        # Wrap before any database work: with KMS this is a network call.
        kek_id, wrapped = keyring.wrap_patient_key(secrets.token_bytes(KEY_SIZE), patient_id)
        try:
            with transaction.atomic():  # a savepoint, so a caller's transaction survives losing the race
                return self.create(patient_id=patient_id, kek_id=kek_id, wrapped_key=wrapped)
        except IntegrityError:  # the one-live-key constraint: another request created it first
            return self.live().get(patient_id=patient_id)


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
        db_table = "uploads_patientkey"  # made in the uploads app, which once held it
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
        from accounts.sealing import forget_keys  # sealing imports this module

        forget_keys()  # no text of this patient decrypts in this request any more either
