from __future__ import annotations

import secrets
import uuid
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.models import Specialty
from accounts.sealing import field_key_for
from core.fieldcrypt import SealedCharField, SealedTextField

# Crockford-style alphabet without look-alikes (no 0/O, 1/I/L, U).
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_QUESTIONS = 10
TEXT_LIMIT = 4000
SHORT_TEXT_LIMIT = 300


def new_reference() -> str:
    """A short, unambiguous, unguessable reference like SO-7K4M-Q2XP (30^8 ≈ 6.5e11)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"SO-{chars[:4]}-{chars[4:]}"


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    TRIAGE = "triage", _("Being routed to a specialist")
    ASSIGNED = "assigned", _("Assigned to a specialist")
    IN_REVIEW = "in_review", _("In review")
    AWAITING_PATIENT = "awaiting_patient", _("Waiting for your answer")
    REPORT_READY = "report_ready", _("Report ready")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = {
    Status.DRAFT,
    Status.SUBMITTED,
    Status.TRIAGE,
    Status.ASSIGNED,
    Status.IN_REVIEW,
    Status.AWAITING_PATIENT,
    Status.REPORT_READY,
}

# The allowed moves of the case lifecycle (DESIGN.md "Case lifecycle"). Withdrawal is allowed
# from every open state.
TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.SUBMITTED},
    Status.SUBMITTED: {Status.TRIAGE, Status.ASSIGNED},
    Status.TRIAGE: {Status.ASSIGNED},
    Status.ASSIGNED: {Status.IN_REVIEW, Status.TRIAGE},
    Status.IN_REVIEW: {Status.AWAITING_PATIENT, Status.REPORT_READY},
    Status.AWAITING_PATIENT: {Status.IN_REVIEW},
    # A patient may ask a second specialist for an opinion on the same case (round 2).
    Status.REPORT_READY: {Status.CLOSED, Status.TRIAGE},
    Status.CLOSED: {Status.TRIAGE},
    Status.WITHDRAWN: set(),
}
for _open in OPEN_STATUSES:
    TRANSITIONS[_open] = TRANSITIONS[_open] | {Status.WITHDRAWN}


class RequestedSpecialty(models.TextChoices):
    ONCOLOGY = Specialty.ONCOLOGY.value, Specialty.ONCOLOGY.label
    CARDIOLOGY = Specialty.CARDIOLOGY.value, Specialty.CARDIOLOGY.label
    NEUROLOGY = Specialty.NEUROLOGY.value, Specialty.NEUROLOGY.label
    GENERAL_SURGERY = Specialty.GENERAL_SURGERY.value, Specialty.GENERAL_SURGERY.label
    RHEUMATOLOGY = Specialty.RHEUMATOLOGY.value, Specialty.RHEUMATOLOGY.label
    DERMATOLOGY = Specialty.DERMATOLOGY.value, Specialty.DERMATOLOGY.label
    ORTHOPAEDICS = Specialty.ORTHOPAEDICS.value, Specialty.ORTHOPAEDICS.label
    RADIOLOGY = Specialty.RADIOLOGY.value, Specialty.RADIOLOGY.label
    INTERNAL_MEDICINE = Specialty.INTERNAL_MEDICINE.value, Specialty.INTERNAL_MEDICINE.label
    NOT_SURE = "not_sure", _("Not sure — route me to the right specialist")


class RedFlag(models.TextChoices):
    CHEST_PAIN = "chest_pain", _("Chest pain or pressure, especially spreading to the arm, jaw or back")
    STROKE = "stroke", _("Face drooping, arm weakness, slurred speech or sudden confusion")
    BLEEDING = "bleeding", _("Heavy bleeding that does not stop")
    BREATHING = "breathing", _("Severe difficulty breathing")
    SUICIDAL = "suicidal", _("Thoughts of ending your life or harming yourself")
    CONSCIOUSNESS = "consciousness", _("Fainting, seizures or being very hard to wake")
    SEVERE_PAIN = "severe_pain", _("Sudden, very severe pain (head, belly or elsewhere)")


class LegalHoldReason(models.TextChoices):
    """Why an admin put a case on legal hold; shown to the patient when it stops an erasure."""

    LITIGATION = "litigation", _("a legal claim or court proceedings")
    REGULATOR = "regulator", _("a request from a regulator or authority")
    COMPLAINT = "complaint", _("a complaint under investigation")
    OTHER = "other", _("another legal obligation")


class SpecialtySetting(models.Model):
    """Per-specialty service level: how long a second opinion should take."""

    specialty = models.CharField(max_length=32, choices=RequestedSpecialty.choices, unique=True)
    turnaround_hours = models.PositiveIntegerField(default=72, validators=[MinValueValidator(1)])
    # What the patient pays for a second opinion of this specialty, in settings.FEE_CURRENCY;
    # None: not set (the pages then say the fee is confirmed before anything is charged).
    fee = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)])

    @classmethod
    def turnaround_for(cls, specialty: str) -> timedelta:
        row = cls.objects.filter(specialty=specialty).first()
        return timedelta(hours=row.turnaround_hours if row else settings.DEFAULT_TURNAROUND_HOURS)


class CaseQuerySet(models.QuerySet["Case"]):
    def open(self) -> CaseQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def unassigned(self) -> CaseQuerySet:
        """Sent, not yet taken, and with the current consent accepted and not withdrawn."""
        current = ConsentVersion.current()
        consented = ConsentAcceptance.objects.filter(
            case=models.OuterRef("pk"), version=current, withdrawn_at__isnull=True
        )
        return self.filter(status__in=[Status.SUBMITTED, Status.TRIAGE], specialist__isnull=True).filter(
            models.Exists(consented)
        )

    def claimable_by(self, specialist: Any) -> CaseQuerySet:
        """The open queue of one specialist: their specialties, where they are licensed, and not a
        case they already gave an opinion on (a second opinion needs another specialist)."""
        profile = getattr(specialist, "specialist_profile", None)
        if profile is None:
            return self.none()
        return (
            self.unassigned()
            .filter(specialty__in=profile.specialties, country__in=profile.jurisdictions)
            .exclude(reports__author=specialist)
        )


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_cases"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    # 1 for the first specialist's report; 2 once the patient asks a second specialist.
    round = models.PositiveSmallIntegerField(default=1)
    # When the case last became closed or withdrawn; retention counts from here.
    closed_at = models.DateTimeField(null=True, blank=True)
    # Legal hold (admins): while a reason is set, neither retention nor erasure deletes the case.
    legal_hold_reason = models.CharField(max_length=20, choices=LegalHoldReason.choices, blank=True)
    legal_hold_note = models.CharField(max_length=500, blank=True)  # the admin's words, never shown to patients
    legal_hold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    legal_hold_at = models.DateTimeField(null=True, blank=True)

    # The patient's own name for the case ("Mole on my back"), shown only to them; may be empty.
    title = SealedCharField(_("name of the case"), max_length=100, blank=True)

    # Intake answers
    red_flags = models.JSONField(default=list, blank=True)
    red_flags_answered = models.BooleanField(default=False)
    specialty = models.CharField(_("specialty"), max_length=32, choices=RequestedSpecialty.choices, blank=True)
    # Where the patient lives: a specialist must be licensed there (SpecialistProfile.jurisdictions).
    country = CountryField(_("country"), blank=True)
    reason = SealedTextField(_("reason"), max_length=TEXT_LIMIT, blank=True)
    expectations = SealedTextField(_("expectations"), max_length=TEXT_LIMIT, blank=True)
    first_diagnosis = SealedTextField(max_length=TEXT_LIMIT, blank=True)
    first_treatment = SealedTextField(max_length=TEXT_LIMIT, blank=True)
    first_opinion_by = SealedCharField(max_length=SHORT_TEXT_LIMIT, blank=True)
    first_opinion_year = models.PositiveSmallIntegerField(null=True, blank=True)
    first_opinion_month = models.PositiveSmallIntegerField(null=True, blank=True)
    diagnoses = SealedTextField(max_length=TEXT_LIMIT, blank=True)
    allergies = SealedTextField(max_length=TEXT_LIMIT, blank=True)
    family_history = SealedTextField(max_length=TEXT_LIMIT, blank=True)
    history_done = models.BooleanField(default=False)
    timeline_done = models.BooleanField(default=False)
    measurements_done = models.BooleanField(default=False)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["patient", "-created_at"]),
            models.Index(fields=["specialty", "country", "status", "due_at"]),
        ]

    def __str__(self) -> str:
        return self.reference

    def sealing_key(self) -> bytes:
        return field_key_for(self.patient_id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def on_legal_hold(self) -> bool:
        return bool(self.legal_hold_reason)

    @property
    def is_draft(self) -> bool:
        return self.status == Status.DRAFT

    @property
    def has_red_flags(self) -> bool:
        return bool(self.red_flags)

    def red_flag_labels(self) -> list[str]:
        labels = dict(RedFlag.choices)
        return [str(labels[f]) for f in self.red_flags if f in labels]


class PartialDate(models.Model):
    """A date the patient remembers: the year always, the month and day when known."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    day = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )

    class Meta:
        abstract = True

    def clean(self) -> None:
        if self.year is not None:  # a missing year is reported on the form's date field
            validate_partial_date(self.year, self.month, self.day)

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return (self.year, self.month or 0, self.day or 0)

    def display_date(self) -> str:
        if self.day and self.month:
            return f"{self.day:02d}/{self.month:02d}/{self.year}"
        if self.month:
            return f"{self.month:02d}/{self.year}"
        return str(self.year)


def validate_partial_date(year: int | None, month: int | None, day: int | None) -> None:
    if year is None:
        raise ValidationError(_("Enter the year."))
    if day and not month:
        raise ValidationError(_("Enter the month as well as the day."))
    today = timezone.localdate()
    if year < 1900:
        raise ValidationError(_("The year must be 1900 or later."))
    try:
        earliest = date(year, month or 1, day or 1)
    except ValueError:
        raise ValidationError(_("That date does not exist. Check the day and the month.")) from None
    if earliest > today:
        raise ValidationError(_("The date must be today or in the past."))


class Question(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField(_("question"), max_length=1000)

    class Meta:
        ordering = ["position", "id"]


class Surgery(PartialDate):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="surgeries")
    what = models.CharField(_("surgery or intervention"), max_length=SHORT_TEXT_LIMIT)
    centre = models.CharField(_("hospital or centre"), max_length=SHORT_TEXT_LIMIT, blank=True)

    class Meta:
        ordering = ["year", "month", "day", "id"]


class Medication(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(_("medicine"), max_length=SHORT_TEXT_LIMIT)
    dose = models.CharField(_("dose and how often"), max_length=SHORT_TEXT_LIMIT, blank=True)
    since = models.CharField(_("since when"), max_length=100, blank=True)

    class Meta:
        ordering = ["id"]


class TimelineEntry(PartialDate):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    what = models.TextField(_("what happened"), max_length=TEXT_LIMIT)
    symptoms = models.TextField(_("changes in symptoms"), max_length=TEXT_LIMIT, blank=True)
    response = models.TextField(_("response to treatment"), max_length=TEXT_LIMIT, blank=True)

    class Meta:
        ordering = ["year", "month", "day", "id"]


class MeasurementMethod(models.TextChoices):
    RULER = "ruler", _("Ruler")
    TAPE = "tape", _("Tape measure")
    IMAGING = "imaging", _("Imaging report (scan, ultrasound, X-ray)")
    OTHER = "other", _("Other")


class Unit(models.TextChoices):
    MM = "mm", "mm"
    CM = "cm", "cm"


class Measurement(models.Model):
    """Stored in millimetres; shown in the unit the patient used."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="measurements")
    site = models.CharField(_("site or lesion"), max_length=200)
    value_mm = models.DecimalField(
        max_digits=7, decimal_places=2, validators=[MinValueValidator(0.01), MaxValueValidator(2000)]
    )
    unit = models.CharField(max_length=2, choices=Unit.choices, default=Unit.MM)
    method = models.CharField(max_length=10, choices=MeasurementMethod.choices)
    measured_on = models.DateField()
    photo_id = models.UUIDField(null=True, blank=True)  # an accepted photo of this case (uploads)

    class Meta:
        ordering = ["site", "measured_on", "id"]

    @property
    def display_value(self) -> str:
        value = self.value_mm / 10 if self.unit == Unit.CM else self.value_mm
        return f"{value.normalize():f} {self.unit}"


class ConsentVersion(models.Model):
    """A published consent text. A new version asks open cases to accept again."""

    version = models.PositiveIntegerField(unique=True)
    text_en = models.TextField()
    text_es = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"consent v{self.version}"

    def text_for(self, language: str) -> str:
        return self.text_es if language == "es" else self.text_en

    @classmethod
    def current(cls) -> ConsentVersion | None:
        return cls.objects.order_by("-version").first()


class ConsentAcceptance(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT)
    text_sha256 = models.CharField(max_length=64)
    language = models.CharField(max_length=5)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at"]


class CaseEvent(models.Model):
    """One row per status move: the patient's timeline and the SLA's history."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(max_length=20, choices=Status.choices)
    new_status = models.CharField(max_length=20, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=64, blank=True)  # a code, never free text
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class MessageKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    REQUEST = "request", _("Request for information")


class Message(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10, choices=MessageKind.choices, default=MessageKind.MESSAGE)
    body = models.TextField(max_length=TEXT_LIMIT)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "id"]


class Consultation(models.Model):
    """The lead specialist asks a colleague (any specialty) to look at the case. The colleague
    reads the case and leaves a note, which the report names as a contribution."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consultations")
    round = models.PositiveSmallIntegerField(default=1)
    colleague = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consultations")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(_("note"), max_length=TEXT_LIMIT, blank=True)
    noted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invited_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "round", "colleague"], name="cases_one_consult_per_round")
        ]


class BreakGlass(models.Model):
    """An admin's emergency read of one case's clinical content: a reason, a time limit, an
    audit event and an e-mail to the other admins. Moved here from audit (issue 14); the table
    keeps its name."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    admin = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass")
    reason = models.TextField(max_length=1000)  # the admin's words; shown to admins and auditors only
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "audit_breakglass"
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["case", "admin", "expires_at"], name="audit_break_case_id_85d958_idx")]

    def __str__(self) -> str:
        return f"break-glass:{self.pk}"
