from django.apps import AppConfig


class UploadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "uploads"

    def ready(self) -> None:
        from uploads import emails, panels  # noqa: F401  (register e-mail kinds, case-page panels)
