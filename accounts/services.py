from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit
from accounts.emails import email_user
from accounts.models import Role, SpecialistProfile, User

BACKUP_CODE_COUNT = 10


@transaction.atomic
def patient_register(*, full_name: str, email: str, password: str, language: str) -> None:
    """Create a patient account and send the confirmation link.

    An address that already has an account gets a warning e-mail instead. Both paths do the same
    work (hash the password, write an audit event and an e-mail to send) and answer with the same
    page, so neither the page nor its timing tells who has an account (bench/timing.py).
    Nobody is signed in: the warning's event has no actor, the new account's has the patient."""
    hashed = make_password(password)
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        audit.record(
            event_type="register.existing",
            action=audit.Action.EXECUTE,
            entity_type="User",
            entity_id=str(existing.pk),
            patient_id=existing.pk,
        )
        email_user(user=existing, name="account-exists")
        return
    user = User(email=email, full_name=full_name, language=language, role=Role.PATIENT, password=hashed)
    user.full_clean()
    user.save()
    audit.record(
        actor=user,
        event_type="register",
        action=audit.Action.CREATE,
        entity_type="User",
        entity_id=str(user.pk),
        patient_id=user.pk,
    )
    email_user(user=user, name="verify-email")


def verification_resend(*, email: str) -> None:
    user = User.objects.filter(email=email, email_verified=False, is_active=True).first()
    if user is not None and user.has_usable_password():
        email_user(user=user, name="verify-email")


@transaction.atomic
def email_verify(*, user: User) -> None:
    if User.objects.filter(pk=user.pk, email_verified=False).update(email_verified=True):
        audit.record(
            actor=user,
            event_type="email.verified",
            action=audit.Action.UPDATE,
            entity_type="User",
            entity_id=str(user.pk),
        )


@transaction.atomic
def user_invite(
    *,
    email: str,
    full_name: str,
    role: str,
    language: str,
    licence_number: str = "",
    specialties: list[str] | None = None,
    jurisdictions: list[str] | None = None,
    invited_by: User,
) -> User:
    """An admin invites a specialist or admin; they choose a password from the e-mailed link."""
    user = User(email=email, full_name=full_name, role=role, language=language, invited_by=invited_by)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    if role == Role.SPECIALIST:
        SpecialistProfile.objects.create(
            user=user, licence_number=licence_number, specialties=specialties or [], jurisdictions=jurisdictions or []
        )
    audit.record(
        actor=invited_by,
        event_type="invite.sent",
        action=audit.Action.CREATE,
        entity_type="User",
        entity_id=str(user.pk),
        detail={"role": role},
    )
    email_user(user=user, name="invitation")
    return user


@transaction.atomic
def invitation_accept(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(email_verified=True)
    user.email_verified = True
    audit.record(
        actor=user, event_type="invite.accepted", action=audit.Action.UPDATE, entity_type="User", entity_id=str(user.pk)
    )


def totp_device_for_enrolment(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled (its secret stays the same across page loads)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Backup codes", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def mfa_enrol_confirm(*, user: User, device: TOTPDevice) -> list[str]:
    """The user confirms their TOTP device; any older device goes, and every session of the user ends
    (the caller keeps its own: factor_changed)."""
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = backup_codes_regenerate(user=user)
    factor_changed(user=user, event_type="mfa.enrol")
    return codes


@transaction.atomic
def mfa_remove(*, user: User) -> None:
    """The user removes their second factor; every session of the user ends (factor_changed)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    factor_changed(user=user, event_type="mfa.remove")


def factor_changed(*, user: User, event_type: str) -> None:
    """The user changed a factor of their own: it ends all their sessions. The view keeps the one
    it serves with django's update_session_auth_hash(request, user), which needs the session."""
    user.end_all_sessions()
    audit.record(
        actor=user, event_type=event_type, action=audit.Action.UPDATE, entity_type="User", entity_id=str(user.pk)
    )
