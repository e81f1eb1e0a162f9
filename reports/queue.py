"""The specialists' queue and the admins' assignment list: what a row shows, the filters, and
the "My cases" list. Every count and the first question come from subqueries, so the number of
SQL queries of a page does not grow with the number of cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Case as Case_
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Left
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Specialty, User
from cases.models import TEXT_LIMIT, Case, Consultation, Message, Question, RequestedSpecialty, Status
from reports.models import Report
from uploads.models import Kind, Upload, UploadStatus

# A case due within this time is marked "at risk" in the queue.
AT_RISK_WITHIN = timedelta(hours=24)
PAGE_SIZE = 50
QUESTION_PREVIEW = 200  # characters fetched; the template shortens further


def _accepted_count(kind: str) -> Coalesce:
    # Accepted files of one kind, archive members included, archives themselves not (as
    # uploads.services.accepted_kinds counts them).
    counted = (
        Upload.objects.filter(case=OuterRef("pk"), status=UploadStatus.ACCEPTED, kind=kind)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_file_counts(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.annotate(
        photos=_accepted_count(Kind.IMAGE), pdfs=_accepted_count(Kind.PDF), dicoms=_accepted_count(Kind.DICOM)
    )


ORDER = ("due_at", "submitted_at", "id")


def paginate(cases: QuerySet[Case], number: Any, rows: Callable[[QuerySet[Case]], QuerySet[Case]]) -> Page:
    """One page of `cases`, most urgent first, as `rows` shows them. The page is chosen on ids
    first: PostgreSQL computes a row's subqueries even for the rows an OFFSET skips."""
    page = Paginator(cases.order_by(*ORDER).values_list("pk", flat=True), PAGE_SIZE).get_page(number)
    return Page(list(rows(Case.objects.filter(pk__in=list(page.object_list)))), page.number, page.paginator)


def with_patient_replied(cases: QuerySet[Case]) -> QuerySet[Case]:
    """`patient_replied`: the case's latest message is the patient's (nobody has answered it)."""
    last_author = Message.objects.filter(case=OuterRef("pk")).order_by("-sent_at", "-id").values("author_id")[:1]
    return cases.annotate(last_author=Subquery(last_author)).annotate(
        patient_replied=Case_(When(last_author=F("patient_id"), then=Value(True)), default=Value(False))
    )


def queue_rows(cases: QuerySet[Case]) -> QuerySet[Case]:
    """What a specialist needs to choose a case: the file counts and the start of the first
    question. Nothing else of the clinical content is loaded."""
    first_question = Question.objects.filter(case=OuterRef("pk")).order_by("position", "id").values("text")[:1]
    return (
        with_patient_replied(with_file_counts(cases))
        .annotate(first_question=Left(Subquery(first_question), QUESTION_PREVIEW))
        .only("id", "reference", "specialty", "country", "status", "due_at", "patient_id")
        .order_by(*ORDER)
    )


def assignment_rows(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The admins' list: no clinical text at all."""
    return with_file_counts(cases).only("id", "reference", "specialty", "country", "status", "due_at").order_by(*ORDER)


def my_cases(user: User) -> QuerySet[Case]:
    """Open cases the specialist leads, and those a lead consulted them on."""
    consulted = Consultation.objects.filter(case=OuterRef("pk"), colleague=user)
    return with_patient_replied(
        Case.objects.filter(Q(specialist=user) | Exists(consulted))
        .exclude(status__in=[Status.CLOSED, Status.WITHDRAWN])
        .only("id", "reference", "specialty", "status", "due_at", "specialist_id", "patient_id")
        .order_by("due_at", "id")
    )


DUE_CHOICES = [
    ("", _("Any time")),
    ("overdue", _("Overdue")),
    ("today", _("Due by the end of today")),
    ("week", _("Due within 7 days")),
]
STATUS_CHOICES = [
    ("", _("Any")),
    (Status.SUBMITTED.value, Status.SUBMITTED.label),
    (Status.TRIAGE.value, Status.TRIAGE.label),
]


class QueueFilterForm(forms.Form):
    specialty = forms.ChoiceField(label=_("Specialty"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    due = forms.ChoiceField(label=_("Due"), required=False, choices=DUE_CHOICES)

    def __init__(self, *args: Any, specialties: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Specialty.choices)
        field = self.fields["specialty"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All my specialties"))] + [(code, labels.get(code, code)) for code in specialties]


def filter_queue(cases: QuerySet[Case], filters: dict[str, str], now: datetime) -> QuerySet[Case]:
    if filters.get("specialty"):
        cases = cases.filter(specialty=filters["specialty"])
    if filters.get("status"):
        cases = cases.filter(status=filters["status"])
    due = filters.get("due")
    if due == "overdue":
        cases = cases.filter(due_at__lt=now)
    elif due == "today":
        tomorrow = timezone.localdate(now) + timedelta(days=1)
        cases = cases.filter(due_at__lt=timezone.make_aware(datetime.combine(tomorrow, time.min)))
    elif due == "week":
        cases = cases.filter(due_at__lt=now + timedelta(days=7))
    return cases


class _SpecialistChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        profile = getattr(obj, "specialist_profile", None)
        specialties = ", ".join(profile.specialty_labels()) if profile else ""
        return f"{obj.full_name} ({specialties})" if specialties else obj.full_name


def active_specialists() -> QuerySet[User]:
    return (
        User.objects.filter(role=Role.SPECIALIST, is_active=True)
        .select_related("specialist_profile")
        .order_by("full_name", "email")
    )


class AssignForm(forms.Form):
    specialist = _SpecialistChoiceField(
        label=_("Specialist"),
        queryset=active_specialists(),
        error_messages={
            "required": _("Choose a specialist."),
            "invalid_choice": _("Choose a specialist from the list."),
        },
    )


class ConsultInviteForm(forms.Form):
    colleague = _SpecialistChoiceField(
        label=_("Consult a colleague"),
        queryset=User.objects.none(),
        help_text=_("Any specialist, of any specialty. They see the whole case and can leave you a note."),
        error_messages={"required": _("Choose a colleague."), "invalid_choice": _("Choose a colleague from the list.")},
    )

    def __init__(self, *args: Any, lead: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["colleague"].queryset = active_specialists().exclude(pk=lead.pk)  # type: ignore[attr-defined]


class ConsultNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Your note for the lead specialist"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write your note.")},
    )


def assignable_specialists(cases: list[Case], specialists: list[User]) -> dict[Any, list[User]]:
    """For each case, the specialists an admin may give it to: cases.services.can_be_assigned
    for a whole page in one query (case_assign checks again)."""
    reported = set(Report.objects.filter(case__in=cases).values_list("case_id", "author_id"))
    out: dict[Any, list[User]] = {}
    for case in cases:
        out[case.pk] = [
            s
            for s in specialists
            if (profile := getattr(s, "specialist_profile", None)) is not None
            and case.country in profile.jurisdictions
            and (case.specialty == RequestedSpecialty.NOT_SURE or case.specialty in profile.specialties)
            and (case.pk, s.pk) not in reported
        ]
    return out
