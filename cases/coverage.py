"""Who can take a case: which specialties are given where, by the specialists active today.

A case is accepted only if at least one active specialist of its specialty is licensed where the
patient lives ("Not sure": any specialist licensed there, since an admin routes it), so no
patient is promised a date that nobody can meet. A case already waiting that loses its last
specialist (deactivated, licence changed) is flagged to admins (`stranded`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from accounts.models import Role, SpecialistProfile, Specialty
from cases.models import Case, RequestedSpecialty, SpecialtySetting


@dataclass(frozen=True)
class Licence:
    specialist_id: uuid.UUID
    specialties: frozenset[str]
    countries: frozenset[str]


@dataclass(frozen=True)
class Coverage:
    licences: tuple[Licence, ...]

    @classmethod
    def now(cls) -> Coverage:
        """Specialists who can work today: active, and past their invitation (a password set)."""
        rows = (
            SpecialistProfile.objects.filter(user__is_active=True, user__role=Role.SPECIALIST)
            .exclude(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
            .values_list("user_id", "specialties", "jurisdictions")
        )
        return cls(tuple(Licence(uid, frozenset(s or ()), frozenset(j or ())) for uid, s, j in rows))

    def covers(self, specialty: str, country: str, *, excluding: Iterable[uuid.UUID] = ()) -> bool:
        skip = set(excluding)
        return any(
            country in licence.countries
            and (specialty == RequestedSpecialty.NOT_SURE or specialty in licence.specialties)
            and licence.specialist_id not in skip
            for licence in self.licences
        )

    def countries_for(self, specialty: str) -> list[str]:
        """Country names where the specialty is given, in the language of the request."""
        codes = {c for licence in self.licences if specialty in licence.specialties for c in licence.countries}
        return sorted((str(countries.name(code)) for code in codes if countries.name(code)), key=str.casefold)

    def offered(self) -> list[tuple[str, str, list[str]]]:
        """(code, label, country names) of every specialty given somewhere, in menu order."""
        return [(code, str(label), names) for code, label in Specialty.choices if (names := self.countries_for(code))]

    def specialty_labels_in(self, country: str) -> list[str]:
        return [str(label) for code, label in Specialty.choices if self.covers(code, country)]


@dataclass(frozen=True)
class Offer:
    label: str
    countries: list[str]
    turnaround: str
    fee: str  # "150.00 EUR", or "" when no fee is set


def offers() -> list[Offer]:
    """What the landing and start pages promise: each specialty given somewhere, where, how fast
    and for how much."""
    saved = {row.specialty: row for row in SpecialtySetting.objects.all()}
    out = []
    for code, label, names in Coverage.now().offered():
        row = saved.get(code)
        hours = row.turnaround_hours if row else settings.DEFAULT_TURNAROUND_HOURS
        fee = row.fee if row else None
        out.append(Offer(label, names, turnaround_text(hours), fee_text(fee)))
    return out


def fee_text(fee: Decimal | None) -> str:
    if fee is None:
        return ""
    return f"{number_format(fee, decimal_pos=2, use_l10n=True)} {settings.FEE_CURRENCY}"


def turnaround_text(hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def can_be_taken(case: Case, coverage: Coverage | None = None) -> bool:
    """Someone may take this case: of its specialty, licensed in its country, and (a second
    opinion) not a specialist who already reported on it."""
    coverage = coverage or Coverage.now()
    authors = list(case.reports.values_list("author_id", flat=True)) if case.round > 1 else []
    return coverage.covers(case.specialty, case.country, excluding=authors)


def stranded() -> list[Case]:
    """Cases waiting in the queue that no active specialist may take (oldest first)."""
    coverage = Coverage.now()
    waiting = Case.objects.unassigned().only("id", "reference", "specialty", "country", "round", "submitted_at")
    return [case for case in waiting.order_by("submitted_at") if not can_be_taken(case, coverage)]


def uncovered_problem(case: Case, coverage: Coverage | None = None) -> str:
    """What to tell a patient whose draft nobody could take ("" when someone can)."""
    if not case.specialty or not case.country or can_be_taken(case, coverage):
        return ""
    coverage = coverage or Coverage.now()
    return problem_text(coverage, case.specialty, str(countries.name(case.country)))


def problem_text(coverage: Coverage, specialty: str, country_name: str) -> str:
    if specialty == RequestedSpecialty.NOT_SURE:
        return _("We have no specialist licensed in %(country)s yet, so no one could give you an opinion.") % {
            "country": country_name
        }
    label = str(dict(RequestedSpecialty.choices)[specialty])
    elsewhere = coverage.countries_for(specialty)
    text = _(
        "We have no specialist in %(specialty)s licensed in %(country)s yet, so no one could give you an opinion."
    ) % {"specialty": label.lower(), "country": country_name}
    if elsewhere:
        text += " " + _("%(specialty)s is available for patients living in: %(countries)s.") % {
            "specialty": label,
            "countries": ", ".join(elsewhere),
        }
    return text
