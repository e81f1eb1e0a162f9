"""The signed reports on the case page (see cases/panels.py); registered by ReportsConfig.ready()."""

from __future__ import annotations

from typing import Any

from cases.models import Case
from cases.panels import contributes_to
from reports.services import patient_reports_context, report_mark_read


@contributes_to("detail")
def signed_reports(case: Case, user: Any) -> dict[str, Any]:
    context = patient_reports_context(case)
    if user is not None and user.pk == case.patient_id:  # the patient has now seen them
        for view in context["signed_reports"]:
            report_mark_read(report=view["report"])
    return context
