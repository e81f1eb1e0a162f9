"""The one way views reach a report or a signed document: through its case's access rule,
audited; missing and forbidden look the same (404)."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest

import audit
from cases.access import can_read_case
from reports.models import Report, SignedDocument


def _deny(request: HttpRequest, entity_type: str, entity_id: uuid.UUID | str, case: object | None) -> None:
    audit.record(request=request, event_type=f"{entity_type.lower()}.read.denied", action=audit.Action.READ,
                 outcome=audit.Outcome.MINOR_FAILURE, entity_type=entity_type, entity_id=str(entity_id),
                 case_id=getattr(case, "pk", None), patient_id=getattr(case, "patient_id", None))


def report_for_user(request: HttpRequest, report_id: uuid.UUID | str) -> Report:
    """A report: the patient and the specialists of the case see signed reports; a draft only
    its author sees."""
    report = Report.objects.select_related("case", "author").filter(pk=report_id).first()
    user = request.user
    allowed = report is not None and can_read_case(user, report.case) and (
        report.is_signed or report.author_id == user.pk)
    if not allowed:
        _deny(request, "Report", report_id, report.case if report else None)
        raise Http404
    assert report is not None
    audit.record(request=request, event_type="report.read", action=audit.Action.READ, entity_type="Report",
                 entity_id=str(report.pk), case_id=report.case_id, patient_id=report.case.patient_id)
    return report


def document_for_user(request: HttpRequest, document_id: uuid.UUID | str) -> SignedDocument:
    """A signed, rendered PDF: whoever may read its (signed) report."""
    document = SignedDocument.objects.select_related("report__case", "patient_key") \
        .filter(pk=document_id).first()
    if document is None or not can_read_case(request.user, document.report.case):
        _deny(request, "SignedDocument", document_id, document.report.case if document else None)
        raise Http404
    audit.record(request=request, event_type="report_document.read", action=audit.Action.READ,
                 entity_type="SignedDocument", entity_id=str(document.pk), case_id=document.report.case_id,
                 patient_id=document.report.case.patient_id)
    return document
