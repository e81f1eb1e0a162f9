"""Specialist reports: structured, signed, frozen, corrected only by signed addenda, and
rendered to an encrypted, verifiable PDF by a worker (DESIGN.md "Reports")."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import REFERENCE_ALPHABET, TEXT_LIMIT, Case, Question

MAX_FOLLOW_UPS = 3
MAX_KEY_PHOTOS = 6


def new_verification_code() -> str:
    """12 characters from an alphabet without look-alikes (30^12 ≈ 5e17), like 7K4M-Q2XP-9HTR."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


class DiagnosisAgreement(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    REFINED = "refined", _("Refined")
    CHANGED = "changed", _("Changed")


class TreatmentAgreement(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    MODIFIED = "modified", _("Modified")
    ALTERNATIVE = "alternative", _("Alternative proposed")


class Certainty(models.TextChoices):
    HIGH = "high", _("High")
    MODERATE = "moderate", _("Moderate")
    LOW = "low", _("Low")


class InPerson(models.TextChoices):
    NO = "no", _("Not needed")
    SOON = "soon", _("Needed soon (within weeks)")
    URGENT = "urgent", _("Needed urgently (within days)")


class ReportQuerySet(models.QuerySet["Report"]):
    def signed(self) -> ReportQuerySet:
        return self.filter(signed_at__isnull=False)


class Report(models.Model):
    """One specialist's opinion on a case (round 1; round 2 when the patient asked a second
    specialist). Editable while a draft; frozen once signed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reports")
    round = models.PositiveSmallIntegerField(default=1)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    summary = models.TextField(_("summary"), max_length=TEXT_LIMIT, blank=True)
    findings = models.TextField(_("findings"), max_length=TEXT_LIMIT, blank=True)
    diagnosis_agreement = models.CharField(
        _("diagnosis"), max_length=12, choices=DiagnosisAgreement.choices, blank=True
    )
    treatment_agreement = models.CharField(
        _("treatment"), max_length=12, choices=TreatmentAgreement.choices, blank=True
    )
    agreement_comment = models.TextField(_("about the first opinion"), max_length=TEXT_LIMIT, blank=True)
    certainty = models.CharField(_("certainty"), max_length=10, choices=Certainty.choices, blank=True)
    certainty_reason = models.TextField(_("reason for the level of certainty"), max_length=TEXT_LIMIT, blank=True)
    recommendations = models.TextField(_("recommendations"), max_length=TEXT_LIMIT, blank=True)
    alternatives = models.TextField(_("alternatives, with their risks and benefits"), max_length=TEXT_LIMIT, blank=True)
    suggested_tests = models.TextField(_("suggested tests"), max_length=TEXT_LIMIT, blank=True)
    in_person = models.CharField(_("in-person evaluation"), max_length=10, choices=InPerson.choices, blank=True)
    in_person_reason = models.TextField(_("why"), max_length=TEXT_LIMIT, blank=True)
    limitations = models.TextField(_("limitations of a remote review"), max_length=TEXT_LIMIT, blank=True)
    # Accepted photos of the case (upload ids, as strings) the specialist picked for the PDF.
    key_photos = models.JSONField(default=list, blank=True)

    signed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)  # first time the patient opened it

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["round", "created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="reports_one_per_round")]

    def __str__(self) -> str:
        return f"Report {self.id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def current_document(self) -> SignedDocument | None:
        return self.documents.filter(superseded_at__isnull=True).order_by("-version").first()


class Answer(models.Model):
    """The plain-language answer to one of the patient's questions."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    text = models.TextField(_("answer"), max_length=TEXT_LIMIT, blank=True)

    class Meta:
        ordering = ["question__position", "question_id"]
        constraints = [models.UniqueConstraint(fields=["report", "question"], name="reports_one_answer_per_question")]


class AddendumKind(models.TextChoices):
    CORRECTION = "correction", _("Correction or addition")
    FOLLOW_UP = "follow_up", _("Answers to follow-up questions")


class Addendum(models.Model):
    """A dated addition to a signed report; a draft until signed, then frozen like the report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=AddendumKind.choices, default=AddendumKind.CORRECTION)
    body = models.TextField(_("addendum"), max_length=TEXT_LIMIT, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]


class FollowUp(models.Model):
    """A question the patient asks after reading a signed report (at most MAX_FOLLOW_UPS per
    report), answered in a signed follow-up addendum."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="follow_ups")
    text = models.TextField(_("question"), max_length=1000)
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(_("answer"), max_length=TEXT_LIMIT, blank=True)
    addendum = models.ForeignKey(Addendum, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups")

    class Meta:
        ordering = ["asked_at", "id"]


class RenderStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class SignedDocument(models.Model):
    """What a signature covers: a frozen snapshot (`content`) of the report with every addendum
    signed so far. Each signature makes a new version and supersedes the previous one. A worker
    renders the snapshot to a PDF, stored encrypted under the patient's key; the PDF's SHA-256
    and the verification code let anyone check a copy (reports/verify)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="documents")
    version = models.PositiveSmallIntegerField()
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)
    language = models.CharField(max_length=5)  # the patient's language: the PDF's language
    content = models.JSONField()  # the snapshot the PDF is rendered from; never changes
    content_sha256 = models.CharField(max_length=64)  # of the canonical JSON of `content`
    verification_code = models.CharField(max_length=14, unique=True, default=new_verification_code)
    superseded_at = models.DateTimeField(null=True, blank=True)

    render_status = models.CharField(max_length=10, choices=RenderStatus.choices, default=RenderStatus.PENDING)
    render_attempts = models.PositiveSmallIntegerField(default=0)
    render_claimed_at = models.DateTimeField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    patient_key = models.ForeignKey("accounts.PatientKey", null=True, on_delete=models.PROTECT, related_name="+")
    pdf_wrapped_key = models.BinaryField(null=True, blank=True)
    pdf_size = models.BigIntegerField(null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["report", "version"]
        constraints = [models.UniqueConstraint(fields=["report", "version"], name="reports_one_document_per_version")]
        indexes = [models.Index(fields=["render_status", "signed_at"])]

    def __str__(self) -> str:
        return f"SignedDocument {self.id}"

    @property
    def pdf_name(self) -> str:
        return f"reports/{self.id}.pdf"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None
