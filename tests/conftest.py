from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from secondopinion.celery import app as celery_app
from tests.factories import AdminFactory, PatientFactory, SpecialistFactory, add_totp, login


def pytest_configure(config: Any) -> None:
    # Unit tests run tasks in-process; the pipeline tests start a real worker and turn this off.
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fast_and_hermetic(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def patient_a(db: Any) -> Any:
    return PatientFactory()


@pytest.fixture
def patient_b(db: Any) -> Any:
    return PatientFactory()


@pytest.fixture
def specialist(db: Any) -> Any:
    user = SpecialistFactory()
    add_totp(user)
    return user


@pytest.fixture
def admin_user(db: Any) -> Any:
    user = AdminFactory()
    add_totp(user)
    return user


@pytest.fixture
def patient_client(patient_a: Any) -> Client:
    return login(Client(), patient_a)


@pytest.fixture
def specialist_client(specialist: Any) -> Client:
    return login(Client(), specialist)


@pytest.fixture
def admin_client_verified(admin_user: Any) -> Client:
    return login(Client(), admin_user)


@pytest.fixture
def broker_down() -> Any:
    """Redis unreachable as a broker (a closed port), for real, while the test's block runs:
    tasks are published instead of run in-process, and publishing fails at once."""
    from contextlib import contextmanager

    from secondopinion.celery import app

    keys = ("task_always_eager", "broker_url", "task_publish_retry", "broker_transport_options")

    def _reset_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    @contextmanager
    def down() -> Any:
        saved = {key: app.conf[key] for key in keys}
        app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0", task_publish_retry=False,
                        broker_transport_options={"max_retries": 0})
        _reset_pools()
        try:
            yield
        finally:
            app.conf.update(saved)
            _reset_pools()

    return down
