"""The patient's view of the audit trail: which staff member did what with their case, and when."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from audit.models import AuditEvent, Outcome
from cases.models import Case

PAGE_SIZE = 25

LABELS = {
    "case.read": _("Opened your case"),
    "case.read.denied": _("Tried to open your case"),
    "page.denied": _("Tried to open your case"),
    "case.break_glass": _("Emergency access by an administrator"),
    "case.status": _("Changed the status of your case"),
    "case.take.denied": _("Tried to take your case"),
    "upload.read": _("Viewed a file"),
    "upload.download": _("Downloaded a file"),
    "upload.read.denied": _("Tried to open a file"),
    "report.draft.save": _("Worked on your report"),
    "report.sign": _("Signed your report"),
    "report.addendum.save": _("Worked on an addition to your report"),
    "report.addendum.sign": _("Signed an addition to your report"),
    "report_document.read": _("Viewed your report"),
    "report_document.download": _("Downloaded your report"),
    "report_document.read.denied": _("Tried to open your report"),
    "message.send": _("Sent a message"),
    "consultation.invite": _("Asked a colleague to look at your case"),
    "consultation.note": _("Wrote a note for your report"),
}
GENERIC = _("Worked on your case")


def access_log_page(*, case: Case, page: Any) -> Page:
    """One page of what specialists and admins did with the case, newest first, ready to show."""
    events = (
        AuditEvent.objects.filter(case_id=case.pk, actor_role__in=[Role.SPECIALIST, Role.ADMIN])
        .select_related("actor")
        .only("id", "at", "event_type", "outcome", "actor_role", "actor__full_name")
        .order_by("-id")
    )
    result = Paginator(events, PAGE_SIZE).get_page(page)
    roles = dict(Role.choices)
    result.object_list = [
        {  # type: ignore[misc]
            "at": e.at,
            "role": roles.get(e.actor_role, ""),
            "name": e.actor.full_name if e.actor is not None else "",
            "what": LABELS.get(e.event_type, GENERIC),
            "refused": e.outcome != Outcome.SUCCESS,
        }
        for e in result.object_list
    ]
    return result
