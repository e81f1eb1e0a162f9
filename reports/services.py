from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from accounts.models import User
from cases.models import Status
from cases.services import case_transition
from reports import snapshot
from reports.models import Addendum, InPerson, Report, SignedDocument


class CannotSign(Exception):
    """Signing was refused; `problems` say why, in the user's language."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def signing_problems(report: Report) -> list[str]:
    """What stops `report` from being signed (every section, and an answer to every question)."""
    problems = []
    required = [
        ("summary", _("Write the summary.")),
        ("findings", _("Write the findings.")),
        ("diagnosis_agreement", _("Say whether you confirm, refine or change the diagnosis.")),
        ("treatment_agreement", _("Say whether you confirm or modify the treatment, or propose an alternative.")),
        ("certainty", _("Choose your level of certainty.")),
        ("certainty_reason", _("Explain the reason for your level of certainty.")),
        ("recommendations", _("Write your recommendations.")),
        ("in_person", _("Say whether an in-person evaluation is needed.")),
        ("limitations", _("Describe the limitations of a remote review.")),
    ]
    for name, message in required:
        if not str(getattr(report, name)).strip():
            problems.append(message)
    if report.in_person in (InPerson.SOON, InPerson.URGENT) and not report.in_person_reason.strip():
        problems.append(_("Explain why an in-person evaluation is needed."))
    answered = {a.question_id for a in report.answers.all() if a.text.strip()}
    unanswered = [q for q in report.case.questions.all() if q.pk not in answered]
    for question in unanswered:
        problems.append(_("Answer the patient's question %(number)d.") % {"number": question.position + 1})
    return problems


def _issue_document(report: Report, *, signer: User, now: datetime) -> SignedDocument:
    """A new signed version (the report with every signed addendum), superseding the previous
    one; a worker renders its PDF once the transaction commits."""
    from reports.tasks import render_document_task
    from uploads.crypto import patient_key_for

    version = (report.documents.aggregate(n=Max("version"))["n"] or 0) + 1
    content = snapshot.build(report, version=version, signer=signer, signed_at=now)
    report.documents.filter(superseded_at__isnull=True).update(superseded_at=now)
    document = SignedDocument.objects.create(
        report=report, version=version, signer=signer, signed_at=now, language=report.case.patient.language,
        content=content, content_sha256=snapshot.content_sha256(content),
        patient_key=patient_key_for(report.case.patient),
    )
    transaction.on_commit(lambda: render_document_task.delay(str(document.pk)))
    return document


@transaction.atomic
def report_sign(*, request: HttpRequest | None, report: Report, signer: User) -> SignedDocument:
    """Freeze the report under the author's signature (the caller checked the step-up)."""
    report = Report.objects.select_for_update().select_related("case__patient").get(pk=report.pk)
    if report.is_signed:
        raise CannotSign([_("This report is already signed. Add an addendum to change it.")])
    if report.author_id != signer.pk:
        raise CannotSign([_("Only the author can sign this report.")])
    problems = signing_problems(report)
    if report.case.status != Status.IN_REVIEW:
        problems.insert(0, _("The case is not in review (it may be waiting for the patient's answer)."))
    if problems:
        raise CannotSign(problems)
    now = timezone.now()
    report.signed_at = now
    report.save(update_fields=["signed_at", "updated_at"])
    document = _issue_document(report, signer=signer, now=now)
    case_transition(case=report.case, to=Status.REPORT_READY, actor=signer, reason="report_signed", now=now)
    audit.record(request=request, actor=signer, event_type="report.sign", action=audit.Action.UPDATE,
                 entity_type="Report", entity_id=str(report.pk), case_id=report.case_id,
                 patient_id=report.case.patient_id, detail={"version": document.version})
    return document


@transaction.atomic
def addendum_sign(*, request: HttpRequest | None, addendum: Addendum, signer: User) -> SignedDocument:
    """Sign a dated addendum to a signed report: a new document version supersedes the last."""
    addendum = Addendum.objects.select_for_update().select_related("report__case__patient").get(pk=addendum.pk)
    report = addendum.report
    if addendum.signed_at is not None:
        raise CannotSign([_("This addendum is already signed.")])
    if not report.is_signed or report.author_id != signer.pk or addendum.author_id != signer.pk:
        raise CannotSign([_("Only the author of a signed report can sign an addendum to it.")])
    if not addendum.body.strip() and not addendum.follow_ups.exists():
        raise CannotSign([_("Write the addendum.")])
    if addendum.follow_ups.filter(answer="").exists():
        raise CannotSign([_("Answer every follow-up question.")])
    now = timezone.now()
    addendum.signed_at = now
    addendum.save(update_fields=["signed_at"])
    document = _issue_document(report, signer=signer, now=now)
    audit.record(request=request, actor=signer, event_type="report.addendum.sign", action=audit.Action.UPDATE,
                 entity_type="Report", entity_id=str(report.pk), case_id=report.case_id,
                 patient_id=report.case.patient_id, detail={"version": document.version, "kind": addendum.kind})
    return document
