"""Context of the case e-mails, built by the worker from the case's id when it sends
(accounts/emails.py). A reference and a link, never clinical content."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.emails import email_kind
from accounts.models import User
from cases.models import BreakGlass, Case, Status

# Each case e-mail: the case's reference and a link to the page where the recipient acts on it.
PAGES = {
    "case-message": "cases:detail",
    "case-assigned": "reports:workspace",
    "consultation-invite": "reports:workspace",
    "case-follow-up": "reports:addendum",
    "case-reply": "reports:workspace",
    "consultation-note": "reports:workspace",
}


def _builder(view: str) -> Callable[[User, dict[str, Any]], dict[str, Any]]:
    def build(user: User, params: dict[str, Any]) -> dict[str, Any]:
        case = Case.objects.only("reference").get(pk=params["case_id"])
        return {"reference": case.reference, "path": reverse(view, args=[case.pk])}

    return build


for _kind, _view in PAGES.items():
    email_kind(_kind)(_builder(_view))


# What happened to the case ("status": the status it moved to, or "event") and what the patient
# does now: the subject and the first lines of the e-mail. Never clinical content.
NEWS: dict[str, tuple[Promise, Promise]] = {
    Status.TRIAGE: (
        _("Your case %(reference)s is being routed to a specialist"),
        _("We are finding the right specialist for your case. You do not need to do anything now."),
    ),
    Status.ASSIGNED: (
        _("A specialist has been assigned to your case %(reference)s"),
        _("The specialist will start the review soon. You do not need to do anything now."),
    ),
    Status.IN_REVIEW: (
        _("A specialist is reviewing your case %(reference)s"),
        _("You do not need to do anything now. We will e-mail you if the specialist has a question."),
    ),
    Status.AWAITING_PATIENT: (
        _("The specialist needs more information for your case %(reference)s"),
        _("Sign in and answer in the messages on your case page. The review waits for your answer."),
    ),
    Status.REPORT_READY: (
        _("Your report for case %(reference)s is ready"),
        _("Sign in to read it and download the signed PDF. You can ask follow-up questions about it."),
    ),
    Status.CLOSED: (
        _("Your case %(reference)s is closed"),
        _("You can still sign in to read and download the report."),
    ),
    Status.WITHDRAWN: (
        _("Your case %(reference)s has been withdrawn"),
        _("No more work will be done on it. Sign in to see its page."),
    ),
    "addendum": (
        _("The specialist has added to the report for case %(reference)s"),
        _("Sign in to read the new version of the report and the specialist's answers."),
    ),
}
DEFAULT_NEWS = (_("News about your case %(reference)s"), _("Sign in to see what has changed."))


@email_kind("case-status")
def _status(user: User, params: dict[str, Any]) -> dict[str, Any]:
    case = Case.objects.only("reference").get(pk=params["case_id"])
    subject, todo = NEWS.get(params.get("event") or params.get("status") or "", DEFAULT_NEWS)
    return {
        "reference": case.reference,
        "path": reverse("cases:detail", args=[case.pk]),
        "subject": subject % {"reference": case.reference},
        "todo": todo,
    }


@email_kind("break-glass")
def _break_glass(user: User, params: dict[str, Any]) -> dict[str, Any]:
    grant = BreakGlass.objects.select_related("admin", "case").get(pk=params["grant_id"])
    return {
        "admin_name": grant.admin.full_name,
        "reference": grant.case.reference,
        "at": grant.granted_at.strftime("%Y-%m-%d %H:%M UTC"),
        "path": reverse("console:console_case", args=[grant.case_id]),
    }
