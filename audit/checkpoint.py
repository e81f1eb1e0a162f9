"""Signed checkpoints of the audit chain's head, kept in the object store.

The hash chain shows an edited or deleted row, but not rows cut off its end: a shorter chain
still verifies. Every hour `checkpoint_write()` verifies the chain and stores the number of
events, the last id and its hash, signed with the service key (core/signing.py). `manage.py
audit_verify` then refuses a chain that lacks the event a checkpoint names, or has fewer events.
Checkpoints hold no patient data (ids and hashes only), so they are stored as plain JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

import audit
from audit.models import AuditEvent
from audit.services import VerifyResult, verify_chain
from audit.signals import chain_broken
from core import signing, storage

PREFIX = "audit-checkpoints/"
SIGNED_FIELDS = ("count", "head_id", "head_hash", "at", "key_id")


@dataclass(frozen=True)
class Checkpoint:
    name: str
    count: int
    head_id: int | None
    head_hash: str
    at: datetime
    valid: bool  # the signature verifies with our key


def _canonical(fields: dict[str, Any]) -> bytes:
    signed = {key: fields[key] for key in SIGNED_FIELDS}
    return json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_write() -> dict[str, Any]:
    """Verify the chain; if it holds, store a signed checkpoint of its head. If it does not,
    store nothing, audit the failure and tell the active admins."""
    result = verify_chain()
    if not result.ok:
        _report_broken(result)
        return {"ok": False, "broken_id": result.broken_id}
    now = timezone.now()
    fields: dict[str, Any] = {
        "count": result.count,
        "head_id": result.head_id,
        "head_hash": result.head,
        "at": now.isoformat(timespec="microseconds"),
        "key_id": signing.key_id(),
    }
    fields["signature"] = signing.sign("audit-checkpoint", _canonical(fields))
    name = f"{PREFIX}{now:%Y%m%dT%H%M%S.%fZ}.json"
    writer = storage.open_writer(name)
    try:
        writer.write(json.dumps(fields, sort_keys=True).encode())
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return {"ok": True, "name": name, "count": result.count, "head_id": result.head_id}


@transaction.atomic
def _report_broken(result: VerifyResult) -> None:
    audit.record(
        event_type="audit.verify.failed",
        action=audit.Action.EXECUTE,
        outcome=audit.Outcome.SERIOUS_FAILURE,
        entity_type="AuditEvent",
        entity_id=str(result.broken_id or ""),
        detail={"broken_id": result.broken_id},
    )
    chain_broken.send(sender=VerifyResult, broken_id=result.broken_id)


def _load(name: str) -> Checkpoint | None:
    try:
        fields = json.loads(b"".join(storage.read(name)))
        valid = signing.verify("audit-checkpoint", _canonical(fields), str(fields["signature"]))
        return Checkpoint(
            name=name,
            count=int(fields["count"]),
            head_id=fields["head_id"],
            head_hash=str(fields["head_hash"]),
            at=datetime.fromisoformat(fields["at"]),
            valid=valid,
        )
    except (ValueError, KeyError, TypeError):
        return None  # not a checkpoint we wrote


def checkpoints() -> Iterator[Checkpoint]:
    """The readable checkpoints, newest first, read one at a time (callers stop early: there is
    one an hour); `valid` tells whether its signature verifies."""
    for name in sorted(storage.names(PREFIX), reverse=True):
        checkpoint = _load(name) if name.endswith(".json") else None
        if checkpoint is not None:
            yield checkpoint


def latest_checkpoint() -> Checkpoint | None:
    """The newest checkpoint whose signature verifies."""
    return next((c for c in checkpoints() if c.valid), None)


def check_against_checkpoint(result: VerifyResult) -> str:
    """What is wrong with a chain that verified, judged by the newest checkpoint ("" if nothing).
    A newer checkpoint with a bad signature is itself a problem: someone wrote it."""
    for checkpoint in checkpoints():
        if not checkpoint.valid:
            return f"checkpoint {checkpoint.name}: signature invalid"
        if checkpoint.head_id is None:
            return ""
        head = AuditEvent.objects.filter(id=checkpoint.head_id).values_list("hash", flat=True).first()
        if head is None:
            return f"truncated: checkpoint at id {checkpoint.head_id} not found"
        if head != checkpoint.head_hash:
            return f"checkpoint at id {checkpoint.head_id}: hash differs"
        if result.count < checkpoint.count:
            return f"truncated: {result.count} events, checkpoint {checkpoint.name} counted {checkpoint.count}"
        return ""
    return ""
