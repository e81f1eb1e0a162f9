"""A database of the last release migrates forward with nothing lost (issue 14, item 9).

The last release (before the lifecycle app) had RetentionPolicy, DeletionRequest,
DeletionCertificate, BreakGlass and AuditReview in audit. Here the database goes back to that release's
migration nodes, rows are written with the historical models of that release (a patient, a case,
a photo, a signed and rendered report, a retention policy, a done erasure with its signed
certificate, a pending erasure, a break-glass grant), the photo and the PDF are stored encrypted
as that release stored them, and then the database migrates forward. Every row must come back
through the new models with the same values, the photo and the report must decrypt, the
certificate must verify, and the tables' constraints, indexes and triggers must be unchanged.

On PostgreSQL (the suite's database) the test migrates the test database back and forward with
MigrationExecutor. On SQLite (the embedded default) a subprocess does the same on a fresh
database file: `run_forward_migration()` is the whole scenario, shared by both.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core import keyring, signing, storage
from core.crypto import KEY_SIZE, encrypt_bytes, wrap_key

# The migration leaf nodes of the last release (main before the lifecycle app). Apps not named
# here (Django's own, axes, django-otp) stay at their leaf.
LAST_RELEASE = {
    "accounts": "0002_outgoing_email",
    "audit": "0004_keyed_chain",
    "cases": "0004_retention_and_legal_hold",
    "reports": "0001_initial",
    "uploads": "0003_patient_key_outlives_account",
}
NEW_APPS = ("lifecycle", "console")  # no migrations in the last release at all
MOVED_TABLES = (
    "audit_retentionpolicy",
    "audit_deletionrequest",
    "audit_deletioncertificate",
    "audit_breakglass",
    "audit_auditreview",
)
TRIGGER_TABLES = (*MOVED_TABLES, "audit_auditevent")
# Columns added after the last release, with the value an old row gets.
ADDED_FIELDS: dict[str, dict[str, Any]] = {
    "User": {"time_zone": "", "birth_date": None, "sex": "", "gender_identity": ""},
    "Case": {"title": ""},
}
# (app label then, app label now, model): every row of these is compared field by field.
ROWS = [
    ("accounts", "accounts", "User"),
    ("cases", "cases", "Case"),
    ("uploads", "accounts", "PatientKey"),
    ("uploads", "uploads", "Upload"),
    ("reports", "reports", "Report"),
    ("reports", "reports", "SignedDocument"),
    ("audit", "lifecycle", "RetentionPolicy"),
    ("audit", "lifecycle", "DeletionCertificate"),
    ("audit", "lifecycle", "DeletionRequest"),
    ("audit", "cases", "BreakGlass"),
    ("audit", "console", "AuditReview"),
]
PHOTO = b"\xff\xd8\xff\xe0 a photo of the last release " + bytes(range(256)) * 300  # > one 64 KiB chunk
PDF = b"%PDF-1.7 a report of the last release\n" + bytes(range(256)) * 10


def _migrate(targets: list[tuple[str, str | None]]) -> None:
    MigrationExecutor(connection).migrate(targets)


def _last_release_targets() -> list[tuple[str, str | None]]:
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    others = [leaf for leaf in leaves if leaf[0] not in LAST_RELEASE and leaf[0] not in NEW_APPS]
    return [*others, *LAST_RELEASE.items(), *((app, None) for app in NEW_APPS)]


def _latest_targets() -> list[tuple[str, str | None]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _schema() -> dict[str, Any]:
    """Constraints and indexes of the moved tables, and the triggers on them and on the trail."""
    with connection.cursor() as cursor:
        tables: dict[str, Any] = {
            table: connection.introspection.get_constraints(cursor, table) for table in MOVED_TABLES
        }
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relname = ANY(%s)",
                [list(TRIGGER_TABLES)],
            )
        else:
            cursor.execute(
                "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                f"({', '.join(['%s'] * len(TRIGGER_TABLES))})",
                list(TRIGGER_TABLES),
            )
        tables["triggers"] = sorted(cursor.fetchall())
    return tables


def _store(patient_key: bytes, object_id: uuid.UUID, purpose: str, name: str, data: bytes) -> bytes:
    """Encrypt and store an object as the last release's uploads.services.store_bytes did: a fresh
    data key, wrapped by the patient key for this object and purpose. Returns the wrapped key."""
    key = secrets.token_bytes(KEY_SIZE)
    storage.put(name, iter([encrypt_bytes(key, object_id, purpose, data)]))
    return wrap_key(patient_key, key, object_id.bytes + purpose.encode())


def _write_last_release(apps: Any) -> dict[str, Any]:
    """Rows written with the historical models of the last release; the ids to look them up."""
    from lifecycle.certificates import PURPOSE, canonical

    user = apps.get_model("accounts", "User")
    patient = user.objects.create(
        email="old-release-patient@example.org",
        full_name="Old Release Patient",
        role="patient",
        password="!",
        email_verified=True,
    )
    other = user.objects.create(
        email="old-release-erased@example.org", full_name="Erased Patient", role="patient", password="!"
    )
    specialist = user.objects.create(
        email="old-release-doctor@example.org", full_name="Dr Old Release", role="specialist", password="!"
    )
    admin = user.objects.create(
        email="old-release-admin@example.org", full_name="Old Release Admin", role="admin", password="!"
    )
    now = timezone.now()
    case = apps.get_model("cases", "Case").objects.create(
        patient=patient,
        specialist=specialist,
        status="report_ready",
        specialty="dermatology",
        country="ES",
        reason="Is this mole benign?",
        submitted_at=now - timedelta(days=3),
        red_flags_answered=True,
    )

    raw_key = secrets.token_bytes(KEY_SIZE)
    kek_id, wrapped = keyring.wrap_patient_key(raw_key, patient.pk)
    patient_key = apps.get_model("uploads", "PatientKey").objects.create(
        patient=patient, kek_id=kek_id, wrapped_key=wrapped
    )
    upload_id = uuid.uuid4()
    upload = apps.get_model("uploads", "Upload").objects.create(
        id=upload_id,
        case=case,
        patient_key=patient_key,
        uploaded_by=patient,
        original_name="mole.jpg",
        size=len(PHOTO),
        sha256=hashlib.sha256(PHOTO).hexdigest(),
        status="accepted",
        kind="image",
        mime="image/jpeg",
        stored_size=len(PHOTO),
        stored_wrapped_key=_store(raw_key, upload_id, "stored", f"files/{upload_id}", PHOTO),
    )

    report = apps.get_model("reports", "Report").objects.create(
        case=case, author=specialist, summary="Benign naevus.", signed_at=now
    )
    document_id = uuid.uuid4()
    document = apps.get_model("reports", "SignedDocument").objects.create(
        id=document_id,
        report=report,
        version=1,
        signer=specialist,
        language="en",
        content={"summary": "Benign naevus."},
        content_sha256="ab" * 32,
        render_status="ready",
        rendered_at=now,
        patient_key=patient_key,
        pdf_size=len(PDF),
        pdf_sha256=hashlib.sha256(PDF).hexdigest(),
        pdf_wrapped_key=_store(raw_key, document_id, "report", f"reports/{document_id}.pdf", PDF),
    )

    apps.get_model("audit", "RetentionPolicy").objects.create(country="MX", keep_days=365, updated_by=admin)
    certificate_id = uuid.uuid4()
    content = {
        "format": "secondopinion/deletion-certificate/1",
        "certificate_id": str(certificate_id),
        "kind": "erasure",
        "issued_at": "2026-11-30T10:00:00+00:00",
        "patient_ref": str(other.pk),
        "requested_at": "2026-11-29T10:00:00+00:00",
        "approved_by": {"id": str(admin.pk), "role": "admin"},
        "cases": [{"reference": "SO-2345-6789", "files": [], "reports": []}],
        "keys_destroyed": [],
        "completed_at": "2026-11-30T10:00:00+00:00",
        "key_id": signing.key_id(),
    }
    data = canonical(content)
    certificate = apps.get_model("audit", "DeletionCertificate").objects.create(
        id=certificate_id,
        kind="erasure",
        patient_ref=other.pk,
        content=data.decode(),
        signature=signing.sign(PURPOSE, data),
        key_id=signing.key_id(),
    )
    deletion = apps.get_model("audit", "DeletionRequest")
    deletion.objects.create(
        patient=other,
        patient_ref=other.pk,
        keep_account=True,
        status="done",
        decided_by=admin,
        decided_at=now,
        completed_at=now,
        certificate=certificate,
    )
    pending = deletion.objects.create(patient=patient, patient_ref=patient.pk, keep_account=False)
    grant = apps.get_model("audit", "BreakGlass").objects.create(
        admin=admin,
        case=case,
        reason="Patient unreachable, urgent question from the ward",
        expires_at=now + timedelta(days=1),
    )
    apps.get_model("audit", "AuditReview").objects.create(
        month=date(2026, 11, 1), checks=["failures", "break_glass"], note="Nothing unusual.", signed_by=admin
    )
    return {
        "upload": upload.pk,
        "document": document.pk,
        "certificate": certificate.pk,
        "grant": grant.pk,
        "case": case.pk,
        "admin": admin.pk,
        "patient": patient.pk,
        "pending": pending.pk,
    }


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def _rows(apps: Any, which: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of every model in ROWS, through the old (which=0) or the new (which=1) models."""
    found = {}
    for labels in ROWS:
        model = apps.get_model(labels[which], labels[2])
        found[labels[2]] = [
            {key: _plain(value) for key, value in row.items()} for row in model._default_manager.order_by("pk").values()
        ]
    return found


def _check_latest(ids: dict[str, Any]) -> None:
    """Through the new models and the code of today: open the photo and the report, verify the
    certificate, follow the moved relations, and hit the moved constraint."""
    from django.apps import apps

    from cases.access import active_break_glass
    from cases.models import BreakGlass, Case
    from console.models import AuditReview
    from lifecycle.certificates import certificate_json, certificate_verify
    from lifecycle.models import DeletionCertificate, DeletionRequest, RetentionPolicy
    from reports.models import SignedDocument
    from reports.rendering import open_document
    from uploads.models import Upload
    from uploads.services import open_object

    upload = Upload.objects.get(pk=ids["upload"])
    assert b"".join(open_object(upload)) == PHOTO
    document = SignedDocument.objects.get(pk=ids["document"])
    pdf = b"".join(open_document(document))
    assert pdf == PDF and hashlib.sha256(pdf).hexdigest() == document.pdf_sha256

    certificate = DeletionCertificate.objects.get(pk=ids["certificate"])
    assert certificate_verify(certificate_json(certificate)).valid
    assert certificate.request.status == "done" and certificate.request.patient is not None
    assert RetentionPolicy.objects.get(country="MX").keep_days == 365

    case = Case.objects.get(pk=ids["case"])
    grant = BreakGlass.objects.get(pk=ids["grant"])
    assert list(case.break_glass.all()) == [grant]
    assert active_break_glass(grant.admin, case) == grant
    assert apps.get_model("audit", "AuditEvent")  # the trail stays in audit
    assert AuditReview.objects.get().signed_by_id == ids["admin"]
    for moved in ("RetentionPolicy", "DeletionRequest", "DeletionCertificate", "BreakGlass", "AuditReview"):
        with pytest.raises(LookupError):
            apps.get_model("audit", moved)

    pending = DeletionRequest.objects.get(pk=ids["pending"])
    with pytest.raises(IntegrityError), transaction.atomic():  # one open request per patient, still
        DeletionRequest.objects.create(patient=pending.patient, patient_ref=pending.patient_ref)


def run_forward_migration() -> None:
    """The whole scenario, on the database of `connection` (at any state)."""
    latest_schema = _schema() if MigrationExecutor(connection).migration_plan(_latest_targets()) == [] else None
    last_release = _last_release_targets()
    _migrate(last_release)
    old_schema = _schema()
    old_apps = (
        MigrationExecutor(connection).loader.project_state([node for node in last_release if node[1] is not None]).apps
    )
    ids = _write_last_release(old_apps)
    before = _rows(old_apps, 0)
    assert all(before.values())

    _migrate(_latest_targets())
    assert MigrationExecutor(connection).migration_plan(_latest_targets()) == []
    from django.apps import apps

    after = _rows(apps, 1)
    for model, rows in after.items():  # columns added since: their defaults on the old rows
        added = ADDED_FIELDS.get(model, {})
        for row in rows:
            assert {name: row.pop(name) for name in added} == added, model
    assert after == before
    new_schema = _schema()
    assert new_schema == old_schema
    assert latest_schema is None or latest_schema == new_schema
    assert new_schema["triggers"], "the audit trail's triggers are missing"
    _check_latest(ids)


@pytest.mark.django_db(transaction=True)
def test_the_last_release_migrates_forward_on_postgresql(settings: Any) -> None:
    assert connection.vendor == "postgresql"
    try:
        run_forward_migration()
    finally:  # whatever happened, leave the test database at the latest schema for the other tests
        _migrate(_latest_targets())


def test_the_last_release_migrates_forward_on_sqlite(tmp_path: Path) -> None:
    """The embedded default: a fresh SQLite database and local files under a new VAR_DIR."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "S3_BUCKET",
            "KEYRING",
            "KEYRING_FILE",
            "KMS_KEY_ID",
            "SIGNING_KEY",
            "SIGNING_KEY_FILE",
        )
    }
    env.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="secondopinion.settings")
    script = (
        "import django; django.setup(); "
        "from tests.lifecycle.test_forward_migration import run_forward_migration; run_forward_migration(); "
        "print('forward migration ok')"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "forward migration ok" in result.stdout
    assert (tmp_path / "db.sqlite3").exists()
