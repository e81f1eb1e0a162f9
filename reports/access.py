"""The one way views reach a signed document (a report's PDF): through its case's access rule,
audited; missing and forbidden look the same (404)."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest

import audit
from cases.access import can_read_case
from reports.models import SignedDocument


def document_for_user(request: HttpRequest, document_id: uuid.UUID | str) -> SignedDocument:
    """A signed, rendered PDF: whoever may read its (signed) report."""
    document = SignedDocument.objects.select_related("report__case", "patient_key").filter(pk=document_id).first()
    if document is None or not can_read_case(request.user, document.report.case):
        case = document.report.case if document else None
        audit.record(
            request=request,
            event_type="report_document.read.denied",
            action=audit.Action.READ,
            outcome=audit.Outcome.MINOR_FAILURE,
            entity_type="SignedDocument",
            entity_id=str(document_id),
            case_id=case.pk if case else None,
            patient_id=case.patient_id if case else None,
        )
        raise Http404
    audit.record(
        request=request,
        event_type="report_document.read",
        action=audit.Action.READ,
        entity_type="SignedDocument",
        entity_id=str(document.pk),
        case_id=document.report.case_id,
        patient_id=document.report.case.patient_id,
    )
    return document
