"""Backups: a database dump plus a copy of every stored object, and a manifest of both.

Objects are ciphertext and are copied as they are; the backup holds no key. Without the key
ring (or KMS key) whose ids the manifest lists, it is unreadable, and a patient key destroyed
before the backup (crypto-shredding) is not in it. The dump is taken first and the objects
copied after, so every object a dumped row points to is in the copy (objects added meanwhile
are harmless orphans: `manage.py check_invariants --repair` deletes them after a restore).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import PatientKey
from core import signing, storage

FORMAT = 1
MANIFEST = "manifest.json"
ESCROW_NOTE = (
    "This backup holds only ciphertext and no key. To restore it you also need the master keys "
    "listed in kek_ids (the KEYRING secret, or access to the KMS key), kept in escrow apart from "
    "the backups, and the signing key that signed deletion certificates and audit checkpoints."
)


class BackupError(Exception):
    pass


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client)")
    return path


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _dump_database(dest: Path) -> tuple[str, str]:
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        target = dest / "database.dump"
        subprocess.run(  # noqa: S603 (no shell)
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
                f"--dbname={db['NAME']}",
            ],
            env=_pg_env(db),
            check=True,
        )
    elif connection.vendor == "sqlite":
        target = dest / "database.sqlite3"
        with sqlite3.connect(str(db["NAME"])) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
    else:
        raise BackupError(f"no backup method for {connection.vendor}")
    return target.name, connection.vendor


def backup(dest: Path) -> dict[str, Any]:
    """Write a backup into the new directory `dest`; returns the manifest."""
    dest.mkdir(parents=True, mode=0o700)
    started = timezone.now()
    db_file, vendor = _dump_database(dest)
    objects: dict[str, str] = {}
    for name in storage.names():
        path = dest / "objects" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(path, "wb") as f:
            for chunk in storage.read(name):
                digest.update(chunk)
                f.write(chunk)
        objects[name] = digest.hexdigest()
    manifest = {
        "format": FORMAT,
        "started_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "database": {"vendor": vendor, "file": db_file, "sha256": _sha256_file(dest / db_file)},
        "objects": objects,
        "kek_ids": sorted(set(PatientKey.objects.live().values_list("kek_id", flat=True))),
        "signing_key_id": signing.key_id(),
        "escrow": ESCROW_NOTE,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def read_manifest(src: Path) -> dict[str, Any]:
    """The manifest, after checking every file of the backup against it."""
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise BackupError(f"{src} has no readable {MANIFEST}") from e
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    if _sha256_file(src / manifest["database"]["file"]) != manifest["database"]["sha256"]:
        raise BackupError("the database dump does not match the manifest")
    for name, sha in manifest["objects"].items():
        path = src / "objects" / name
        if not path.is_file() or _sha256_file(path) != sha:
            raise BackupError(f"object {name} is missing or does not match the manifest")
    return manifest


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(storage.READ_SIZE):
            yield chunk


def _database_is_empty() -> bool:
    return not connection.introspection.table_names()


def restore(src: Path) -> dict[str, Any]:
    """Restore a backup into the configured database (which must be empty) and object store."""
    manifest = read_manifest(src)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(f"the backup is of {vendor}, the configured database is {connection.vendor}")
    if not _database_is_empty():
        raise BackupError("the target database is not empty; restore into a new database")
    db = settings.DATABASES["default"]
    dump = src / manifest["database"]["file"]
    connection.close()
    if vendor == "postgresql":
        subprocess.run(  # noqa: S603 (no shell)
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={db['NAME']}",
                str(dump),
            ],
            env=_pg_env(db),
            check=True,
        )
    else:
        shutil.copyfile(dump, str(db["NAME"]))
    for name in manifest["objects"]:
        storage.put(name, _chunks(src / "objects" / name))
    return manifest
