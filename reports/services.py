from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from accounts.emails import email_user
from accounts.models import User
from cases.models import Case, SpecialtySetting, Status
from cases.services import case_transition
from reports import snapshot
from reports.forms import FollowUpForm
from reports.models import (
    MAX_FOLLOW_UPS,
    Addendum,
    AddendumKind,
    Answer,
    FollowUp,
    InPerson,
    Report,
    SignedDocument,
)
from uploads.keys import patient_key_for


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
    # Numbered as the patient and the editor list them (positions may all be 0).
    for number, question in enumerate(report.case.questions.all(), start=1):
        if question.pk not in answered:
            problems.append(_("Answer the patient's question %(number)d.") % {"number": number})
    return problems


def _issue_document(report: Report, *, signer: User, now: datetime) -> SignedDocument:
    """A new signed version (the report with every signed addendum), superseding the previous
    one; a worker renders its PDF once the transaction commits."""
    from reports.tasks import render_document_task

    version = (report.documents.aggregate(n=Max("version"))["n"] or 0) + 1
    content = snapshot.build(report, version=version, signer=signer, signed_at=now)
    report.documents.filter(superseded_at__isnull=True).update(superseded_at=now)
    document = SignedDocument.objects.create(
        report=report,
        version=version,
        signer=signer,
        signed_at=now,
        language=report.case.patient.language,
        content=content,
        content_sha256=snapshot.content_sha256(content),
        patient_key=patient_key_for(report.case.patient),
    )
    # robust: with the broker down the signature still stands and the request still succeeds;
    # the sweeper queues the render again (reports.rendering.documents_sweep).
    transaction.on_commit(lambda: render_document_task.delay(str(document.pk)), robust=True)
    return document


@transaction.atomic
def report_sign(*, report: Report, signer: User) -> SignedDocument:
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
    audit.record(
        actor=signer,
        event_type="report.sign",
        action=audit.Action.UPDATE,
        entity_type="Report",
        entity_id=str(report.pk),
        case_id=report.case_id,
        patient_id=report.case.patient_id,
        detail={"version": document.version},
    )
    return document


@transaction.atomic
def addendum_sign(*, addendum: Addendum, signer: User) -> SignedDocument:
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
    audit.record(
        actor=signer,
        event_type="report.addendum.sign",
        action=audit.Action.UPDATE,
        entity_type="Report",
        entity_id=str(report.pk),
        case_id=report.case_id,
        patient_id=report.case.patient_id,
        detail={"version": document.version, "kind": addendum.kind},
    )
    # Answers do not close the case: the patient may ask again, close it, or let it close by
    # itself (close_quiet_cases).
    email_user(user=report.case.patient, name="case-status", params={"case_id": report.case_id, "event": "addendum"})
    return document


class NotAllowed(Exception):
    """The action does not fit the case's state; `message` says why, in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def report_draft_for(*, case: Case, author: User) -> Report:
    """The lead's report for the current round, created empty on first use."""
    if case.specialist_id != author.pk or case.status not in {Status.IN_REVIEW, Status.AWAITING_PATIENT}:
        raise NotAllowed(_("Only the lead specialist of a case in review can write its report."))
    report, _created = Report.objects.get_or_create(case=case, round=case.round, defaults={"author": author})
    if report.author_id != author.pk:  # the case was re-assigned after another specialist started a draft
        raise NotAllowed(_("Another specialist started the report for this case."))
    return report


@transaction.atomic
def report_save_draft(*, actor: User, report: Report, fields: dict[str, Any], answers: dict[int, str]) -> None:
    """Save draft sections and answers (by question id). A signed report never changes."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.is_signed:
        raise NotAllowed(_("This report is signed and cannot be changed. Add an addendum instead."))
    for name, value in fields.items():
        setattr(report, name, value)
    report.full_clean()
    report.save()
    questions = set(report.case.questions.values_list("pk", flat=True))
    for question_id, text in answers.items():
        if question_id in questions:
            Answer.objects.update_or_create(report=report, question_id=question_id, defaults={"text": text})
    audit.record(
        actor=actor,
        event_type="report.draft.save",
        action=audit.Action.UPDATE,
        entity_type="Report",
        entity_id=str(report.pk),
        case_id=report.case_id,
        patient_id=report.case.patient_id,
    )


def report_mark_read(*, report: Report) -> None:
    if report.read_at is None:
        Report.objects.filter(pk=report.pk, read_at__isnull=True).update(read_at=timezone.now())


def latest_signed_report(case: Case) -> Report | None:
    return case.reports.signed().order_by("-round").first()


@transaction.atomic
def follow_up_ask(*, actor: User, case: Case, text: str) -> FollowUp:
    """A patient's question about the report they read (at most MAX_FOLLOW_UPS per report)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    report = latest_signed_report(case)
    if case.status != Status.REPORT_READY or report is None:
        raise NotAllowed(_("You can ask follow-up questions once the report is ready."))
    if report.read_at is None:
        raise NotAllowed(_("Read the report before asking follow-up questions."))
    if report.follow_ups.count() >= MAX_FOLLOW_UPS:
        raise NotAllowed(
            _("You have already asked %(n)d follow-up questions, the most for one report.") % {"n": MAX_FOLLOW_UPS}
        )
    follow_up = FollowUp.objects.create(report=report, text=text)
    audit.record(
        actor=actor,
        event_type="report.follow_up",
        action=audit.Action.CREATE,
        entity_type="FollowUp",
        entity_id=str(follow_up.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
    )
    email_user(user=report.author, name="case-follow-up", params={"case_id": case.pk})
    return follow_up


def pending_follow_ups(report: Report) -> list[FollowUp]:
    return list(report.follow_ups.filter(Q(addendum__isnull=True) | Q(addendum__signed_at__isnull=True)))


def addendum_draft_for(*, report: Report, author: User) -> Addendum:
    """The author's unsigned addendum to a signed report, created on first use; it takes in
    the patient's unanswered follow-up questions."""
    if not report.is_signed or report.author_id != author.pk:
        raise NotAllowed(_("Only the author of a signed report can add to it."))
    addendum = report.addenda.filter(signed_at__isnull=True, author=author).first()
    if addendum is None:
        addendum = Addendum.objects.create(report=report, author=author)
    report.follow_ups.filter(addendum__isnull=True).update(addendum=addendum)
    if addendum.follow_ups.exists() and addendum.kind != AddendumKind.FOLLOW_UP:
        addendum.kind = AddendumKind.FOLLOW_UP
        addendum.save(update_fields=["kind"])
    return addendum


@transaction.atomic
def addendum_save_draft(*, actor: User, addendum: Addendum, body: str, answers: dict[str, str]) -> None:
    addendum = Addendum.objects.select_for_update().get(pk=addendum.pk)
    if addendum.signed_at is not None:
        raise NotAllowed(_("This addendum is signed and cannot be changed."))
    addendum.body = body
    addendum.save(update_fields=["body"])
    for follow_up in addendum.follow_ups.all():
        if str(follow_up.pk) in answers:
            follow_up.answer = answers[str(follow_up.pk)]
            follow_up.save(update_fields=["answer"])
    audit.record(
        actor=actor,
        event_type="report.addendum.save",
        action=audit.Action.UPDATE,
        entity_type="Report",
        entity_id=str(addendum.report_id),
        case_id=addendum.report.case_id,
        patient_id=addendum.report.case.patient_id,
    )


@transaction.atomic
def case_close(*, actor: User, case: Case) -> None:
    """The patient has no (more) questions: the case closes."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    report = latest_signed_report(case)
    if case.status != Status.REPORT_READY or report is None:
        raise NotAllowed(_("Only a case with a report ready can be closed."))
    if pending_follow_ups(report):
        raise NotAllowed(_("The specialist has not answered your follow-up questions yet."))
    case_transition(case=case, to=Status.CLOSED, actor=actor, reason="patient_closed")


def quiet_closes_on(views: list[dict[str, Any]]) -> datetime | None:
    """When a case with a report ready closes by itself: FOLLOW_UP_QUIET_DAYS after the last
    signed document or question, announced on the case page; never while a question waits."""
    latest = views[-1] if views else None
    if latest is None or latest["pending"]:
        return None
    asked = [f.asked_at for f in latest["follow_ups"]]
    last = max([latest["document"].signed_at, *asked])
    return last + timedelta(days=settings.FOLLOW_UP_QUIET_DAYS)


def close_quiet_cases(*, now: datetime | None = None) -> int:
    """Daily (beat): close the cases whose announced day has passed with nothing asked."""
    now = now or timezone.now()
    closed = 0
    for case in Case.objects.filter(status=Status.REPORT_READY).only("id"):
        closes_on = quiet_closes_on(signed_views(case))
        if closes_on is None or closes_on > now:
            continue
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            if locked.status == Status.REPORT_READY:  # the patient may just have closed it
                case_transition(case=locked, to=Status.CLOSED, actor=None, reason="no_more_questions", now=now)
                closed += 1
    return closed


@transaction.atomic
def second_opinion_request(*, actor: User, case: Case) -> None:
    """The patient asks another specialist for an opinion on the same case (round 2): the case
    goes back to the queue, unassigned, with a new SLA; the first specialist is excluded."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in {Status.REPORT_READY, Status.CLOSED} or case.round != 1 or latest_signed_report(case) is None:
        raise NotAllowed(_("You can ask for a second specialist's opinion once, after the first report."))
    now = timezone.now()
    Case.objects.filter(pk=case.pk).update(
        round=2, specialist=None, due_at=now + SpecialtySetting.turnaround_for(case.specialty), sla_paused_at=None
    )
    case.refresh_from_db()
    case_transition(case=case, to=Status.TRIAGE, actor=actor, reason="second_opinion", now=now)


def signed_views(case: Case) -> list[dict[str, Any]]:
    """Each signed report of the case as its current signed document shows it (report plus
    signed addenda): what patients and specialists read on the case pages."""
    views = []
    reports = (
        case.reports.signed()
        .select_related("author")
        .prefetch_related("documents", "follow_ups__addendum")
        .order_by("round")
    )
    for report in reports:
        documents = sorted(report.documents.all(), key=lambda d: d.version)
        current = next((d for d in reversed(documents) if d.superseded_at is None), None)
        if current is None:
            continue
        views.append(
            {
                "report": report,
                "document": current,
                "content": current.content,
                "sections": snapshot.sections(current.content),
                "follow_ups": list(report.follow_ups.all()),
                "pending": [f for f in report.follow_ups.all() if f.addendum is None or f.addendum.signed_at is None],
            }
        )
    return views


def comparison(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two reports side by side, section by section (the patient asked a second opinion)."""
    if len(views) < 2:
        return []
    first, second = views[0], views[1]
    return [
        {"title": a["title"], "first": a["text"], "second": b["text"]}
        for a, b in zip(first["sections"], second["sections"], strict=True)
    ]


def patient_reports_context(case: Case) -> dict[str, Any]:
    views = signed_views(case)
    latest = views[-1] if views else None
    pending = latest["pending"] if latest else []
    return {
        "signed_reports": views,
        "comparison": comparison(views),
        "can_follow_up": bool(
            latest and case.status == Status.REPORT_READY and len(latest["follow_ups"]) < MAX_FOLLOW_UPS
        ),
        "follow_ups_left": MAX_FOLLOW_UPS - len(latest["follow_ups"]) if latest else 0,
        "can_close": bool(latest and case.status == Status.REPORT_READY and not pending),
        "closes_on": quiet_closes_on(views) if case.status == Status.REPORT_READY else None,
        "can_ask_second_opinion": bool(
            latest and case.round == 1 and case.status in {Status.REPORT_READY, Status.CLOSED}
        ),
        "follow_up_form": FollowUpForm(),
    }


def report_panel_context(case: Case, user: User) -> dict[str, Any]:
    """What the workspace's report section needs for this specialist."""
    draft = case.reports.filter(round=case.round, signed_at__isnull=True).first()
    views = signed_views(case)
    own = next((v for v in views if v["report"].author_id == user.pk), None)
    return {
        "is_lead": case.specialist_id == user.pk,
        "can_write_report": case.specialist_id == user.pk
        and case.status in {Status.IN_REVIEW, Status.AWAITING_PATIENT}
        and not case.reports.filter(round=case.round, signed_at__isnull=False).exists(),
        "draft_report": draft,
        "signed_reports": views,
        "own_signed": own,
        "pending_follow_ups": own["pending"] if own else [],
    }
