"""Helpers for the tests that tamper with the audit chain and run `audit_verify`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.db.backends.utils import CursorWrapper

from audit import triggers


@contextmanager
def _triggers_bypassed() -> Iterator[CursorWrapper]:
    """A cursor that can change audit rows, as a database superuser could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            yield cursor
            cursor.execute("SET session_replication_role = origin")
        else:  # SQLite cannot switch triggers off; drop them for the moment.
            for sql in triggers.drop_sql(connection.vendor):
                cursor.execute(sql)
            yield cursor
            for sql in triggers.create_sql(connection.vendor):
                cursor.execute(sql)


def _audit_verify() -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), err.getvalue().strip()
    return 0, out.getvalue().strip()
