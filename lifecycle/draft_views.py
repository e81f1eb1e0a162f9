"""A patient deletes a draft case they will not send (its files too)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from cases.access import case_for_user
from lifecycle import purge


@role_required(Role.PATIENT)
def draft_delete(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, owner_only=True)
    if not case.is_draft:
        messages.error(request, _("Only a draft can be deleted. You can withdraw a case you have sent."))
        return redirect("cases:detail", case.pk)
    if request.method == "POST":
        if purge.draft_delete(actor=request.user, case=case):
            messages.success(request, _("The draft and its files are deleted."))
        else:
            messages.error(request, _("This case was sent meanwhile, so it was not deleted."))
        return redirect("cases:patient_home")
    return render(request, "lifecycle/draft_delete.html", {"case": case, "files": case.uploads.count()})
