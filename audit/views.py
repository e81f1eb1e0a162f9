from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from audit.access_log import access_log_page
from cases.access import case_for_user


@require_GET
@role_required(Role.PATIENT)
def access_log(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    page = access_log_page(case=case, page=request.GET.get("page"))
    return render(request, "audit/access_log.html", {"case": case, "page_obj": page})
