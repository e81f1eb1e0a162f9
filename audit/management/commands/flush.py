"""Django's `flush`, able to empty the append-only audit table.

The test runner flushes the database after every transactional test (transactional_db,
live_server), and the audit triggers would refuse that. The triggers are dropped and put
back in one transaction, so they are never missing afterwards, even when flush fails.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction

from audit import triggers
from audit.models import AuditEvent


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        table = AuditEvent._meta.db_table
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if table not in connection.introspection.table_names(cursor):
                return super().handle(**options)
            for sql in triggers.drop_sql(connection.vendor):
                cursor.execute(sql)
            super().handle(**options)
            for sql in triggers.create_sql(connection.vendor):
                cursor.execute(sql)
