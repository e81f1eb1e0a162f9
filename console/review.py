"""Audit review (admin console): the search over the trail, the monthly access review and its sign-off.

Answers "who saw this patient's data, and why" from the events alone, plus the case's
current assignment to tell reads within it from reads outside it."""

from __future__ import annotations

import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.urls import reverse
from django.utils.http import urlencode

import audit
from accounts.models import Role, User
from audit.checkpoint import check_against_checkpoint, checkpoint_write
from audit.models import Action, AuditEvent, Outcome
from audit.services import verify_chain
from cases.models import Case, Consultation
from console.forms import FAILURE
from console.models import AuditReview
from reports.models import Report

STAFF_ROLES = (Role.SPECIALIST, Role.ADMIN)
BREAK_GLASS = "case.break_glass"


def search_events(filters: dict[str, str]) -> QuerySet[AuditEvent]:
    """The events matching the search filters (AuditSearchForm.filters()), newest first."""
    events = AuditEvent.objects.all()
    if "patient" in filters:
        events = events.filter(patient_id=filters["patient"])
    if "case" in filters:
        events = events.filter(case_id__in=Case.objects.filter(reference=filters["case"]).values("pk"))
    if "user" in filters:
        events = events.filter(actor_id=uuid.UUID(filters["user"]))
    if "action" in filters:
        events = events.filter(action=filters["action"])
    if filters.get("outcome") == FAILURE:
        events = events.exclude(outcome=Outcome.SUCCESS)
    elif "outcome" in filters:
        events = events.filter(outcome=filters["outcome"])
    if "event_type" in filters:
        events = events.filter(event_type=filters["event_type"])
    if "date_from" in filters:
        events = events.filter(at__gte=_midnight(date.fromisoformat(filters["date_from"])))
    if "date_to" in filters:
        events = events.filter(at__lt=_midnight(date.fromisoformat(filters["date_to"]) + timedelta(days=1)))
    return events.order_by("-id")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def case_references(case_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    return dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "reference"))


def search_url(**filters: Any) -> str:
    return reverse("console:search") + "?" + urlencode({k: str(v) for k, v in filters.items() if v})


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = _midnight(month)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, _midnight(following)


def _month_filters(month: date) -> dict[str, str]:
    start, end = month_bounds(month)
    return {"date_from": start.date().isoformat(), "date_to": (end - timedelta(days=1)).date().isoformat()}


@dataclass
class ReadRow:
    actor_id: uuid.UUID | None
    role: str
    case_id: uuid.UUID
    reads: int
    first: datetime
    last: datetime
    break_glass: int
    user: User | None = None
    reference: str = ""
    outside: bool = False
    search: str = ""


@dataclass
class RapidFlag:
    user: User | None
    actor_id: uuid.UUID
    cases: int
    window_start: datetime
    search: str = ""


@dataclass
class DenialFlag:
    user: User | None
    actor_id: uuid.UUID
    role: str
    denials: int
    search: str = ""


@dataclass
class AccessReview:
    month: date
    rows: list[ReadRow] = field(default_factory=list)
    rapid: list[RapidFlag] = field(default_factory=list)
    denials: list[DenialFlag] = field(default_factory=list)
    rapid_limit: int = 0

    @property
    def outside(self) -> list[ReadRow]:
        return [row for row in self.rows if row.outside]


def staff_reads(start: datetime, end: datetime) -> QuerySet[AuditEvent]:
    """Successful reads of a case's data by specialists and admins."""
    return AuditEvent.objects.filter(
        at__gte=start,
        at__lt=end,
        action=Action.READ,
        outcome=Outcome.SUCCESS,
        case_id__isnull=False,
        actor_id__isnull=False,
        actor_role__in=STAFF_ROLES,
    )


def access_review(*, month: date) -> AccessReview:
    start, end = month_bounds(month)
    reads = staff_reads(start, end)
    is_break_glass = Q(event_type=BREAK_GLASS) | Q(detail__has_key="break_glass_id")
    grouped = (
        reads.values("actor_id", "actor_role", "case_id")
        .annotate(
            reads=Count("id"),
            first=Min("at"),
            last=Max("at"),
            break_glass=Count("id", filter=is_break_glass),
        )
        .order_by("actor_role", "actor_id", "-reads")
    )
    rows = [
        ReadRow(
            actor_id=g["actor_id"],
            role=g["actor_role"],
            case_id=g["case_id"],  # type: ignore[misc,arg-type]
            reads=g["reads"],
            first=g["first"],
            last=g["last"],
            break_glass=g["break_glass"],
        )
        for g in grouped
    ]
    review = AccessReview(
        month=month,
        rows=rows,
        rapid=_rapid_reads(reads),
        denials=_denials(start, end),
        rapid_limit=settings.AUDIT_RAPID_READS,
    )
    _fill_in(review)
    return review


def _assigned(case_ids: set[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(case, specialist) pairs within assignment: the lead, consulted colleagues, report authors."""
    pairs = set(Case.objects.filter(pk__in=case_ids, specialist__isnull=False).values_list("pk", "specialist_id"))
    pairs |= set(Consultation.objects.filter(case_id__in=case_ids).values_list("case_id", "colleague_id"))
    pairs |= set(Report.objects.filter(case_id__in=case_ids).values_list("case_id", "author_id"))
    return pairs


def _fill_in(review: AccessReview) -> None:
    case_ids = {row.case_id for row in review.rows}
    references = case_references(case_ids)
    assigned = _assigned(case_ids)
    actor_ids = (
        {row.actor_id for row in review.rows}
        | {f.actor_id for f in review.rapid}
        | {f.actor_id for f in review.denials}
    )
    users = User.objects.in_bulk([a for a in actor_ids if a is not None])
    month = _month_filters(review.month)
    for row in review.rows:
        row.user, row.reference = users.get(row.actor_id), references.get(row.case_id, "")  # type: ignore[arg-type]
        row.outside = row.break_glass > 0 or row.role == Role.ADMIN or (row.case_id, row.actor_id) not in assigned
        row.search = search_url(
            case=row.reference, user=row.actor_id, action=Action.READ, outcome=Outcome.SUCCESS, **month
        )
    for rapid in review.rapid:
        day = rapid.window_start.date().isoformat()
        rapid.user, rapid.search = (
            users.get(rapid.actor_id),
            search_url(user=rapid.actor_id, action=Action.READ, date_from=day, date_to=day),
        )
    for denial in review.denials:
        denial.user = users.get(denial.actor_id)
        denial.search = search_url(user=denial.actor_id, outcome=FAILURE, **month)


def _rapid_reads(reads: QuerySet[AuditEvent]) -> list[RapidFlag]:
    """Users who read more than AUDIT_RAPID_READS distinct cases within one hour, with the
    start of the first such hour. One pass over the month's reads in (user, time) order."""
    limit = settings.AUDIT_RAPID_READS
    flags: dict[uuid.UUID, RapidFlag] = {}
    window: deque[tuple[datetime, uuid.UUID | None]] = deque()
    in_window: Counter[uuid.UUID | None] = Counter()
    current = None
    rows = reads.order_by("actor_id", "at").values_list("actor_id", "case_id", "at")
    for actor_id, case_id, at in rows.iterator(chunk_size=5000):
        if actor_id != current:
            current, window, in_window = actor_id, deque(), Counter()
        window.append((at, case_id))
        in_window[case_id] += 1
        while window[0][0] <= at - timedelta(hours=1):
            _old_at, old_case = window.popleft()
            in_window[old_case] -= 1
            if not in_window[old_case]:
                del in_window[old_case]
        if len(in_window) > limit:
            flag = flags.get(actor_id)
            if flag is None:
                flags[actor_id] = RapidFlag(
                    user=None, actor_id=actor_id, cases=len(in_window), window_start=window[0][0]
                )
            elif len(in_window) > flag.cases:
                flag.cases = len(in_window)
    return list(flags.values())


def _denials(start: datetime, end: datetime) -> list[DenialFlag]:
    denied = (
        AuditEvent.objects.filter(at__gte=start, at__lt=end, actor_id__isnull=False)
        .exclude(outcome=Outcome.SUCCESS)
        .values("actor_id", "actor_role")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return [DenialFlag(user=None, actor_id=d["actor_id"], role=d["actor_role"], denials=d["n"]) for d in denied]


class AlreadySigned(Exception):
    pass


@transaction.atomic
def audit_review_sign_off(*, admin: User, month: date, checks: list[str], note: str) -> AuditReview:
    """Record the admin's sign-off of a month's review, once per month."""
    review = AuditReview(month=month, checks=checks, note=note, signed_by=admin)
    review.full_clean(validate_unique=False)
    try:
        with transaction.atomic():  # two admins signing at once: the unique month decides
            review.save()
    except IntegrityError:
        raise AlreadySigned(month) from None
    audit.record(
        actor=admin,
        event_type="audit.review.sign_off",
        action=Action.CREATE,
        entity_type="AuditReview",
        entity_id=review.pk,
        detail={"month": f"{month:%Y-%m}", "checks": checks},
    )
    return review


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    count: int  # events verified
    broken_id: int | None = None  # the first event that does not verify
    checkpoint_saved: bool = False


def audit_chain_check(*, admin: User) -> ChainCheck:
    """What `manage.py audit_verify` does, for the console: verify the chain, judge it by the newest
    signed checkpoint, and when it holds save a new checkpoint of its head (a break is reported
    to every admin by checkpoint_write). The check itself is audited."""
    result = verify_chain()
    problem = result.reason if not result.ok else check_against_checkpoint(result)
    saved = False
    if not result.ok or not problem:
        saved = bool(checkpoint_write().get("ok"))
    ok = not problem
    audit.record(
        actor=admin,
        event_type="audit.verify",
        action=Action.EXECUTE,
        outcome=Outcome.SUCCESS if ok else Outcome.SERIOUS_FAILURE,
        entity_type="AuditEvent",
        detail={"count": result.count, "broken_id": result.broken_id, "checkpoint": saved},
    )
    return ChainCheck(ok=ok, count=result.count, broken_id=result.broken_id, checkpoint_saved=saved)
