"""A patient's health record as a FHIR R4 Bundle (type "collection"), built and validated with
fhir.resources (its R4B models: FHIR 4.3, wire-compatible with R4 for these resources).

Resources refer to each other by `urn:uuid:` fullUrls: the Patient; a ServiceRequest per case;
a Consent per accepted consent; an Observation per measurement; a DocumentReference per kept
file (metadata only: the files themselves are in the ZIP export); a DiagnosticReport per signed
report, with its PDF inline when it is rendered."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from django.utils import timezone

from cases.models import Case, MeasurementMethod, Status
from lifecycle.export import ExportPlan
from reports.models import RenderStatus, Report
from reports.rendering import open_document

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
SHA256_SYSTEM = "urn:ietf:rfc:6920"  # named information: "sha-256" digests, as our identifier type
REFERENCE_SYSTEM = "urn:secondopinion:case-reference"
SERVICE_REQUEST_STATUS: dict[str, str] = {
    Status.DRAFT: "draft",
    Status.CLOSED: "completed",
    Status.WITHDRAWN: "revoked",
}


FHIR_GENDER = {"female": "female", "male": "male", "intersex": "other"}
# The core extension for a person's gender identity (FHIR R5 core extensions, usable in R4).
GENDER_IDENTITY_URL = "http://hl7.org/fhir/StructureDefinition/individual-genderIdentity"


def _urn(kind: str, pk: Any, parent: Any = None) -> str:
    """The fullUrl of a resource: our UUID where the row has one, else a stable name-based one."""
    value = pk if isinstance(pk, uuid.UUID) else uuid.uuid5(parent, f"{kind}:{pk}")
    return f"urn:uuid:{value}"


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": full_url, "resource": resource}


def _patient(plan: ExportPlan) -> dict[str, Any]:
    patient = plan.patient
    return {
        "resourceType": "Patient",
        "name": [{"text": patient.full_name}],
        "telecom": [{"system": "email", "value": patient.email}],
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.language}]}, "preferred": True}
        ],
        # Administrative gender has no "intersex": FHIR's "other" (with the sex at birth as text).
        **({"gender": FHIR_GENDER[patient.sex]} if patient.sex else {}),
        **({"birthDate": patient.birth_date.isoformat()} if patient.birth_date else {}),
        **(
            {"extension": [{"url": GENDER_IDENTITY_URL, "valueCodeableConcept": {"text": patient.gender_identity}}]}
            if patient.gender_identity
            else {}
        ),
    }


def _service_request(case: Case, subject: dict[str, str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": REFERENCE_SYSTEM, "value": case.reference}],
        "status": SERVICE_REQUEST_STATUS.get(case.status, "active"),
        "intent": "order",
        "code": {"text": "Second opinion"},
        "subject": subject,
    }
    if case.specialty:
        resource["category"] = [{"text": case.get_specialty_display()}]
    if case.submitted_at:
        resource["authoredOn"] = case.submitted_at.isoformat()
    if case.reason:
        resource["reasonCode"] = [{"text": case.reason}]
    notes = [q.text for q in case.questions.all()]
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return resource


def _consents(case: Case, subject: dict[str, str]) -> list[dict[str, Any]]:
    return [
        _entry(
            _urn("consent", c.pk, case.pk),
            {
                "resourceType": "Consent",
                "status": "inactive" if c.withdrawn_at else "active",
                "scope": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]
                },
                "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}],
                "patient": subject,
                "dateTime": c.accepted_at.isoformat(),
                "policyRule": {
                    "text": f"Second opinion consent, version {c.version.version} ({c.language}), "
                    f"SHA-256 {c.text_sha256}"
                },
            },
        )
        for c in case.consents.all()
    ]


def _observations(
    case: Case, subject: dict[str, str], request: dict[str, str], documents: dict[str, str]
) -> list[dict[str, Any]]:
    entries = []
    for m in case.measurements.all():
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "basedOn": [request],
            "code": {"text": "Size of lesion"},
            "subject": subject,
            "effectiveDateTime": m.measured_on.isoformat(),
            "valueQuantity": {"value": m.value_mm, "unit": "mm", "system": UCUM, "code": "mm"},
            "bodySite": {"text": m.site},
            "method": {"text": str(dict(MeasurementMethod.choices).get(m.method, m.method))},
        }
        if m.photo_id and str(m.photo_id) in documents:
            resource["derivedFrom"] = [{"reference": documents[str(m.photo_id)]}]
        entries.append(_entry(_urn("measurement", m.pk, case.pk), resource))
    return entries


def _document_references(
    plan: ExportPlan, case: Case, subject: dict[str, str], request: dict[str, str]
) -> list[dict[str, Any]]:
    return [
        _entry(
            _urn("file", upload.pk),
            {
                "resourceType": "DocumentReference",
                "status": "current",
                # FHIR's attachment hash is SHA-1; ours is SHA-256 of the file as the patient sent it.
                "identifier": [{"system": SHA256_SYSTEM, "value": f"ni:///sha-256;{upload.sha256}"}],
                "subject": subject,
                "date": upload.created_at.isoformat(),
                "content": [
                    {
                        "attachment": {
                            "contentType": upload.mime,
                            "size": upload.stored_size,
                            "title": upload.original_name,
                        }
                    }
                ],
                "context": {"related": [request]},
            },
        )
        for upload, _path in plan.files
        if upload.case_id == case.pk
    ]


def _diagnostic_report(report: Report, subject: dict[str, str], request: dict[str, str]) -> dict[str, Any]:
    documents = list(report.documents.all())
    current = documents[-1] if documents else None
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "amended" if current and current.version > 1 else "final",
        "basedOn": [request],
        "code": {
            "coding": [{"system": LOINC, "code": "11488-4", "display": "Consult note"}],
            "text": "Second opinion report",
        },
        "subject": subject,
        "conclusion": report.summary,
    }
    if report.signed_at:
        resource["issued"] = report.signed_at.isoformat()
    if current and current.render_status == RenderStatus.READY:
        pdf = b"".join(open_document(current))
        resource["presentedForm"] = [
            {
                "contentType": "application/pdf",
                "size": len(pdf),
                "title": f"{report.case.reference}-v{current.version}.pdf",
                "data": base64.b64encode(pdf).decode("ascii"),
            }
        ]
    return resource


def bundle(plan: ExportPlan) -> Any:
    """The validated fhir.resources Bundle of the plan's patient."""
    from fhir.resources.R4B.bundle import Bundle

    patient_urn = _urn("patient", plan.patient.pk)
    subject = {"reference": patient_urn}
    entries = [_entry(patient_urn, _patient(plan))]
    documents = {str(upload.pk): _urn("file", upload.pk) for upload, _path in plan.files}
    for case in plan.cases:
        request_urn = _urn("case", case.pk)
        request = {"reference": request_urn}
        entries.append(_entry(request_urn, _service_request(case, subject)))
        entries += _consents(case, subject)
        entries += _document_references(plan, case, subject, request)
        entries += _observations(case, subject, request, documents)
        entries += [_entry(_urn("report", r.pk), _diagnostic_report(r, subject, request)) for r in case.reports.all()]
    return Bundle.model_validate(
        {"resourceType": "Bundle", "type": "collection", "timestamp": timezone.now().isoformat(), "entry": entries}
    )


def bundle_json(plan: ExportPlan) -> bytes:
    return bundle(plan).model_dump_json(exclude_none=True).encode("utf-8")
