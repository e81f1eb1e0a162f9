"""Append-only, hash-chained audit trail.

    import audit
    audit.record(request=request, event_type="login", action=audit.Action.EXECUTE)

Names are imported lazily so that importing this package while Django loads its apps
does not touch the app registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.models import Action, AuditEvent, Outcome
    from audit.services import VerifyResult, record, verify_chain

__all__ = ["Action", "AuditEvent", "Outcome", "VerifyResult", "record", "verify_chain"]

_HOME = {
    "Action": "audit.models",
    "AuditEvent": "audit.models",
    "Outcome": "audit.models",
    "VerifyResult": "audit.services",
    "record": "audit.services",
    "verify_chain": "audit.services",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'audit' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(_HOME[name]), name)
