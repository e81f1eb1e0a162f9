"""The clinic's details (core.models.ClinicDetails): the saved row, or until an admin saves one,
the service's name with no contact details (the console's first page asks for them)."""

from __future__ import annotations

from django.conf import settings

from core.models import ClinicDetails

EDITABLE = ("name", "address", "email", "phone", "hours", "dpo_name", "dpo_email")


def details() -> ClinicDetails:
    saved = ClinicDetails.objects.filter(pk=ClinicDetails.SINGLETON).first()
    return saved or ClinicDetails(name=settings.CLINIC_NAME)
