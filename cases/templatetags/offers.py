"""{% offers as offers %}: what is offered where, for pages outside the cases app (the landing page
is served by accounts, which sits below cases)."""

from __future__ import annotations

from django import template

from cases import coverage

register = template.Library()


@register.simple_tag
def offers() -> list[coverage.Offer]:
    return coverage.offers()
