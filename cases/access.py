"""The one way views reach a case. Missing and forbidden look the same (404), and every read
and every denial is audited."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone

import audit
from cases.models import BreakGlass, Case

# What the admin console shows of a case: no clinical text is even loaded.
METADATA_FIELDS = (
    "id",
    "reference",
    "patient_id",
    "status",
    "specialty",
    "country",
    "created_at",
    "submitted_at",
    "due_at",
    "sla_paused_at",
    "closed_at",
    "specialist_id",
    "round",
    "legal_hold_reason",
    "legal_hold_at",
    "legal_hold_by_id",
    "legal_hold_note",
)


def active_break_glass(user: Any, case: Case) -> BreakGlass | None:
    """The admin's unexpired emergency access to this case, if any."""
    if not (user.is_authenticated and user.is_admin):
        return None
    return (
        BreakGlass.objects.filter(case=case, admin=user, expires_at__gt=timezone.now()).order_by("-expires_at").first()
    )


def can_read_case(user: Any, case: Case) -> bool:
    """The patient; the lead specialist; a colleague the lead consulted; a specialist who signed
    a report on the case (an earlier round). Admins do not read clinical content, except during
    a break-glass grant on this very case."""
    if not user.is_authenticated:
        return False
    if case.patient_id == user.pk:
        return True
    if user.is_admin:
        return active_break_glass(user, case) is not None
    if not user.is_specialist:
        return False
    return (
        case.specialist_id == user.pk
        or case.consultations.filter(colleague=user).exists()
        or case.reports.filter(author=user, signed_at__isnull=False).exists()
    )


def case_for_user(
    request: HttpRequest, case_id: uuid.UUID | str, *, owner_only: bool = False, metadata_only: bool = False
) -> Case:
    """The case if this user may see it; otherwise Http404. Every read and every denial is audited.

    `owner_only` restricts to the patient (intake, withdrawal, consent). `metadata_only` is the
    admins' view (console, legal hold): any case, but only METADATA_FIELDS are loaded, so no
    clinical text is ever read; anyone but an admin gets the 404."""
    user = request.user
    if metadata_only:
        case = (
            Case.objects.only(*METADATA_FIELDS).filter(pk=case_id).first()
            if user.is_authenticated and user.is_admin
            else None
        )
        allowed, event_type = case is not None, "case.metadata.read"
    else:
        case = Case.objects.select_related("patient").filter(pk=case_id).first()
        allowed = case is not None and (case.patient_id == user.pk if owner_only else can_read_case(user, case))
        event_type = "case.read"
    if not allowed:
        audit.record(
            request=request,
            event_type=f"{event_type}.denied",
            action=audit.Action.READ,
            outcome=audit.Outcome.MINOR_FAILURE,
            entity_type="Case",
            entity_id=str(case_id),
            case_id=case.pk if case else None,
            patient_id=case.patient_id if case else None,
        )
        raise Http404
    assert case is not None
    audit.record(
        request=request,
        event_type=event_type,
        action=audit.Action.READ,
        entity_type="Case",
        entity_id=str(case.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
    )
    return case
