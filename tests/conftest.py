from __future__ import annotations

from typing import Any

import pytest
from django.db import connections, transaction
from django.test import Client

from accounts.models import Specialty
from secondopinion.celery import app as celery_app
from tests.factories import AdminFactory, PatientFactory, SpecialistFactory, add_totp, login

# Fixtures more than one test directory uses. Test modules never import fixtures, nor import a
# conftest or another test module for helpers (tests/test_test_layout.py checks it).
pytest_plugins = [
    "tests.fixtures.checkpoints",
    "tests.fixtures.clamd",
    "tests.fixtures.matrix",
    "tests.fixtures.storage",
]
# Its asserts were rewritten when it was part of tests/browser/conftest.py; they still are.
pytest.register_assert_rewrite("tests.browser.helpers")


def pytest_configure(config: Any) -> None:
    # Unit tests run tasks in-process; the pipeline tests start a real worker and turn this off.
    celery_app.conf.task_always_eager = True
    _flush_lifts_the_audit_triggers()


def _flush_lifts_the_audit_triggers() -> None:
    """The test run flushes the database after every transactional test (transactional_db,
    live_server), and the append-only audit triggers refuse that. For this run only, `flush`
    drops them and puts them back in one transaction, so they are never missing afterwards,
    even when flush fails. Outside the tests nothing lifts them (SECURITY.md row 41)."""
    from django.core.management.commands import flush

    handle = flush.Command.handle

    def handle_lifting_triggers(self: flush.Command, *args: Any, **options: Any) -> None:
        from audit import triggers
        from audit.models import AuditEvent

        connection = connections[options["database"]]
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if AuditEvent._meta.db_table not in connection.introspection.table_names(cursor):
                return handle(self, *args, **options)
            for sql in triggers.drop_sql(connection.vendor):
                cursor.execute(sql)
            handle(self, *args, **options)
            for sql in triggers.create_sql(connection.vendor):
                cursor.execute(sql)
        return None

    flush.Command.handle = handle_lifting_triggers  # type: ignore[method-assign]


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
def every_specialty_in_spain(db: Any) -> Any:
    """A specialist of every specialty, licensed in Spain (the factories' country): a case is only
    submitted if someone could take it (cases/coverage.py)."""
    return SpecialistFactory(profile__specialties=[code for code, _ in Specialty.choices])


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
        app.conf.update(
            task_always_eager=False,
            broker_url="redis://127.0.0.1:1/0",
            task_publish_retry=False,
            broker_transport_options={"max_retries": 0},
        )
        _reset_pools()
        try:
            yield
        finally:
            app.conf.update(saved)
            _reset_pools()

    return down
