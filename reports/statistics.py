"""Anonymised statistics for admins: per specialty, cases submitted, turnaround from submission to
the first specialist's signed report (median, p90, share within the SLA), agreement with the
first opinion and in-person evaluations recommended.

Disclosure control, so that no patient can be singled out:
- every count under THRESHOLD is shown as "fewer than 5", and a figure derived from fewer than
  THRESHOLD cases (median, p90, percentages) is not shown;
- within a row, cells that add up to a shown total (confirmed + refined + changed = reported;
  recommended + not recommended = reported) are suppressed together when what is hidden could
  be recomputed by subtraction as a small number ("complementary suppression");
- there is no total row, so no cell can be recovered from the column totals;
- nothing identifies a case: no references, names, ids or dates of single cases.

Two aggregate queries whatever the number of cases; the percentiles are computed from the
second one's list of durations, which carries only the specialty and a number of hours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.utils import timezone

from cases.models import Case, RequestedSpecialty
from reports.models import DiagnosisAgreement, InPerson, Report
from reports.snapshot import choice_label

THRESHOLD = 5
AGREEMENTS = [DiagnosisAgreement.CONFIRMED, DiagnosisAgreement.REFINED, DiagnosisAgreement.CHANGED]


@dataclass(frozen=True)
class Figure:
    """One cell: a value, or why it is not shown ("small": a count under the threshold;
    "suppressed": hidden so that another cell cannot be recomputed, or from too few cases)."""

    value: float | int | None
    hidden: str = ""

    @property
    def shown(self) -> bool:
        return not self.hidden

    def csv(self) -> str:
        if self.hidden == "small":
            return f"<{THRESHOLD}"
        return "" if self.hidden else str(self.value)


def count(value: int) -> Figure:
    return Figure(value) if value >= THRESHOLD else Figure(None, "small")


def protect(parts: dict[str, int], total: int) -> dict[str, Figure]:
    """Cells that are parts of `total` (shown elsewhere; parts not listed are not shown).
    What is hidden adds up to total minus what is shown, so keep hiding the smallest shown cell
    while that sum is small, or while exactly one cell is hidden and nothing else is unknown."""
    hidden = {name for name, value in parts.items() if value < THRESHOLD}
    unlisted = total - sum(parts.values())

    def exposed() -> bool:
        recoverable = sum(parts[name] for name in hidden) + unlisted
        return 0 < recoverable < THRESHOLD or (len(hidden) == 1 and unlisted == 0)

    while exposed() and len(hidden) < len(parts):
        hidden.add(min((name for name in parts if name not in hidden), key=lambda name: parts[name]))
    return {
        name: Figure(None, "small" if value < THRESHOLD else "suppressed") if name in hidden else Figure(value)
        for name, value in parts.items()
    }


def percent(part: Figure, whole: int) -> Figure:
    """part/whole in %, shown only when the part is shown and the whole is not small."""
    if not part.shown or whole < THRESHOLD or part.value is None:
        return Figure(None, "suppressed")
    return Figure(round(100 * part.value / whole, 1))


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    position = (len(sorted_values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _days(hours: list[float], fraction: float, cases: int) -> Figure:
    if cases < THRESHOLD or not hours:
        return Figure(None, "suppressed")
    return Figure(round(percentile(hours, fraction) / 24, 1))


@dataclass(frozen=True)
class Row:
    specialty: str
    submitted: Figure
    reported: Figure
    median_days: Figure
    p90_days: Figure
    within_sla: Figure  # percent of reported cases
    agreement: dict[str, Figure]  # confirmed / refined / changed
    in_person: Figure
    in_person_percent: Figure

    def csv(self) -> list[str]:
        return [
            self.specialty,
            *(f.csv() for f in (self.submitted, self.reported, self.median_days, self.p90_days, self.within_sla)),
            *(self.agreement[a].csv() for a in AGREEMENTS),
            self.in_person.csv(),
            self.in_person_percent.csv(),
        ]


def period_bounds(period: str, *, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """ "30", "90", "365": the last so many days; "2025": that calendar year (local time)."""
    now = now or timezone.now()
    if len(period) == 4:
        tz = timezone.get_current_timezone()
        year = int(period)
        return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)
    return now - dt.timedelta(days=int(period)), now


def statistics(*, start: dt.datetime, end: dt.datetime) -> list[Row]:
    """One row per specialty with cases submitted in [start, end), in specialty label order."""
    first = Q(reports__round=1, reports__signed_at__isnull=False)
    rows = (
        Case.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .values("specialty")
        .annotate(
            submitted=Count("pk", distinct=True),
            reported=Count("reports", filter=first),
            within_sla=Count("reports", filter=first & Q(reports__signed_at__lte=F("due_at"))),
            in_person=Count("reports", filter=first & Q(reports__in_person__in=[InPerson.SOON, InPerson.URGENT])),
            **{a.value: Count("reports", filter=first & Q(reports__diagnosis_agreement=a)) for a in AGREEMENTS},
        )
        .order_by()
    )
    hours: dict[str, list[float]] = {}
    durations = (
        Report.objects.filter(
            round=1, signed_at__isnull=False, case__submitted_at__gte=start, case__submitted_at__lt=end
        )
        .annotate(
            took=ExpressionWrapper(F("signed_at") - F("case__submitted_at"), output_field=DurationField()),
        )
        .values_list("case__specialty", "took")
        .order_by("took")
    )
    for specialty, took in durations:
        hours.setdefault(specialty, []).append(took.total_seconds() / 3600)
    return sorted((_row(r, hours.get(r["specialty"], [])) for r in rows), key=lambda row: row.specialty)


def _row(r: Mapping[str, Any], hours: list[float]) -> Row:
    reported = r["reported"]
    agreement = protect({a.value: r[a.value] for a in AGREEMENTS}, reported)
    in_person = protect({"in_person": r["in_person"]}, reported)["in_person"]
    return Row(
        specialty=choice_label(RequestedSpecialty.choices, r["specialty"]) or "—",
        submitted=count(r["submitted"]),
        reported=count(reported),
        median_days=_days(hours, 0.5, reported),
        p90_days=_days(hours, 0.9, reported),
        within_sla=percent(Figure(r["within_sla"]), reported),  # a service figure, from all reported cases
        agreement=agreement,
        in_person=in_person,
        in_person_percent=percent(in_person, reported),
    )
