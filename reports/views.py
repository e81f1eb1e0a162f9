from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import render

from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from cases.access import case_for_user


@role_required(Role.SPECIALIST)
def workspace(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    """The review workspace of a case the specialist leads, was consulted on or reported on."""
    case = case_for_user(request, case_id)
    return render(request, "reports/workspace.html", {"case": case})
