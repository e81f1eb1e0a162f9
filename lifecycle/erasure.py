"""Erasure on request (GDPR Art. 17): the patient asks, the policy or an admin approves, a worker
destroys the patient's keys first (crypto-shredding: every copy of every file, backups
included, becomes unreadable), then purges every case, signs a certificate and, unless the
patient keeps the account, e-mails it and deletes the account."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

import audit
from accounts.models import User
from cases.models import OPEN_STATUSES, Case, Status
from cases.services import case_transition
from core.emails import make_message
from lifecycle.certificates import certificate_filename, certificate_issue, certificate_json, certificate_pdf
from lifecycle.models import DeletionCertificate, DeletionRequest, DeletionStatus
from lifecycle.purge import CaseOnHold, case_purge, destroyed_keys, patient_keys_destroy, run_manifests


class RefusalCode:
    LEGAL_HOLD = "legal_hold"
    CHOICES = [
        ("legal_obligation", _("We must keep these records by law")),
        ("identity", _("We could not confirm that the request came from the patient")),
        ("other", _("Another reason: we will write to the patient")),
    ]
    LABELS = {LEGAL_HOLD: _("A case is on legal hold"), **dict(CHOICES)}


class AlreadyRequested(Exception):
    """The patient already has a request waiting or being carried out."""


def open_request(patient: User) -> DeletionRequest | None:
    return DeletionRequest.objects.filter(
        patient_ref=patient.pk, status__in=[DeletionStatus.PENDING, DeletionStatus.APPROVED]
    ).first()


def held_cases(patient_id: uuid.UUID) -> list[Case]:
    return list(Case.objects.filter(patient_id=patient_id).exclude(legal_hold_reason="").order_by("created_at"))


def _refuse(deletion_request: DeletionRequest, *, code: str, actor: User | None = None, auto: bool = False) -> None:
    """Refuse. `actor` is the admin who decides, or with `auto` (the policy decides) the patient
    whose request it is; the worker refusing a run has none."""
    deletion_request.status, deletion_request.refusal_code = DeletionStatus.REFUSED, code
    deletion_request.decided_at, deletion_request.decided_by = timezone.now(), None if auto else actor
    deletion_request.save(update_fields=["status", "refusal_code", "decided_at", "decided_by"])
    held = [str(c.pk) for c in held_cases(deletion_request.patient_ref)] if code == RefusalCode.LEGAL_HOLD else []
    audit.record(
        actor=actor,
        event_type="erasure.refuse",
        action=audit.Action.UPDATE,
        outcome=audit.Outcome.MINOR_FAILURE,
        entity_type="DeletionRequest",
        entity_id=str(deletion_request.pk),
        patient_id=deletion_request.patient_ref,
        detail={"code": code, "held_cases": held},
    )


def _approve(deletion_request: DeletionRequest, *, actor: User, auto: bool) -> None:
    """Approve, withdraw the open cases (the specialist loses access at once) and queue the run.
    `actor` is the admin, or the patient whose request the policy approves (`auto`)."""
    from lifecycle.tasks import erasure_run_task  # lifecycle.tasks imports this module

    deletion_request.status, deletion_request.decided_at = DeletionStatus.APPROVED, timezone.now()
    deletion_request.decided_by, deletion_request.auto_approved = None if auto else actor, auto
    deletion_request.save(update_fields=["status", "decided_at", "decided_by", "auto_approved"])
    patient = deletion_request.patient
    for case in Case.objects.select_for_update().filter(
        patient_id=deletion_request.patient_ref, status__in=OPEN_STATUSES
    ):
        case_transition(case=case, to=Status.WITHDRAWN, actor=patient, reason="erasure_requested")
    audit.record(
        actor=actor,
        event_type="erasure.approve",
        action=audit.Action.UPDATE,
        entity_type="DeletionRequest",
        entity_id=str(deletion_request.pk),
        patient_id=deletion_request.patient_ref,
        detail={"auto": auto},
    )
    request_id = str(deletion_request.pk)
    # robust: with the broker down the approval stands and the page answers; erasure_sweep runs it.
    transaction.on_commit(lambda: erasure_run_task.delay(request_id), robust=True)


ERASURE_LOST_AFTER = timedelta(hours=1)  # far longer than a run; a run's own retries come first


def erasure_sweep() -> int:
    """Queue again every approved request not done an hour after approval: its message was lost
    (broker outage) or its retries ran out. Runs are idempotent, so a duplicate is harmless."""
    from lifecycle.tasks import erasure_run_task  # lifecycle.tasks imports this module

    stale = DeletionRequest.objects.filter(
        status=DeletionStatus.APPROVED, decided_at__lt=timezone.now() - ERASURE_LOST_AFTER
    )
    queued = 0
    for pk in stale.values_list("pk", flat=True):
        erasure_run_task.delay(str(pk))
        queued += 1
    return queued


@transaction.atomic
def erasure_request(*, patient: User, keep_account: bool) -> DeletionRequest:
    """The patient's request: refused at once when a case is on legal hold; otherwise approved
    by the policy (ERASURE_AUTO_APPROVE) or left for an admin."""
    User.objects.select_for_update().filter(pk=patient.pk).first()  # one request at a time per patient
    if open_request(patient) is not None:
        raise AlreadyRequested(patient.pk)
    deletion_request = DeletionRequest(patient=patient, patient_ref=patient.pk, keep_account=keep_account)
    deletion_request.full_clean(exclude=["certificate"])
    deletion_request.save(force_insert=True)
    audit.record(
        actor=patient,
        event_type="erasure.request",
        action=audit.Action.CREATE,
        entity_type="DeletionRequest",
        entity_id=str(deletion_request.pk),
        patient_id=patient.pk,
        detail={"keep_account": keep_account},
    )
    if held_cases(patient.pk):
        _refuse(deletion_request, code=RefusalCode.LEGAL_HOLD, actor=patient, auto=True)
    elif settings.ERASURE_AUTO_APPROVE:
        _approve(deletion_request, actor=patient, auto=True)
    return deletion_request


@transaction.atomic
def erasure_approve(*, actor: User, deletion_request: DeletionRequest) -> None:
    deletion_request = DeletionRequest.objects.select_for_update().get(pk=deletion_request.pk)
    if deletion_request.status != DeletionStatus.PENDING:
        return
    if held_cases(deletion_request.patient_ref):
        _refuse(deletion_request, code=RefusalCode.LEGAL_HOLD, actor=actor)
    else:
        _approve(deletion_request, actor=actor, auto=False)


@transaction.atomic
def erasure_refuse(*, actor: User, deletion_request: DeletionRequest, code: str) -> None:
    deletion_request = DeletionRequest.objects.select_for_update().get(pk=deletion_request.pk)
    if deletion_request.status == DeletionStatus.PENDING:
        _refuse(deletion_request, code=code, actor=actor)


def erasure_run(*, request_id: uuid.UUID | str) -> None:
    """Carry out an approved request. Idempotent: keys, objects and rows already gone stay gone,
    the certificate is built from the run's audit events, and a done request only finishes the
    account step."""
    deletion_request = DeletionRequest.objects.filter(pk=request_id).first()
    if deletion_request is None:
        return
    if deletion_request.status == DeletionStatus.APPROVED:
        if held_cases(deletion_request.patient_ref):  # a hold placed after approval wins
            with transaction.atomic():
                _refuse(deletion_request, code=RefusalCode.LEGAL_HOLD)
            return
        run, patient_ref = deletion_request.pk, deletion_request.patient_ref
        patient_keys_destroy(patient_id=patient_ref, run=run, reason="erasure")  # before any object goes
        for case_id in Case.objects.filter(patient_id=patient_ref).values_list("pk", flat=True):
            try:
                case_purge(case_id=case_id, run=run, reason="erasure")
            except CaseOnHold:  # placed during the run: its rows stay, unreadable, and it is not certified
                continue
        _finish(deletion_request)
        deletion_request.refresh_from_db()
    if (
        deletion_request.status == DeletionStatus.DONE
        and not deletion_request.keep_account
        and deletion_request.patient_id is not None
    ):
        account_delete(deletion_request=deletion_request)


@transaction.atomic
def _finish(deletion_request: DeletionRequest) -> None:
    deletion_request = DeletionRequest.objects.select_for_update().get(pk=deletion_request.pk)
    if deletion_request.status != DeletionStatus.APPROVED:
        return
    approver: dict[str, str] | str = "policy"
    if not deletion_request.auto_approved:
        approver = {"id": str(deletion_request.decided_by_id), "role": "admin"}
    now = timezone.now()
    certificate = certificate_issue(
        kind=DeletionCertificate.Kind.ERASURE,
        patient_ref=deletion_request.patient_ref,
        requested_at=deletion_request.requested_at,
        approved_by=approver,
        cases=run_manifests(deletion_request.pk),
        keys_destroyed=destroyed_keys(deletion_request.patient_ref),
        completed_at=now,
    )
    deletion_request.status, deletion_request.completed_at = DeletionStatus.DONE, now
    deletion_request.certificate = certificate
    deletion_request.save(update_fields=["status", "completed_at", "certificate"])
    audit.record(
        event_type="erasure.done",
        action=audit.Action.DELETE,
        entity_type="DeletionRequest",
        entity_id=str(deletion_request.pk),
        patient_id=deletion_request.patient_ref,
        detail={"certificate": str(certificate.pk)},
    )


def account_delete(*, deletion_request: DeletionRequest) -> None:
    """E-mail the certificate (JSON and PDF), end every session, then delete the account and its
    e-mail address. Runs after the request is done, so a retry only repeats this step."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.core.mail import EmailMultiAlternatives

    patient = deletion_request.patient
    certificate = deletion_request.certificate
    if patient is None or certificate is None:
        return
    with translation.override(patient.language):
        message: EmailMultiAlternatives = make_message(
            "erasure-done", patient.email, {"certificate_id": str(certificate.pk)}
        )
        message.attach(certificate_filename(certificate, "json"), certificate_json(certificate), "application/json")
        message.attach(
            certificate_filename(certificate, "pdf"),
            certificate_pdf(certificate, language=patient.language),
            "application/pdf",
        )
    message.send()
    with transaction.atomic():
        patient = User.objects.select_for_update().get(pk=patient.pk)
        patient.end_all_sessions()
        for model in (AccessAttempt, AccessFailureLog, AccessLog):  # login records keep the e-mail address
            model.objects.filter(Q(username__iexact=patient.email)).delete()
        audit.record(
            event_type="account.delete",
            action=audit.Action.DELETE,
            entity_type="User",
            entity_id=str(patient.pk),
            patient_id=patient.pk,
            detail={"request": str(deletion_request.pk)},
        )
        patient.delete()
