"""Audit events as FHIR R4 AuditEvent resources, built and validated with fhir.resources.

Codes and identifiers only: users, cases, patients and objects appear as identifiers in our
own URN systems, never by name."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from audit.models import AuditEvent

SYSTEM = "urn:secondopinion"
EVENT_TYPE_SYSTEM = f"{SYSTEM}:audit-event-type"
ROLE_SYSTEM = f"{SYSTEM}:role"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
NETWORK_IP, NETWORK_NAME = "2", "1"  # AuditEvent.agent.network.type: IP address; machine name
OBSERVER = "secondopinion"


def _identifier(kind: str, value: object) -> dict[str, Any]:
    return {"identifier": {"system": f"{SYSTEM}:{kind}", "value": str(value)}}


def _agent(event: AuditEvent) -> dict[str, Any]:
    if event.actor_id is None:
        return {"who": _identifier("agent", "system"), "requestor": False}
    agent: dict[str, Any] = {"who": _identifier("user", event.actor_id), "requestor": True}
    if event.actor_role:
        agent["role"] = [{"coding": [{"system": ROLE_SYSTEM, "code": event.actor_role}]}]
    if event.source_ip:
        agent["network"] = {"address": str(ipaddress.ip_address(event.source_ip)), "type": NETWORK_IP}
    return agent


def _entities(event: AuditEvent) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if event.entity_type and event.entity_id:
        entities.append(
            {
                "what": _identifier(event.entity_type.lower(), event.entity_id),
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
            }
        )
    if event.case_id and not (event.entity_type == "Case" and event.entity_id == str(event.case_id)):
        entities.append(
            {
                "what": _identifier("case", event.case_id),
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
            }
        )
    if event.patient_id:
        entities.append(
            {
                "what": _identifier("patient", event.patient_id),
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    if event.detail and entities:  # codes and ids only (audit.record refuses anything else)
        entities[0]["detail"] = [
            {"type": key, "valueString": json.dumps(value, sort_keys=True)}
            for key, value in sorted(event.detail.items())
        ]
    return entities


def audit_event_resource(event: AuditEvent) -> FhirAuditEvent:
    category = event.event_type.split(".")[0]
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.id),
        "type": {"system": EVENT_TYPE_SYSTEM, "code": category},
        "subtype": [{"system": EVENT_TYPE_SYSTEM, "code": event.event_type}],
        "action": event.action,
        "recorded": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "outcome": event.outcome,
        "agent": [_agent(event)],
        "source": {"observer": {"display": OBSERVER}},
    }
    entities = _entities(event)
    if entities:
        resource["entity"] = entities
    return FhirAuditEvent.model_validate(resource)


def bundle_chunks(events: Iterable[AuditEvent], *, timestamp: str) -> Iterator[bytes]:
    """A Bundle (type "collection") of AuditEvent resources, one entry at a time, so memory
    stays flat however many events there are."""
    yield ('{"resourceType":"Bundle","type":"collection","timestamp":' + json.dumps(timestamp) + ',"entry":[').encode()
    for n, event in enumerate(events):
        entry = audit_event_resource(event).model_dump_json(exclude_none=True)
        yield (
            ("," if n else "") + '{"fullUrl":"' + f"{SYSTEM}:audit-event:{event.id}" + '","resource":' + entry + "}"
        ).encode()
    yield b"]}"
