from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from audit import Action, AuditEvent, record
from tests.factories import PatientFactory
from tests.worker import ROOT, worker_database_url


@pytest.mark.django_db
def test_the_database_refuses_update() -> None:
    record(event_type="login", action=Action.EXECUTE)

    with pytest.raises(IntegrityError, match="audit_auditevent is append-only"), transaction.atomic():
        AuditEvent.objects.update(event_type="logout")


@pytest.mark.django_db
def test_the_database_refuses_delete() -> None:
    record(event_type="login", action=Action.EXECUTE)

    with pytest.raises(IntegrityError, match="audit_auditevent is append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
def test_the_database_refuses_truncate() -> None:
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")


@pytest.mark.django_db(transaction=True)
def test_manage_py_flush_leaves_every_audit_event() -> None:
    """SECURITY.md row 41: outside the test run nothing lifts the triggers, so `flush` fails whole."""
    PatientFactory()
    for n in range(3):
        record(event_type="login", action=Action.EXECUTE, detail={"n": n})
    events = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    users = User.objects.count()

    env = os.environ | {"DATABASE_URL": worker_database_url(), "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "manage.py", "flush", "--noinput", "--traceback"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=120)  # noqa: S603

    assert result.returncode != 0, result.stdout.decode() + result.stderr.decode()
    assert b"audit_auditevent is append-only" in result.stderr  # refused by the triggers, not by chance
    assert list(AuditEvent.objects.order_by("id").values_list("id", flat=True)) == events
    assert User.objects.count() == users  # one transaction: the other tables keep their rows too


@pytest.mark.django_db(transaction=True)
def test_the_test_runs_flush_empties_the_table_and_puts_the_triggers_back() -> None:
    record(event_type="login", action=Action.EXECUTE)

    call_command("flush", interactive=False, verbosity=0)

    assert not AuditEvent.objects.exists()
    record(event_type="login", action=Action.EXECUTE)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
