"""Authentication events become audit events (the only logic kept in signals)."""

from __future__ import annotations

import time
from typing import Any

from axes.signals import user_locked_out
from axes.utils import reset as axes_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

import audit
from accounts.emails import email_admins
from accounts.models import User
from accounts.timezones import learn_from_browser
from audit.signals import chain_broken


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """AXES_USERNAME_CALLABLE: the address as the account knows it, so every spelling of one
    address shares one failure counter (and one lockout)."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(raw).strip().lower()


def _user_for(credentials: dict[str, Any] | None) -> User | None:
    email = str((credentials or {}).get("username") or "").strip().lower()
    return User.objects.filter(email=email).first() if email else None


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    # Only this account's own failures (from any address): the address's failures against
    # other accounts stay, so an attacker's own sign-ins never lift a victim's lockout.
    axes_reset(username=user.email)
    if request is None:
        return
    learn_from_browser(user, request.POST.get("time_zone", ""))
    now = time.time()
    request.session["login_at"] = now
    request.session["last_seen"] = now
    audit.record(
        request=request,
        actor=user,
        event_type="login",
        action=audit.Action.EXECUTE,
        entity_type="User",
        entity_id=str(user.pk),
    )


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if request is not None and user is not None:
        audit.record(
            request=request,
            actor=user,
            event_type="logout",
            action=audit.Action.EXECUTE,
            entity_type="User",
            entity_id=str(user.pk),
        )


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    user = _user_for(credentials)
    audit.record(
        request=request,
        actor=user,
        event_type="login.failed",
        action=audit.Action.EXECUTE,
        outcome=audit.Outcome.MINOR_FAILURE,
        entity_type="User",
        entity_id=str(user.pk) if user else "",
    )


@receiver(user_locked_out)
def on_locked_out(sender: Any, request: HttpRequest, username: str | None = None, **kwargs: Any) -> None:
    user = _user_for({"username": username})
    audit.record(
        request=request,
        actor=user,
        event_type="lockout",
        action=audit.Action.EXECUTE,
        outcome=audit.Outcome.SERIOUS_FAILURE,
        entity_type="User",
        entity_id=str(user.pk) if user else "",
    )


@receiver(chain_broken)
def on_chain_broken(sender: Any, broken_id: int | None, **kwargs: Any) -> None:
    """A broken audit chain is every administrator's business: each gets an e-mail (outbox row,
    written in the transaction that records the failure)."""
    email_admins(name="audit-verify-failed", params={"broken_id": broken_id})
