from __future__ import annotations

from typing import Any

from django import template

from lifecycle.erasure import RefusalCode, held_cases
from lifecycle.forms import LegalHoldForm
from lifecycle.models import DeletionRequest

register = template.Library()


@register.simple_tag
def erasure_status(user: Any) -> dict[str, Any]:
    """The patient's latest erasure request, and the cases on hold when a hold refused it."""
    latest = DeletionRequest.objects.filter(patient=user).order_by("-requested_at").first()
    refused_by_hold = latest is not None and latest.refusal_code == RefusalCode.LEGAL_HOLD
    return {
        "request": latest,
        "held": held_cases(user.pk) if refused_by_hold else [],
        "refusal_label": RefusalCode.LABELS.get(latest.refusal_code, "") if latest else "",
    }


@register.simple_tag
def legal_hold_form(case: Any) -> LegalHoldForm:
    return LegalHoldForm(prefix="hold", initial={"reason": case.legal_hold_reason, "note": case.legal_hold_note})
