"""E-mail through a durable outbox.

Three templates per message (subject, text, HTML), rendered in the recipient's language.
E-mails never carry clinical text, names of files or anything typed by a patient: only
references and links.

`email_user()` writes an OutgoingEmail row (kind, recipient, ids) in the caller's transaction
and queues `send_email_task(<row id>)` once it commits. The worker claims the row, builds the
template context from the ids at that moment (reset, invitation and verification links are
made there), sends, and marks it done. A failure is retried with backoff by the sweeper, which
also sends what a broker outage left behind. Task arguments, broker messages and log lines so
hold one UUID per e-mail, never a token, an address or a name.

Apps that send their own kinds register a context builder with `@email_kind("name")` in a
module their AppConfig.ready() imports, so this module imports no higher app.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import OutgoingEmail, Role, User
from accounts.timezones import zone_of
from core.emails import make_message

log = logging.getLogger(__name__)

Builder = Callable[[User, dict[str, Any]], dict[str, Any]]
_BUILDERS: dict[str, Builder] = {}
# Kinds whose params are already the whole context (codes and counts).
_PLAIN_KINDS = {"audit-verify-failed"}
MAX_ATTEMPTS = 8
_CODE = re.compile(r"[A-Za-z0-9_.:-]{0,64}")


def email_kind(name: str) -> Callable[[Builder], Builder]:
    """Register the function that turns an e-mail's ids into its template context."""

    def register(builder: Builder) -> Builder:
        _BUILDERS[name] = builder
        return builder

    return register


def kinds() -> set[str]:
    return set(_BUILDERS) | _PLAIN_KINDS


def email_user(*, user: User, name: str, params: dict[str, Any] | None = None) -> OutgoingEmail:
    """Record the intent to e-mail `user` in the current transaction; send it once it commits."""
    from accounts.tasks import send_email_task

    if name not in kinds():
        raise ValueError(f"unknown e-mail kind {name!r}")
    email = OutgoingEmail.objects.create(user=user, kind=name, params=_ids_only(params or {}))
    # robust: a broker outage must not turn a committed action into an error page; the sweeper
    # sends the e-mail once the broker is back.
    transaction.on_commit(lambda: send_email_task.delay(str(email.pk)), robust=True)
    return email


def email_admins(*, name: str, params: dict[str, Any] | None = None, but: User | None = None) -> None:
    """email_user() for every active administrator (`but` one of them, who did it)."""
    admins = User.objects.filter(role=Role.ADMIN, is_active=True)
    for admin in admins.exclude(pk=but.pk) if but is not None else admins:
        email_user(user=admin, name=name, params=params)


def email_nobody() -> None:
    """The work of email_user() for an address that has no account: a row without a recipient
    and its task, which the worker drops. A request about an unknown address then takes as long as
    one about a patient's (bench/timing.py)."""
    from accounts.tasks import send_email_task

    email = OutgoingEmail.objects.create(user=None, kind="none")
    transaction.on_commit(lambda: send_email_task.delay(str(email.pk)), robust=True)


def outgoing_send(*, email_id: str) -> str:
    """Send one outbox e-mail if nobody else is sending or has sent it. Returns what became of it:
    "sent", "skipped", "retry", "failed" or "" (not ours to send)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WORK_CLAIM_TIMEOUT)
    claimed = (
        OutgoingEmail.objects.filter(pk=email_id, done_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return ""
    email = OutgoingEmail.objects.select_related("user").get(pk=email_id)
    user = email.user
    if user is None or not user.is_active:
        return _finish(email, "skipped")
    try:
        with translation.override(user.language), timezone.override(zone_of(user)):
            ctx = {"user": user, **_context(email, user)}
            make_message(email.kind, user.email, ctx).send()
    except Exception as exc:
        # The exception's text may quote the address (SMTP refusals do): only its type is logged.
        if email.attempts >= MAX_ATTEMPTS:
            log.error("e-mail %s not sent after %s attempts (%s)", email.pk, email.attempts, type(exc).__name__)
            return _finish(email, "failed")
        delay = timedelta(minutes=min(2**email.attempts, 360))
        OutgoingEmail.objects.filter(pk=email.pk).update(claimed_at=None, next_attempt_at=now + delay)
        log.warning("e-mail %s not sent (%s); next attempt in %s", email.pk, type(exc).__name__, delay)
        return "retry"
    return _finish(email, "sent")


def outbox_sweep() -> dict[str, int]:
    """Queue every e-mail that is due and not being sent: lost with the broker, or to retry.
    A row queued twice is still sent once (the claim in outgoing_send)."""
    from accounts.tasks import send_email_task

    now = timezone.now()
    lost = now - timedelta(seconds=settings.WORK_LOST_AFTER)
    stale = now - timedelta(seconds=settings.WORK_CLAIM_TIMEOUT)
    due = (
        OutgoingEmail.objects.filter(done_at__isnull=True, next_attempt_at__lte=now, created_at__lt=lost)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .values_list("pk", flat=True)
    )
    queued = 0
    for pk in due.iterator():
        send_email_task.delay(str(pk))
        queued += 1
    # Sent e-mails are kept a while (what left, when), then go.
    removed, _ = OutgoingEmail.objects.filter(done_at__lt=now - timedelta(days=30)).delete()
    return {"queued": queued, "removed": removed}


def _finish(email: OutgoingEmail, outcome: str) -> str:
    OutgoingEmail.objects.filter(pk=email.pk).update(done_at=timezone.now(), outcome=outcome, claimed_at=None)
    return outcome


def _context(email: OutgoingEmail, user: User) -> dict[str, Any]:
    builder = _BUILDERS.get(email.kind)
    return builder(user, email.params) if builder is not None else dict(email.params)


def _ids_only(value: Any) -> Any:
    """Params are ids, codes and counts (they are stored, and a row must never hold a secret)."""
    if isinstance(value, dict):
        return {str(key): _ids_only(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_ids_only(item) for item in value]
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, str) and _CODE.fullmatch(value):
        return value
    if hasattr(value, "hex") and hasattr(value, "int"):  # a UUID
        return str(value)
    raise TypeError("e-mail params hold ids, codes and counts only")


def _uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


@email_kind("password-reset")
def _password_reset(user: User, params: dict[str, Any]) -> dict[str, Any]:
    from django.contrib.auth.tokens import default_token_generator

    token = default_token_generator.make_token(user)
    return {"path": reverse("accounts:password_reset_confirm", kwargs={"uidb64": _uid(user), "token": token})}


@email_kind("invitation")
def _invitation(user: User, params: dict[str, Any]) -> dict[str, Any]:
    from accounts.tokens import invitation_token

    token = invitation_token.make_token(user)
    return {
        "path": reverse("accounts:invitation_accept", kwargs={"uidb64": _uid(user), "token": token}),
        "role": user.role,
    }


@email_kind("verify-email")
def _verify_email(user: User, params: dict[str, Any]) -> dict[str, Any]:
    from accounts.tokens import make_email_verification_token

    return {"path": reverse("accounts:verify_email", args=[make_email_verification_token(user)])}


@email_kind("account-exists")
def _account_exists(user: User, params: dict[str, Any]) -> dict[str, Any]:
    return {"path": reverse("accounts:password_reset")}


@email_kind("mfa-reset")
def _mfa_reset(user: User, params: dict[str, Any]) -> dict[str, Any]:
    return {"path": reverse("accounts:login")}
