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
METADATA_FIELDS = ("id", "reference", "patient_id", "status", "specialty", "country", "created_at", "submitted_at",
                   "due_at", "sla_paused_at", "closed_at", "specialist_id", "round", "legal_hold_reason",
                   "legal_hold_at", "legal_hold_by_id")


def active_break_glass(user: Any, case: Case) -> BreakGlass | None:
    """The admin's unexpired emergency access to this case, if any."""
    if not (user.is_authenticated and user.is_admin):
        return None
    return BreakGlass.objects.filter(case=case, admin=user, expires_at__gt=timezone.now()) \
        .order_by("-expires_at").first()


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
    return case.specialist_id == user.pk or case.consultations.filter(colleague=user).exists() \
        or case.reports.filter(author=user, signed_at__isnull=False).exists()


def case_for_user(request: HttpRequest, case_id: uuid.UUID | str, *, owner_only: bool = False) -> Case:
    """The case if this user may see it; otherwise Http404. `owner_only` restricts to the
    patient (intake, withdrawal, consent)."""
    user = request.user
    case = Case.objects.select_related("patient").filter(pk=case_id).first()
    allowed = case is not None and (
        case.patient_id == user.pk if owner_only else can_read_case(user, case)
    )
    if not allowed:
        audit.record(request=request, event_type="case.read.denied", action=audit.Action.READ,
                     outcome=audit.Outcome.MINOR_FAILURE, entity_type="Case", entity_id=str(case_id),
                     case_id=case.pk if case else None, patient_id=case.patient_id if case else None)
        raise Http404
    assert case is not None
    audit.record(request=request, event_type="case.read", action=audit.Action.READ, entity_type="Case",
                 entity_id=str(case.pk), case_id=case.pk, patient_id=case.patient_id)
    return case


def case_metadata_for_admin(request: HttpRequest, case_id: uuid.UUID | str) -> Case:
    """A case's metadata for the admin console (the view is admins-only): 404 when missing;
    every read is audited like any other case read."""
    case = Case.objects.only(*METADATA_FIELDS).filter(pk=case_id).first()
    if case is None:
        audit.record(request=request, event_type="case.metadata.read.denied", action=audit.Action.READ,
                     outcome=audit.Outcome.MINOR_FAILURE, entity_type="Case", entity_id=str(case_id))
        raise Http404
    audit.record(request=request, event_type="case.metadata.read", action=audit.Action.READ, entity_type="Case",
                 entity_id=str(case.pk), case_id=case.pk, patient_id=case.patient_id)
    return case
