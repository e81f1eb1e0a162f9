from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from accounts.emails import email_user
from accounts.models import User
from audit.context import client
from cases import coverage, panels
from cases.models import (
    TRANSITIONS,
    Case,
    CaseEvent,
    ConsentAcceptance,
    ConsentVersion,
    Consultation,
    Message,
    MessageKind,
    RequestedSpecialty,
    SpecialtySetting,
    Status,
)


class InvalidTransition(Exception):
    def __init__(self, old: str, new: str) -> None:
        super().__init__(f"{old} -> {new} is not allowed")
        self.old, self.new = old, new


class ConcurrentTransition(Exception):
    """Someone else moved the case first."""


class ThreadClosed(Exception):
    """Messages are for cases that have been sent and are not finished."""


class NotReady(Exception):
    """The case cannot be submitted yet; `problems` say why, in the user's language."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@transaction.atomic
def case_transition(
    *, case: Case, to: str, actor: User | None, reason: str = "", now: datetime | None = None, notify: bool = True
) -> None:
    """Move a case to `to`: a conditional UPDATE on the old status, so concurrent moves are
    safe (one wins, the other gets ConcurrentTransition), plus a CaseEvent row. The SLA
    clock stops while the case waits for the patient. The patient is e-mailed when someone
    else moved it, unless `notify` is False (a move the next one follows at once)."""
    old = case.status
    if to not in TRANSITIONS.get(old, set()):
        raise InvalidTransition(old, to)
    now = now or timezone.now()
    changes: dict[str, object] = {"status": to, "updated_at": now}
    if to == Status.AWAITING_PATIENT:
        changes["sla_paused_at"] = now
    elif old == Status.AWAITING_PATIENT and case.sla_paused_at and case.due_at:
        changes["due_at"] = case.due_at + (now - case.sla_paused_at)
        changes["sla_paused_at"] = None
    changes["closed_at"] = now if to in (Status.CLOSED, Status.WITHDRAWN) else None
    if Case.objects.filter(pk=case.pk, status=old).update(**changes) != 1:
        raise ConcurrentTransition(case.pk)
    for name, value in changes.items():
        setattr(case, name, value)
    CaseEvent.objects.create(case=case, old_status=old, new_status=to, actor=actor, reason=reason, at=now)
    audit.record(
        actor=actor,
        event_type="case.status",
        action=audit.Action.UPDATE,
        entity_type="Case",
        entity_id=str(case.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
        detail={"from": old, "to": to, "reason": reason},
    )
    if notify and (actor is None or actor.pk != case.patient_id):
        email_user(user=case.patient, name="case-status", params={"case_id": case.pk, "status": to})


@transaction.atomic
def case_create(*, patient: User, title: str = "") -> Case:
    case = Case.objects.create(patient=patient, title=title)
    audit.record(
        actor=patient,
        event_type="case.create",
        action=audit.Action.CREATE,
        entity_type="Case",
        entity_id=str(case.pk),
        case_id=case.pk,
        patient_id=patient.pk,
    )
    return case


def submission_problems(case: Case) -> list[str]:
    """What stops submission (blocking)."""
    problems = []
    if not case.red_flags_answered:
        problems.append(_("Answer the question about urgent symptoms."))
    elif case.has_red_flags:
        problems.append(_("You told us about symptoms that need emergency care now. This service cannot handle them."))
    if not case.specialty:
        problems.append(_("Choose the kind of specialist you need."))
    if not case.country:
        problems.append(_("Choose the country where you live."))
    elif uncovered := coverage.uncovered_problem(case):
        problems.append(uncovered)
    if not (case.patient.birth_date and case.patient.sex):
        problems.append(_("Tell us your date of birth and sex."))
    if not case.reason:
        problems.append(_("Tell us why you want a second opinion."))
    if not (case.first_diagnosis or case.first_treatment):
        problems.append(_("Describe the first opinion: the diagnosis or the treatment proposed."))
    if not case.questions.exists():
        problems.append(_("Write at least one question for the specialist."))
    if not consent_is_current(case):
        problems.append(_("Read and accept the consent."))
    return problems


def completeness_warnings(case: Case) -> list[str]:
    """What a specialist will probably need but the patient has not given (not blocking); the
    apps above add theirs (uploads: the files the requested specialty needs)."""
    warnings = list(panels.context("check", case).get("warnings", []))
    if not case.timeline.exists():
        warnings.append(_("You have not added any events to the timeline."))
    return warnings


@transaction.atomic
def case_submit(*, actor: User, case: Case) -> None:
    """Submit a draft. A second submit (double click, two tabs) finds the case already moved
    and does nothing."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != Status.DRAFT:
        return
    problems = submission_problems(case)
    if problems:
        raise NotReady(problems)
    now = timezone.now()
    case.submitted_at = now
    case.due_at = now + SpecialtySetting.turnaround_for(case.specialty)
    case.save(update_fields=["submitted_at", "due_at"])
    case_transition(case=case, to=Status.SUBMITTED, actor=actor, now=now)
    email_user(user=case.patient, name="case-receipt", params={"case_id": case.pk})


def consent_text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def consent_is_current(case: Case) -> bool:
    current = ConsentVersion.current()
    return current is not None and case.consents.filter(version=current, withdrawn_at__isnull=True).exists()


@transaction.atomic
def consent_accept(*, actor: User, case: Case, version: ConsentVersion, language: str) -> ConsentAcceptance:
    """The address and browser it was accepted from are those of the request being served."""
    text = version.text_for(language)
    origin = client.get()
    acceptance = ConsentAcceptance.objects.create(
        case=case,
        version=version,
        text_sha256=consent_text_sha256(text),
        language=language,
        ip=origin.ip,
        user_agent=origin.user_agent,
    )
    audit.record(
        actor=actor,
        event_type="consent.accept",
        action=audit.Action.CREATE,
        entity_type="Consent",
        entity_id=str(acceptance.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
        detail={"version": version.version, "language": language},
    )
    return acceptance


@transaction.atomic
def consent_withdraw(*, actor: User, case: Case) -> None:
    """Withdrawing consent withdraws the case."""
    case.consents.filter(withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    audit.record(
        actor=actor,
        event_type="consent.withdraw",
        action=audit.Action.UPDATE,
        entity_type="Case",
        entity_id=str(case.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
    )
    if case.is_open:
        case_transition(case=case, to=Status.WITHDRAWN, actor=actor, reason="consent_withdrawn")


@transaction.atomic
def case_withdraw(*, actor: User, case: Case) -> None:
    case_transition(case=case, to=Status.WITHDRAWN, actor=actor, reason="patient_withdrew")


@transaction.atomic
def message_send(*, case: Case, author: User, body: str, kind: str = MessageKind.MESSAGE) -> Message:
    """A message on the case thread. A specialist's request for information moves the case to
    awaiting_patient (pausing the SLA); the patient's reply moves it back to in_review."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status in {Status.DRAFT, Status.CLOSED, Status.WITHDRAWN}:
        raise ThreadClosed(case.pk)
    message = Message.objects.create(case=case, author=author, body=body, kind=kind)
    audit.record(
        actor=author,
        event_type="message.send",
        action=audit.Action.CREATE,
        entity_type="Message",
        entity_id=str(message.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
        detail={"kind": kind},
    )
    if kind == MessageKind.REQUEST:
        case_transition(case=case, to=Status.AWAITING_PATIENT, actor=author, reason="information_requested")
    elif author.pk == case.patient_id and case.status == Status.AWAITING_PATIENT:
        case_transition(case=case, to=Status.IN_REVIEW, actor=author, reason="patient_answered")
    if author.pk != case.patient_id and kind == MessageKind.MESSAGE:
        email_user(user=case.patient, name="case-message", params={"case_id": case.pk})
    elif author.pk == case.patient_id and case.specialist is not None:
        # The lead hears of each reply (a digest would leave a waiting review waiting longer).
        email_user(user=case.specialist, name="case-reply", params={"case_id": case.pk})
    return message


class NotEligible(Exception):
    """The specialist may not take this case (specialty, jurisdiction or consent)."""


class AlreadyTaken(Exception):
    """Another specialist claimed the case first, or it is no longer waiting."""


def _take(*, case: Case, specialist: User, actor: User, reason: str, notify: bool = True) -> None:
    # The conditional UPDATE decides the race: only one claim or assignment finds it unassigned.
    taken = Case.objects.filter(
        pk=case.pk, specialist__isnull=True, status__in=[Status.SUBMITTED, Status.TRIAGE]
    ).update(specialist=specialist)
    if taken != 1:
        raise AlreadyTaken(case.pk)
    case.refresh_from_db(fields=["specialist", "status"])
    case_transition(case=case, to=Status.ASSIGNED, actor=actor, reason=reason, notify=notify)


@transaction.atomic
def case_claim(*, case: Case, specialist: User) -> None:
    """A specialist takes a case from their queue and starts the review."""
    if not Case.objects.claimable_by(specialist).filter(pk=case.pk).exists():
        # Only a specialist who could have claimed it learns that it was taken; to anyone
        # else the case does not exist.
        profile = getattr(specialist, "specialist_profile", None)
        if (
            profile is not None
            and Case.objects.filter(
                pk=case.pk,
                specialist__isnull=False,
                specialty__in=profile.specialties,
                country__in=profile.jurisdictions,
            ).exists()
        ):
            raise AlreadyTaken(case.pk)
        raise NotEligible(case.pk)
    # Straight on to "in review": the patient hears once, of where the case is now.
    _take(case=case, specialist=specialist, actor=specialist, reason="claimed", notify=False)
    case_transition(case=case, to=Status.IN_REVIEW, actor=specialist, reason="claimed")


def can_be_assigned(case: Case, specialist: User) -> bool:
    """An admin may give a case to an active specialist licensed where the patient lives, of the
    requested specialty (any specialty when the patient was not sure)."""
    profile = getattr(specialist, "specialist_profile", None)
    if not specialist.is_active or not specialist.is_specialist or profile is None:
        return False
    if case.country not in profile.jurisdictions:
        return False
    if case.specialty != RequestedSpecialty.NOT_SURE and case.specialty not in profile.specialties:
        return False
    return not case.reports.filter(author=specialist).exists()


@transaction.atomic
def case_assign(*, case: Case, specialist: User, admin: User) -> None:
    """An admin gives an unassigned case to a specialist; the specialist starts the review."""
    if not Case.objects.unassigned().filter(pk=case.pk).exists():
        raise AlreadyTaken(case.pk)
    if not can_be_assigned(case, specialist):
        raise NotEligible(case.pk)
    _take(case=case, specialist=specialist, actor=admin, reason="assigned_by_admin")
    email_user(user=specialist, name="case-assigned", params={"case_id": case.pk})


@transaction.atomic
def case_start_review(*, case: Case, specialist: User) -> None:
    if case.specialist_id != specialist.pk:
        raise NotEligible(case.pk)
    case_transition(case=case, to=Status.IN_REVIEW, actor=specialist, reason="review_started")


@transaction.atomic
def consultation_invite(*, case: Case, lead: User, colleague: User) -> Consultation:
    """The lead asks another specialist (any specialty) to look at the case."""
    if (
        case.specialist_id != lead.pk
        or colleague.pk == lead.pk
        or not colleague.is_active
        or not colleague.is_specialist
        or case.status not in {Status.IN_REVIEW, Status.AWAITING_PATIENT}
    ):
        raise NotEligible(case.pk)
    consultation, created = Consultation.objects.get_or_create(
        case=case, round=case.round, colleague=colleague, defaults={"invited_by": lead}
    )
    if created:
        audit.record(
            actor=lead,
            event_type="consultation.invite",
            action=audit.Action.CREATE,
            entity_type="Consultation",
            entity_id=str(consultation.pk),
            case_id=case.pk,
            patient_id=case.patient_id,
        )
        email_user(user=colleague, name="consultation-invite", params={"case_id": case.pk})
    return consultation


@transaction.atomic
def consultation_note(*, actor: User, consultation: Consultation, note: str) -> None:
    """The colleague's note; the report names them as a contributor."""
    if consultation.case.status not in {Status.IN_REVIEW, Status.AWAITING_PATIENT}:
        raise ThreadClosed(consultation.case_id)
    consultation.note, consultation.noted_at = note, timezone.now()
    consultation.save(update_fields=["note", "noted_at"])
    if (lead := consultation.case.specialist) is not None:
        email_user(user=lead, name="consultation-note", params={"case_id": consultation.case_id})
    audit.record(
        actor=actor,
        event_type="consultation.note",
        action=audit.Action.UPDATE,
        entity_type="Consultation",
        entity_id=str(consultation.pk),
        case_id=consultation.case_id,
        patient_id=consultation.case.patient_id,
    )
