from __future__ import annotations

from typing import Any

from django import template

from accounts.models import User
from cases.models import Case

register = template.Library()


@register.simple_tag
def report_panel(case: Case, user: User) -> dict[str, Any]:
    """The workspace's report section for this specialist (reports.services.report_panel_context)."""
    from reports.services import report_panel_context

    return report_panel_context(case, user)
