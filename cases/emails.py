"""Context of the case e-mails, built by the worker from the case's id when it sends
(accounts/emails.py). A reference and a link, never clinical content."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from accounts.emails import email_kind
from accounts.models import User
from cases.models import BreakGlass, Case

# Each case e-mail: the case's reference and a link to the page where the recipient acts on it.
PAGES = {
    "case-status": "cases:detail",
    "case-message": "cases:detail",
    "case-assigned": "reports:workspace",
    "consultation-invite": "reports:workspace",
    "case-follow-up": "reports:addendum",
}


def _builder(view: str) -> Callable[[User, dict[str, Any]], dict[str, Any]]:
    def build(user: User, params: dict[str, Any]) -> dict[str, Any]:
        case = Case.objects.only("reference").get(pk=params["case_id"])
        return {"reference": case.reference, "path": reverse(view, args=[case.pk])}

    return build


for _kind, _view in PAGES.items():
    email_kind(_kind)(_builder(_view))


@email_kind("break-glass")
def _break_glass(user: User, params: dict[str, Any]) -> dict[str, Any]:
    grant = BreakGlass.objects.select_related("admin", "case").get(pk=params["grant_id"])
    return {
        "admin_name": grant.admin.full_name,
        "reference": grant.case.reference,
        "at": grant.granted_at.strftime("%Y-%m-%d %H:%M UTC"),
        "path": reverse("console:console_case", args=[grant.case_id]),
    }
