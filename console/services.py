"""What admins do in the console: users, specialists, turnaround, consent versions and the
break-glass read of a case. Every action is audited in its own transaction; audit details
carry codes and ids only."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit
from accounts.emails import email_admins, email_user
from accounts.models import Role, SpecialistProfile, User
from cases.models import BreakGlass, Case, CaseEvent, ConsentVersion, RequestedSpecialty, SpecialtySetting, Status
from core.clinic import EDITABLE
from core.models import ClinicDetails


class Refused(Exception):
    """The action is not allowed; `code` says why (the view turns it into a message)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _audit_user(actor: User, event_type: str, user: User, action: str = audit.Action.UPDATE) -> None:
    audit.record(
        actor=actor,
        event_type=event_type,
        action=action,
        entity_type="User",
        entity_id=str(user.pk),
        patient_id=user.pk if user.is_patient else None,
        detail={"role": user.role},
    )


@transaction.atomic
def user_deactivate(*, user: User, by: User) -> None:
    """Deactivate an account and end all its sessions. Admins cannot lock themselves out, and the
    last active admin stays: the active admins are locked first, so two admins deactivating each
    other at once cannot both succeed."""
    if user.pk == by.pk:
        raise Refused("self")
    if user.is_admin:
        admins = list(
            User.objects.select_for_update().filter(role=Role.ADMIN, is_active=True).values_list("pk", flat=True)
        )
        if not set(admins) - {user.pk}:
            raise Refused("last_admin")
    user.is_active = False
    user.save(update_fields=["is_active"])
    user.end_all_sessions()
    _audit_user(by, "user.deactivate", user)


@transaction.atomic
def user_reactivate(*, actor: User, user: User) -> None:
    user.is_active = True
    user.save(update_fields=["is_active"])
    _audit_user(actor, "user.reactivate", user)


@transaction.atomic
def user_mfa_reset(*, user: User, by: User) -> None:
    """Remove the user's authenticator and backup codes and end their sessions; they set up
    two-step verification again at their next sign-in (staff must)."""
    if user.pk == by.pk:
        raise Refused("self")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user.end_all_sessions()
    _audit_user(by, "mfa.reset", user)
    email_user(user=user, name="mfa-reset")


@transaction.atomic
def specialist_profile_update(
    *,
    actor: User,
    profile: SpecialistProfile,
    licence_number: str,
    specialties: list[str],
    jurisdictions: list[str],
) -> None:
    profile.licence_number = licence_number
    profile.specialties = specialties
    profile.jurisdictions = jurisdictions
    profile.full_clean()
    profile.save(update_fields=["licence_number", "specialties", "jurisdictions"])
    audit.record(
        actor=actor,
        event_type="specialist.update",
        action=audit.Action.UPDATE,
        entity_type="SpecialistProfile",
        entity_id=str(profile.user_id),
        detail={"specialties": specialties, "jurisdictions": jurisdictions},
    )


def turnaround_current() -> dict[str, int]:
    """Hours per specialty code: the saved setting, or the default."""
    saved = dict(SpecialtySetting.objects.values_list("specialty", "turnaround_hours"))
    return {code: saved.get(code, settings.DEFAULT_TURNAROUND_HOURS) for code in RequestedSpecialty.values}


def turnaround_medians(*, days: int = 90) -> dict[str, tuple[float, int]]:
    """Per specialty: the median hours from submission to the first report, and how many cases,
    over the cases sent in the last `days` days that have a report (elapsed time, pauses included)."""
    ready = (
        CaseEvent.objects.filter(case=OuterRef("pk"), new_status=Status.REPORT_READY).order_by("at").values("at")[:1]
    )
    rows = (
        Case.objects.filter(submitted_at__gte=timezone.now() - timedelta(days=days))
        .annotate(ready_at=Subquery(ready))
        .filter(ready_at__isnull=False)
        .values_list("specialty", "submitted_at", "ready_at")
    )
    hours: dict[str, list[float]] = defaultdict(list)
    for specialty, submitted_at, ready_at in rows:
        hours[specialty].append((ready_at - submitted_at).total_seconds() / 3600)
    return {code: (statistics.median(values), len(values)) for code, values in hours.items()}


@transaction.atomic
def turnaround_update(*, actor: User, hours: dict[str, int]) -> list[str]:
    """Save the changed turnarounds; returns the specialty codes that changed. Cases already
    sent keep their due time; new submissions use the new value."""
    current = turnaround_current()
    changed = sorted(code for code, value in hours.items() if current.get(code) != value)
    for code in changed:
        setting = SpecialtySetting.objects.filter(specialty=code).first() or SpecialtySetting(specialty=code)
        setting.turnaround_hours = hours[code]
        setting.full_clean()
        setting.save()
    if changed:
        audit.record(
            actor=actor,
            event_type="turnaround.update",
            action=audit.Action.UPDATE,
            entity_type="SpecialtySetting",
            detail={code: hours[code] for code in changed},
        )
    return changed


@transaction.atomic
def consent_publish(*, actor: User, text_en: str, text_es: str) -> ConsentVersion:
    """Publish the next consent version. The unique version number refuses a concurrent twin."""
    last = ConsentVersion.current()
    version = ConsentVersion(version=(last.version + 1) if last else 1, text_en=text_en, text_es=text_es)
    version.full_clean()
    version.save()
    audit.record(
        actor=actor,
        event_type="consent.publish",
        action=audit.Action.CREATE,
        entity_type="ConsentVersion",
        entity_id=str(version.pk),
        detail={"version": version.version},
    )
    return version


@transaction.atomic
def break_glass_open(*, case: Case, admin: User, reason: str) -> BreakGlass:
    """Give `admin` read access to the case's clinical content for BREAK_GLASS_MINUTES, audit it
    and tell every other active admin (by reference and link: never the reason or content)."""
    now = timezone.now()
    grant = BreakGlass(
        admin=admin,
        case=case,
        reason=reason,
        granted_at=now,
        expires_at=now + timedelta(minutes=settings.BREAK_GLASS_MINUTES),
    )
    grant.full_clean()
    grant.save()
    audit.record(
        actor=admin,
        event_type="case.break_glass",
        action=audit.Action.EXECUTE,
        entity_type="Case",
        entity_id=str(case.pk),
        case_id=case.pk,
        patient_id=case.patient_id,
        detail={"break_glass_id": grant.pk},
    )
    email_admins(name="break-glass", params={"grant_id": grant.pk}, but=admin)
    return grant


@transaction.atomic
def clinic_update(*, actor: User, details: ClinicDetails) -> list[str]:
    """Save the clinic's details from the console's form (an unsaved or changed ClinicDetails);
    audited with the names of the changed fields."""
    saved = ClinicDetails.objects.select_for_update().filter(pk=ClinicDetails.SINGLETON).first()
    changed = [f for f in EDITABLE if saved is None or getattr(saved, f) != getattr(details, f)]
    if not changed:
        return []
    details.pk, details.updated_by, details.updated_at = ClinicDetails.SINGLETON, actor, timezone.now()
    details.full_clean()
    details.save()
    audit.record(
        actor=actor,
        event_type="clinic.update",
        action=audit.Action.UPDATE,
        entity_type="ClinicDetails",
        detail={"fields": changed},
    )
    return changed


def fees_current() -> dict[str, Decimal | None]:
    saved = dict(SpecialtySetting.objects.values_list("specialty", "fee"))
    return {code: saved.get(code) for code in RequestedSpecialty.values}


@transaction.atomic
def fees_update(*, actor: User, fees: dict[str, Decimal | None]) -> list[str]:
    """Save the changed fees (the landing and start pages show them at once); audited."""
    current = fees_current()
    changed = sorted(code for code, value in fees.items() if current.get(code) != value)
    for code in changed:
        setting = SpecialtySetting.objects.filter(specialty=code).first() or SpecialtySetting(
            specialty=code, turnaround_hours=settings.DEFAULT_TURNAROUND_HOURS
        )
        setting.fee = fees[code]
        setting.full_clean()
        setting.save()
    if changed:
        audit.record(
            actor=actor,
            event_type="fees.update",
            action=audit.Action.UPDATE,
            entity_type="SpecialtySetting",
            detail={code: None if fees[code] is None else str(fees[code]) for code in changed},
        )
    return changed
