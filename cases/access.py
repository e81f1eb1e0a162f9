"""The one way views reach a case. Missing and forbidden look the same (404), and every read
and every denial is audited."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest

import audit
from cases.models import Case


def can_read_case(user: Any, case: Case) -> bool:
    """The patient; the lead specialist; a colleague the lead consulted; a specialist who signed
    a report on the case (an earlier round). Admins do not read clinical content."""
    if not user.is_authenticated:
        return False
    if case.patient_id == user.pk:
        return True
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
