from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from audit import Action, AuditEvent, record


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
def test_flush_empties_the_table_and_puts_the_triggers_back() -> None:
    record(event_type="login", action=Action.EXECUTE)

    call_command("flush", interactive=False, verbosity=0)

    assert not AuditEvent.objects.exists()
    record(event_type="login", action=Action.EXECUTE)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
