from django.apps import AppConfig


class SecondOpinionConfig(AppConfig):
    """The project as an app, last in INSTALLED_APPS: what is composed from every app below it
    (the storage check, its command and task) lives here."""

    name = "secondopinion"

    def ready(self) -> None:
        from secondopinion import invariants  # noqa: F401  (registers its e-mail kind)
