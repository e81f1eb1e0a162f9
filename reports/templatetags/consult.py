"""What the workspace's consultation panel needs, so that the panel is one include line in a
page whose view belongs to the review workspace."""

from __future__ import annotations

from typing import Any

from django import template

from cases.models import Case, Consultation, Status
from reports.queue import ConsultInviteForm, ConsultNoteForm

register = template.Library()

CONSULT_STATUSES = {Status.IN_REVIEW, Status.AWAITING_PATIENT}


@register.simple_tag
def consult_panel(case: Case, user: Any) -> dict[str, Any]:
    consultations = list(
        Consultation.objects.filter(case=case, round=case.round).select_related("colleague__specialist_profile")
    )
    mine = next((c for c in consultations if c.colleague_id == user.pk), None)
    is_lead = case.specialist_id == user.pk
    is_open = case.status in CONSULT_STATUSES
    return {
        "consultations": consultations,
        "is_lead": is_lead,
        "invite_form": ConsultInviteForm(lead=user) if is_lead and is_open else None,
        "mine": mine,
        "note_form": ConsultNoteForm(initial={"note": mine.note}, auto_id="consult_%s")
        if mine is not None and is_open
        else None,
    }
