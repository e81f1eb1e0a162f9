from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.signing import chain_key

GENESIS_HASH = "0" * 64


class Action(models.TextChoices):
    """FHIR AuditEvent.action."""

    CREATE = "C", "create"
    READ = "R", "read"
    UPDATE = "U", "update"
    DELETE = "D", "delete"
    EXECUTE = "E", "execute"


class Outcome(models.TextChoices):
    """FHIR AuditEvent.outcome (R4 codes)."""

    SUCCESS = "0", "success"
    MINOR_FAILURE = "4", "minor failure"
    SERIOUS_FAILURE = "8", "serious failure"
    MAJOR_FAILURE = "12", "major failure"


class AuditEvent(models.Model):
    """One audited action. Rows are only ever inserted, by audit.record().

    A database trigger refuses UPDATE and DELETE, and each row carries the hash of the row
    before it, so `manage.py audit_verify` finds rows edited or removed behind its back.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=1, choices=Action.choices)
    event_type = models.CharField(max_length=64)  # "login", "mfa.verify.failed", ...
    outcome = models.CharField(max_length=2, choices=Outcome.choices, default=Outcome.SUCCESS)
    # No database constraint and no SET_NULL: deleting a user must never touch these rows.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # covered by the (actor, at) index
        related_name="+",
    )
    actor_role = models.CharField(max_length=32, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    entity_type = models.CharField(max_length=64, blank=True)
    entity_id = models.CharField(max_length=64, blank=True)
    case_id = models.UUIDField(null=True, blank=True)
    patient_id = models.UUIDField(null=True, blank=True)
    # Codes and ids only, never names or free text.
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Id of the key of the HMAC in `hash` (core.signing.chain_key); None for the events written
    # before the chain was keyed (2026-12), whose hash is a plain SHA-256. Nullable without a default
    # so that SQLite adds the column in place: rebuilding the table would drop its triggers.
    chain_key = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001

    class Meta:
        indexes = [
            models.Index(fields=["at"], name="audit_at_idx"),
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
            models.Index(fields=["patient_id", "at"], name="audit_patient_at_idx"),
            models.Index(fields=["case_id", "at"], name="audit_case_at_idx"),
        ]

    def __str__(self) -> str:
        return f"audit:{self.pk}:{self.event_type}"

    def canonical_json(self) -> bytes:
        """The bytes the hash covers; the only serialization used to write and to verify.

        Every value is normalised so that what is read back from the database serializes
        exactly like what was written.
        """
        fields: dict[str, Any] = {
            "id": self.id,
            **({"chain_key": self.chain_key} if self.chain_key is not None else {}),
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "action": str(self.action),
            "event_type": self.event_type,
            "outcome": str(self.outcome),
            "actor_id": _str_or_none(self.actor_id),
            "actor_role": self.actor_role,
            "source_ip": _ip_or_none(self.source_ip),
            "user_agent": self.user_agent,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "case_id": _str_or_none(self.case_id),
            "patient_id": _str_or_none(self.patient_id),
            "detail": self.detail,
        }
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode()

    def compute_hash(self) -> str:
        """HMAC-SHA-256 under the chain key, so that whoever can write the table but lacks the key
        cannot recompute the chain after editing a row. Events from before the key: SHA-256."""
        data = self.prev_hash.encode() + self.canonical_json()
        if self.chain_key is None:
            return hashlib.sha256(data).hexdigest()

        key_id, key = chain_key()
        if key_id != self.chain_key:
            raise UnknownChainKey(self.chain_key)
        return hmac.new(key, b"v2\x00" + data, hashlib.sha256).hexdigest()


class UnknownChainKey(Exception):
    """The event was chained under a key this deployment does not have."""


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _ip_or_none(value: str | None) -> str | None:
    # PostgreSQL and Python may spell one IPv6 address differently.
    return str(ipaddress.ip_address(value)) if value else None
