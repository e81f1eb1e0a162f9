from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.context import client, client_of
from audit.models import GENESIS_HASH, AuditEvent, Outcome, UnknownChainKey
from core import signing

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

# Key of the PostgreSQL advisory lock that serializes chain writers ("audit" in ASCII).
CHAIN_LOCK = 0x6175646974


def record(
    *,
    event_type: str,
    action: str,
    outcome: str = Outcome.SUCCESS,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | None = None,
    entity_type: str = "",
    entity_id: Any = "",
    case_id: uuid.UUID | str | None = None,
    patient_id: uuid.UUID | str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit chain, inside the caller's transaction.

    The IP address and user agent come from the request being served (audit/context.py), or
    from `request` when one is given, which also gives the actor unless `actor` is.
    `detail` holds codes and ids only (str, int, bool, None, UUID, lists and dicts of them),
    never names or free text. Nothing here is ever logged.
    """
    origin = client_of(request) if request is not None else client.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    event = AuditEvent(
        action=action,
        event_type=event_type,
        outcome=outcome,
        actor_id=actor.pk if actor is not None else None,
        actor_role=getattr(actor, "role", ""),
        source_ip=origin.ip,
        user_agent=origin.user_agent,
        entity_type=entity_type,
        entity_id=str(entity_id),
        case_id=case_id,
        patient_id=patient_id,
        detail=_codes_only(detail or {}),
    )
    # Converts UUID strings, checks choices and lengths, before the values are hashed.
    event.full_clean(
        exclude=["actor", "prev_hash", "hash"],
        validate_unique=False,
        validate_constraints=False,
    )
    # The advisory lock (PostgreSQL) or the IMMEDIATE write lock (SQLite) is held until
    # the outermost transaction ends, so the next writer reads this row as the last one.
    # The id is chosen here, not by the sequence, because the hash covers it.
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
        event.id, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event.at = timezone.now()
        event.chain_key = signing.chain_key()[0]
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    if event.id % settings.AUDIT_CHECKPOINT_EVERY == 0 or _checkpoint_hour_passed():
        from audit.tasks import audit_checkpoint_task

        transaction.on_commit(audit_checkpoint_task.delay, robust=True)
    return event


_next_hourly_checkpoint = time.monotonic() + 3600


def _checkpoint_hour_passed() -> bool:
    """Once an hour of this process's life, a checkpoint is asked for too: the embedded default
    runs no beat, and a quiet deployment may take long to reach the next AUDIT_CHECKPOINT_EVERY."""
    global _next_hourly_checkpoint
    if time.monotonic() < _next_hourly_checkpoint:
        return False
    _next_hourly_checkpoint = time.monotonic() + 3600
    return True


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int  # events verified before the first broken one
    head: str  # hash of the last good event
    broken_id: int | None = None
    reason: str = ""
    head_id: int | None = None  # id of the last good event (None for an empty chain)


def verify_chain() -> VerifyResult:
    """Walk the chain in id order and report the first event that does not verify."""
    count, prev_id, prev_hash, keyed = 0, None, GENESIS_HASH, False
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev_hash:
            what = f"previous event id={prev_id}" if prev_id else "the genesis hash"
            reason = f"prev_hash does not match {what} (row deleted or inserted)"
            return VerifyResult(False, count, prev_hash, event.id, reason, prev_id)
        if keyed and event.chain_key is None:
            # Unkeyed hashes are only for the events from before the key: a later one was
            # recomputed by someone without it.
            reason = "unkeyed hash after keyed events (row rewritten without the chain key)"
            return VerifyResult(False, count, prev_hash, event.id, reason, prev_id)
        try:
            matches = event.compute_hash() == event.hash
        except UnknownChainKey as exc:
            reason = f"chained under key {exc.args[0]}, which this deployment does not have"
            return VerifyResult(False, count, prev_hash, event.id, reason, prev_id)
        if not matches:
            reason = "hash mismatch (row edited)"
            return VerifyResult(False, count, prev_hash, event.id, reason, prev_id)
        keyed = keyed or event.chain_key is not None
        count, prev_id, prev_hash = count + 1, event.id, event.hash
    return VerifyResult(True, count, prev_hash, head_id=prev_id)


def _codes_only(value: Any) -> Any:
    """A JSON-safe copy of `detail` that reads back from the database exactly as written."""
    if isinstance(value, dict):
        return {str(key): _codes_only(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_codes_only(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        return str(value)  # a TextChoices member becomes its plain value
    if value is None or isinstance(value, int):  # bool is an int
        return value
    raise TypeError(f"audit detail holds codes and ids only, not {type(value).__name__}")
