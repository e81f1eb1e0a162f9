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
