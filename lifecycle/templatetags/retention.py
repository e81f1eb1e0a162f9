"""How retention periods read on a page: "Spain", "5 years" (not "ES", "1825 days")."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from lifecycle.forms import DAYS_PER_YEAR

register = template.Library()


@register.filter
def keep_period(days: int) -> str:
    """Whole years when the days make whole years, else days."""
    if days and days % DAYS_PER_YEAR == 0:
        years = days // DAYS_PER_YEAR
        return ngettext("%(n)d year", "%(n)d years", years) % {"n": years}
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@register.filter
def policy_country(code: str) -> str:
    return str(countries.name(code)) if code else _("All other countries (default)")
