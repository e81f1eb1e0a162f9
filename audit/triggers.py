"""The triggers that make audit_auditevent append-only, per database vendor.

Used by migration 0002; only the test run lifts them, to flush between transactional tests
(tests/conftest.py). `manage.py flush` elsewhere fails as a whole.
"""

from __future__ import annotations

from django.db import NotSupportedError

MESSAGE = "audit_auditevent is append-only"

_CREATE = {
    "postgresql": [
        # restrict_violation is an integrity error, like SQLite's RAISE(ABORT).
        f"""CREATE OR REPLACE FUNCTION audit_auditevent_refuse() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
            END $$""",
        """CREATE TRIGGER audit_auditevent_no_change BEFORE UPDATE OR DELETE
            ON audit_auditevent FOR EACH ROW EXECUTE FUNCTION audit_auditevent_refuse()""",
        """CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE
            ON audit_auditevent FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_refuse()""",
    ],
    "sqlite": [
        f"""CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    ],
}

_DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_auditevent_no_change ON audit_auditevent",
        "DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent",
        "DROP FUNCTION IF EXISTS audit_auditevent_refuse()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_auditevent_no_update",
        "DROP TRIGGER IF EXISTS audit_auditevent_no_delete",
    ],
}


def create_sql(vendor: str) -> list[str]:
    return _CREATE[_supported(vendor)]


def drop_sql(vendor: str) -> list[str]:
    return _DROP[_supported(vendor)]


def _supported(vendor: str) -> str:
    if vendor not in _CREATE:
        raise NotSupportedError(f"audit triggers exist for PostgreSQL and SQLite, not {vendor}")
    return vendor
