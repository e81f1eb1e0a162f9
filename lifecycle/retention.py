"""Retention: how long closed cases are kept per country, legal holds, and the daily purge.

Audit events are never purged: a database trigger refuses DELETE on them (audit/triggers.py),
so the trail outlives every case for at least AUDIT_RETENTION_YEARS.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import audit
from accounts.models import User
from cases.models import Case, Status
from lifecycle.certificates import certificate_issue
from lifecycle.models import DeletionCertificate, RetentionPolicy
from lifecycle.purge import CaseOnHold, case_purge, destroyed_keys, patient_keys_destroy, run_manifests


def keep_days_for(country: str, policies: dict[str, int] | None = None) -> int:
    if policies is None:
        policies = dict(RetentionPolicy.objects.values_list("country", "keep_days"))
    return policies.get(country, policies.get("", settings.DEFAULT_RETENTION_DAYS))


@transaction.atomic
def policy_save(*, actor: User, country: str, keep_days: int) -> RetentionPolicy:
    policy, created = RetentionPolicy.objects.select_for_update().get_or_create(
        country=country, defaults={"keep_days": keep_days, "updated_by": actor}
    )
    old = None if created else policy.keep_days
    policy.keep_days, policy.updated_by, policy.updated_at = keep_days, actor, timezone.now()
    policy.full_clean()
    policy.save()
    audit.record(
        actor=actor,
        event_type="retention.policy",
        action=audit.Action.CREATE if created else audit.Action.UPDATE,
        entity_type="RetentionPolicy",
        entity_id=str(policy.pk),
        detail={"country": country, "keep_days": keep_days, "old_keep_days": old},
    )
    return policy


@transaction.atomic
def policy_remove(*, actor: User, policy: RetentionPolicy) -> None:
    audit.record(
        actor=actor,
        event_type="retention.policy.remove",
        action=audit.Action.DELETE,
        entity_type="RetentionPolicy",
        entity_id=str(policy.pk),
        detail={"country": policy.country, "keep_days": policy.keep_days},
    )
    policy.delete()


@transaction.atomic
def legal_hold_set(*, actor: User, case: Case, reason: str, note: str) -> None:
    case = Case.objects.select_for_update().get(pk=case.pk)
    case.legal_hold_reason, case.legal_hold_note = reason, note
    case.legal_hold_by, case.legal_hold_at = actor, timezone.now()
    case.save(update_fields=["legal_hold_reason", "legal_hold_note", "legal_hold_by", "legal_hold_at"])
    audit.record(
        actor=actor,
        event_type="legal_hold.set",
        action=audit.Action.UPDATE,
        entity_type="Case",
        entity_id=str(case.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
        detail={"reason": reason},
    )


@transaction.atomic
def legal_hold_release(*, actor: User, case: Case) -> None:
    case = Case.objects.select_for_update().get(pk=case.pk)
    old = case.legal_hold_reason
    case.legal_hold_reason, case.legal_hold_note, case.legal_hold_by, case.legal_hold_at = "", "", None, None
    case.save(update_fields=["legal_hold_reason", "legal_hold_note", "legal_hold_by", "legal_hold_at"])
    audit.record(
        actor=actor,
        event_type="legal_hold.release",
        action=audit.Action.UPDATE,
        entity_type="Case",
        entity_id=str(case.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
        detail={"reason": old},
    )


def expired_cases(now: datetime) -> list[Case]:
    """Closed or withdrawn cases whose retention period has ended, not on legal hold."""
    policies = dict(RetentionPolicy.objects.values_list("country", "keep_days"))
    candidates = Case.objects.filter(
        status__in=[Status.CLOSED, Status.WITHDRAWN], closed_at__isnull=False, legal_hold_reason=""
    ).order_by("closed_at")
    return [
        c
        for c in candidates
        if c.closed_at is not None and c.closed_at + timedelta(days=keep_days_for(c.country, policies)) <= now
    ]


def purge_expired(now: datetime | None = None) -> dict[str, Any]:
    """Purge every expired case and issue one retention certificate per patient. A patient's key
    is destroyed once no case of theirs is left (it protects nothing any more)."""
    now = now or timezone.now()
    by_patient: dict[uuid.UUID, list[Case]] = defaultdict(list)
    for case in expired_cases(now):
        by_patient[case.patient_id].append(case)
    counts = {"cases": 0, "patients": 0, "certificates": 0, "held": 0}
    for patient_id, cases in by_patient.items():
        run = uuid.uuid4()
        for case in cases:
            try:
                if case_purge(case_id=case.pk, run=run, reason="retention") is not None:
                    counts["cases"] += 1
            except CaseOnHold:  # placed after the list was made
                counts["held"] += 1
        manifests = run_manifests(run)
        if not manifests:
            continue
        counts["patients"] += 1
        shredded: list[str] = []
        if not Case.objects.filter(patient_id=patient_id).exists():
            shredded = patient_keys_destroy(patient_id=patient_id, run=run, reason="retention")
        _issue(patient_id, run, manifests, shredded)
        counts["certificates"] += 1
    return counts


def _issue(
    patient_id: uuid.UUID, run: uuid.UUID, manifests: list[dict[str, Any]], shredded: list[str]
) -> DeletionCertificate:
    with transaction.atomic():
        keys = [k for k in destroyed_keys(patient_id) if k["id"] in shredded]
        certificate = certificate_issue(
            kind=DeletionCertificate.Kind.RETENTION,
            patient_ref=patient_id,
            requested_at=None,
            approved_by="policy",
            cases=manifests,
            keys_destroyed=keys,
            completed_at=timezone.now(),
        )
        audit.record(
            event_type="retention.purge",
            action=audit.Action.DELETE,
            entity_type="DeletionCertificate",
            entity_id=str(certificate.pk),
            patient_id=patient_id,
            detail={"run": str(run), "cases": len(manifests), "keys": len(keys)},
        )
    return certificate


def recent_purges(limit: int = 50) -> list[DeletionCertificate]:
    return list(DeletionCertificate.objects.order_by("-issued_at")[:limit])
