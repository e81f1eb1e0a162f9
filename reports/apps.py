from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"

    def ready(self) -> None:
        from reports import emails, panels  # noqa: F401  (register its e-mail kind, case-page panel)
