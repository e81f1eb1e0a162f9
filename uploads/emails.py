"""Context of the e-mails about files, built by the worker when it sends (accounts/emails.py)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts.emails import email_kind
from accounts.models import User
from cases.models import Case
from uploads.models import Upload


@email_kind("case-receipt")
def _receipt(user: User, params: dict[str, Any]) -> dict[str, Any]:
    """The receipt lists each file by size and SHA-256, never by name: a file name is often a
    diagnosis ("melanoma-left-arm.jpg"), and e-mail carries no medical information."""
    case = Case.objects.only("reference", "due_at").get(pk=params["case_id"])
    files = Upload.objects.filter(case=case, parent__isnull=True).order_by("created_at", "pk")
    return {
        "reference": case.reference,
        "path": reverse("cases:detail", args=[case.pk]),
        "due_at": case.due_at,
        "files": [{"size": f.size, "sha256": f.sha256} for f in files.only("size", "sha256")],
    }
