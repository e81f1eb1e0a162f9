"""The patient's export (the patient's own data, after a fresh factor): the page, the ZIP and the
FHIR Bundle (lifecycle/export.py builds them)."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from accounts.stepup import has_recent_stepup, stepup_required
from core.responses import attachment
from lifecycle import export as export_services


@role_required(Role.PATIENT)
def export(request: AuthedRequest) -> HttpResponse:
    return render(request, "lifecycle/export.html", {"stepped_up": has_recent_stepup(request)})


def _export_name(extension: str) -> str:
    return f"secondopinion-export-{timezone.localdate().isoformat()}.{extension}"


@role_required(Role.PATIENT)
@stepup_required
def export_zip(request: AuthedRequest) -> HttpResponseBase:
    response = StreamingHttpResponse(
        export_services.patient_export_zip(patient=request.user), content_type="application/zip"
    )
    return attachment(response, _export_name("zip"))


@role_required(Role.PATIENT)
@stepup_required
def export_fhir(request: AuthedRequest) -> HttpResponseBase:
    data = export_services.patient_export_fhir(patient=request.user)
    response = StreamingHttpResponse([data], content_type="application/fhir+json")
    response["Content-Length"] = str(len(data))
    return attachment(response, _export_name("fhir.json"))
