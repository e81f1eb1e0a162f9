"""The audit export schema: fixed CSV columns, and FHIR R4 AuditEvent resources that parse back."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from django.urls import reverse
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from fhir.resources.R4B.bundle import Bundle

from audit import Action, AuditEvent, record
from console.export import CSV_COLUMNS
from tests.console.review_helpers import admin_client, break_glass, denial, read, reviewed_case
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


def _body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["console:export_csv", "console:export_fhir"])
def test_an_export_asks_for_a_fresh_factor_first(name: str) -> None:
    client, _admin = admin_client()

    response = client.get(reverse(name), {"outcome": "0"})

    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:step_up"))
    assert not AuditEvent.objects.filter(event_type="audit.export").exists()


def test_the_csv_export_has_the_documented_columns_and_utc_times() -> None:
    case = reviewed_case()
    first = read(case, case.specialist, "upload.download")
    client, _admin = admin_client(stepped_up=True)

    response = client.get(reverse("console:export_csv"), {"case": case.reference})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO(_body(response).decode())))
    assert (
        list(rows[0])
        == CSV_COLUMNS
        == [
            "id",
            "at",
            "action",
            "event_type",
            "outcome",
            "actor_id",
            "actor_role",
            "source_ip",
            "entity_type",
            "entity_id",
            "case_id",
            "case_reference",
            "patient_id",
            "detail",
            "hash",
        ]
    )
    assert [r["id"] for r in rows] == [str(first.id)]
    row = rows[0]
    assert row["at"].endswith("+00:00") and datetime.fromisoformat(row["at"]) == first.at
    assert (row["action"], row["event_type"], row["outcome"]) == ("R", "upload.download", "0")
    assert (row["actor_id"], row["actor_role"]) == (str(case.specialist_id), "specialist")
    assert (row["case_id"], row["case_reference"], row["patient_id"]) == (
        str(case.pk),
        case.reference,
        str(case.patient_id),
    )
    assert row["hash"] == first.hash


def test_the_csv_export_cannot_smuggle_a_formula_into_a_spreadsheet() -> None:
    record(event_type="page.denied", action=Action.READ, entity_type="Page", entity_id='=HYPERLINK("x")')
    client, _admin = admin_client(stepped_up=True)

    rows = list(
        csv.DictReader(
            io.StringIO(_body(client.get(reverse("console:export_csv"), {"event_type": "page.denied"})).decode())
        )
    )

    assert rows[0]["entity_id"] == '\'=HYPERLINK("x")'


def test_each_export_is_audited_with_its_format_and_row_count() -> None:
    case = reviewed_case()
    read(case, case.specialist)
    read(case, case.specialist)
    client, admin = admin_client(stepped_up=True)

    _body(client.get(reverse("console:export_fhir"), {"case": case.reference}))

    event = AuditEvent.objects.get(event_type="audit.export")
    assert event.actor_id == admin.pk
    assert event.detail == {"format": "fhir", "rows": 2, "filters": {"case": case.reference}}


def test_the_fhir_export_is_a_bundle_of_valid_audit_events() -> None:
    case = reviewed_case()
    admin = AdminFactory()
    events = [
        read(case, case.specialist),
        break_glass(case, admin),
        denial(case, case.specialist),
        record(event_type="audit.verify.failed", action=Action.EXECUTE, outcome="8", case_id=case.pk),
    ]
    client, _admin = admin_client(stepped_up=True)

    response = client.get(reverse("console:export_fhir"), {"case": case.reference})

    assert response["Content-Type"] == "application/fhir+json"
    bundle = Bundle.model_validate(json.loads(_body(response)))
    assert bundle.type == "collection"
    resources = [entry.resource for entry in bundle.entry]
    assert all(isinstance(r, FhirAuditEvent) for r in resources)
    by_id = {r.id: r for r in resources}
    assert set(by_id) == {str(e.id) for e in events}

    for event in events:
        resource = by_id[str(event.id)]
        assert resource.subtype[0].code == event.event_type
        assert resource.type.code == event.event_type.split(".")[0]
        assert (resource.action, resource.outcome) == (event.action, event.outcome)
        assert resource.recorded == event.at
        assert resource.source.observer.display == "secondopinion"
        identifiers = {(e.what.identifier.system, e.what.identifier.value) for e in resource.entity}
        assert ("urn:secondopinion:case", str(case.pk)) in identifiers
    specialist_read = by_id[str(events[0].id)]
    agent = specialist_read.agent[0]
    assert (agent.who.identifier.system, agent.who.identifier.value) == (
        "urn:secondopinion:user",
        str(case.specialist_id),
    )
    assert agent.role[0].coding[0].code == "specialist" and agent.requestor is True
    patient = next(e for e in specialist_read.entity if e.role is not None)
    assert (patient.what.identifier.value, patient.role.code) == (str(case.patient_id), "1")
    glass = by_id[str(events[1].id)]
    assert glass.entity[0].detail[0].type == "break_glass_id"
    system = by_id[str(events[3].id)].agent[0]
    assert (system.who.identifier.value, system.requestor) == ("system", False)
    # No names anywhere: only codes and identifiers.
    text = json.dumps(bundle.model_dump(mode="json"))
    assert case.specialist.full_name not in text and case.patient.email not in text


def test_an_export_without_filters_holds_the_whole_trail() -> None:
    case = reviewed_case()
    read(case, case.specialist)
    record(event_type="login", action=Action.EXECUTE)
    client, _admin = admin_client(stepped_up=True)

    rows = list(csv.DictReader(io.StringIO(_body(client.get(reverse("console:export_csv"))).decode())))

    everything_before = AuditEvent.objects.exclude(event_type="audit.export").order_by("-id")
    assert [r["id"] for r in rows] == [str(e.id) for e in everything_before]
    assert {"login", "case.read"} <= {r["event_type"] for r in rows}
