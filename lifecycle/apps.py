from __future__ import annotations

from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """What happens to a patient's data over time: retention, legal hold, purge, erasure,
    deletion certificates and the patient's export."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "lifecycle"
