"""Backup → restore into a fresh database and bucket: the restored copy opens the patient's
files and the signed report, and its audit chain still verifies (SECURITY.md row 34)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from reports.models import RenderStatus
from reports.rendering import open_document
from tests.factories import PatientFactory, accepted_upload, tiny_jpeg
from tests.reports.signed import case_in_review, signed_document
from tests.storage import PIPELINE_KEYRING, drop_bucket, new_bucket
from uploads.backup import BackupError, read_manifest
from uploads.services import open_object

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees only committed rows

CHECK = """
import hashlib, json
from audit.services import verify_chain
from reports.models import SignedDocument
from reports.rendering import open_document
from uploads.models import Upload
from uploads.services import open_object
upload = Upload.objects.get(pk="{upload}")
document = SignedDocument.objects.get(pk="{document}")
print(json.dumps({{"photo": hashlib.sha256(b"".join(open_object(upload))).hexdigest(),
                  "pdf": hashlib.sha256(b"".join(open_document(document))).hexdigest(),
                  "audit": verify_chain().ok}}))
"""


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def fresh_target(s3: Any) -> Any:
    """An empty database and an empty bucket on the same servers, and the environment naming them."""
    if connection.vendor != "postgresql":
        pytest.fail("the backup test needs PostgreSQL (DATABASE_URL); make test sets it", pytrace=False)
    name = f"so_restore_{uuid.uuid4().hex[:12]}"
    admin = {
        k: v
        for k, v in {
            "host": connection.settings_dict["HOST"],
            "port": connection.settings_dict["PORT"],
            "user": connection.settings_dict["USER"],
        }.items()
        if v
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    bucket = new_bucket(s3)
    url = re.sub(r"^([^?]*/)[^/?]*", lambda m: m.group(1) + name, os.environ["DATABASE_URL"], count=1)
    env = {**os.environ, "DATABASE_URL": url, "S3_BUCKET": bucket, "KEYRING": PIPELINE_KEYRING.to_json()}
    yield env
    drop_bucket(s3, bucket)
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_restored_backup_opens_the_files_and_the_report(
    bucket: str, fresh_target: dict[str, str], tmp_path: Path
) -> None:
    patient = PatientFactory()
    photo = tiny_jpeg(64, 48)
    upload = accepted_upload(case_in_review(patient=patient), photo)
    document = signed_document(case_in_review(patient=patient), photos=0, measurements=False)
    document.refresh_from_db()
    assert document.render_status == RenderStatus.READY  # rendered in-process on commit
    pdf_sha = hashlib.sha256(b"".join(open_document(document))).hexdigest()

    call_command("backup", str(tmp_path / "backup"))
    manifest = read_manifest(tmp_path / "backup")
    assert {upload.stored_name, upload.thumb_name, document.pdf_name} <= set(manifest["objects"])
    assert manifest["kek_ids"] == [PIPELINE_KEYRING.current]
    dumped = (tmp_path / "backup" / "objects" / upload.stored_name).read_bytes()
    assert photo not in dumped and b"JFIF" not in dumped  # ciphertext, as stored

    restored = _manage(fresh_target, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr[-2000:]
    check = _manage(fresh_target, "shell", "-c", CHECK.format(upload=upload.pk, document=document.pk))
    assert check.returncode == 0, check.stderr[-2000:]
    assert json.loads(check.stdout.strip().splitlines()[-1]) == {
        "photo": hashlib.sha256(b"".join(open_object(upload))).hexdigest(),
        "pdf": pdf_sha,
        "audit": True,
    }
    assert hashlib.sha256(b"".join(open_object(upload))).hexdigest() == hashlib.sha256(photo).hexdigest()
    # Nothing is missing or dangling in the restored copy.
    invariants = _manage(fresh_target, "check_invariants", "--grace", "0")
    assert invariants.returncode == 0, invariants.stdout + invariants.stderr[-2000:]
    assert "ok: nothing missing, nothing dangling" in invariants.stdout

    again = _manage(fresh_target, "restore", str(tmp_path / "backup"))
    assert again.returncode != 0 and "not empty" in again.stderr  # never over live data


def test_a_damaged_backup_is_refused_before_anything_is_restored(bucket: str, tmp_path: Path) -> None:
    accepted_upload(case_in_review(patient=PatientFactory()))
    call_command("backup", str(tmp_path / "backup"))
    victim = next((tmp_path / "backup" / "objects" / "files").iterdir())
    victim.write_bytes(victim.read_bytes()[:-1])
    with pytest.raises(BackupError, match="does not match"):
        read_manifest(tmp_path / "backup")
