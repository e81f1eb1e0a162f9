"""The clinic's own details: who runs the service and how to reach them (and its data-protection
officer). One row, edited by admins in the console; the contact and privacy pages and the
e-mails read it. Not patient data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ClinicDetails(models.Model):
    SINGLETON = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON, editable=False)
    name = models.CharField(_("The clinic's name"), max_length=200)
    address = models.TextField(_("Postal address"), max_length=500, blank=True)
    email = models.EmailField(_("E-mail address for patients"), blank=True)
    phone = models.CharField(_("Telephone number"), max_length=40, blank=True)
    hours = models.CharField(_("When the telephone is answered"), max_length=200, blank=True)
    dpo_name = models.CharField(_("Data-protection officer's name"), max_length=200, blank=True)
    dpo_email = models.EmailField(_("Data-protection officer's e-mail address"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return "clinic-details"

    @property
    def reachable(self) -> bool:
        """Whether a patient has a way to contact the clinic."""
        return bool(self.email or self.phone)
