"""Master keys (KEKs) that wrap each patient's key: a local key ring, or AWS KMS.

KEYRING (or KEYRING_FILE) is ``{"current": "k2", "keys": {"k1": "<base64 of 32 bytes>", ...}}``.
New patient keys are wrapped under the current key; keys wrapped earlier stay readable while
their KEK is in the ring, and ``manage.py rotate_keys`` moves them all to the current one.
With KMS_KEY_ID set, patient keys are wrapped by KMS instead (kek_id "kms:<key ARN>", the
patient id in the encryption context); the ring is then only needed for keys not yet rotated.
Settings load the ring once with load_keyring; outside production, with nothing configured,
a development ring is kept in VAR_DIR/dev-keyring.json.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.crypto import KEY_SIZE, DecryptionError, unwrap_key, wrap_key

DEV_PREFIX = "dev-"
KMS_PREFIX = "kms:"
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_FORMAT = 'KEYRING must be JSON: {"current": "<id>", "keys": {"<id>": "<base64 of 32 bytes>"}}'


@dataclass(frozen=True)
class KeyRing:
    current: str
    keys: dict[str, bytes] = field(repr=False)  # never printed, e.g. by diffsettings

    @classmethod
    def generate(cls, key_id: str) -> KeyRing:
        return cls(current=key_id, keys={key_id: secrets.token_bytes(KEY_SIZE)})

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        try:
            data = json.loads(text)
            current = data["current"]
            keys = {kid: base64.b64decode(value, validate=True) for kid, value in data["keys"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ImproperlyConfigured(_FORMAT) from None  # the message must not quote key material
        for kid, key in keys.items():
            if not _KEY_ID.fullmatch(kid):
                raise ImproperlyConfigured("KEYRING: a key id is 1-64 letters, digits, '.', '_' or '-'.")
            if len(key) != KEY_SIZE:
                raise ImproperlyConfigured(f"KEYRING: key {kid} is not 32 bytes.")
        if not isinstance(current, str) or current not in keys:
            raise ImproperlyConfigured("KEYRING: 'current' must name one of its keys.")
        return cls(current=current, keys=keys)

    def to_json(self) -> str:
        keys = {kid: base64.b64encode(key).decode() for kid, key in self.keys.items()}
        return json.dumps({"current": self.current, "keys": keys})


def load_keyring(value: str | None, *, var_dir: Path, production: bool, kms: bool) -> KeyRing | None:
    """The ring from KEYRING/KEYRING_FILE's text; None only in production with KMS and no ring."""
    if value:
        ring = KeyRing.from_json(value)
        if production and any(kid.startswith(DEV_PREFIX) for kid in ring.keys):
            raise ImproperlyConfigured("Refusing to start: production cannot use the development key ring.")
        return ring
    if production:
        if kms:
            return None
        raise ImproperlyConfigured(
            "Refusing to start: production needs its own KEYRING (or KEYRING_FILE, or KMS_KEY_ID)."
        )
    return _dev_keyring(var_dir / "dev-keyring.json")


def _dev_keyring(path: Path) -> KeyRing:
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent)  # created 0600
        with os.fdopen(fd, "w") as f:
            f.write(KeyRing.generate(DEV_PREFIX + secrets.token_hex(4)).to_json())
        try:
            os.link(tmp, path)  # atomic, and never replaces a ring another process wrote first
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return KeyRing.from_json(path.read_text())


def _ring() -> KeyRing:
    ring: KeyRing | None = settings.KEYRING
    if ring is None:
        raise ImproperlyConfigured("No key ring is configured (KEYRING or KEYRING_FILE).")
    return ring


@functools.cache
def _kms_client(region: str | None, endpoint_url: str | None) -> Any:
    import boto3  # here, so that processes without KMS don't import boto3 at settings load

    return boto3.client("kms", region_name=region, endpoint_url=endpoint_url)


def _kms() -> Any:
    return _kms_client(settings.KMS_REGION, settings.KMS_ENDPOINT_URL)


def _aad(patient_id: UUID) -> bytes:
    return patient_id.bytes + b"patient-key"


def _kms_context(patient_id: UUID) -> dict[str, str]:
    return {"patient_id": str(patient_id), "purpose": "patient-key"}


def current_kek_id() -> str:
    """The kek_id new patient keys get, which rotate_keys moves every patient key to."""
    if settings.KMS_KEY_ID:
        arn: str = _kms().describe_key(KeyId=settings.KMS_KEY_ID)["KeyMetadata"]["Arn"]
        return KMS_PREFIX + arn
    return _ring().current


def wrap_patient_key(key: bytes, patient_id: UUID) -> tuple[str, bytes]:
    """(kek_id, wrapped key) under the current master key."""
    if settings.KMS_KEY_ID:
        response = _kms().encrypt(KeyId=settings.KMS_KEY_ID, Plaintext=key, EncryptionContext=_kms_context(patient_id))
        return KMS_PREFIX + response["KeyId"], response["CiphertextBlob"]
    ring = _ring()
    return ring.current, wrap_key(ring.keys[ring.current], key, _aad(patient_id))


def unwrap_patient_key(kek_id: str, wrapped: bytes, patient_id: UUID) -> bytes:
    if kek_id.startswith(KMS_PREFIX):
        kms = _kms()
        try:
            response = kms.decrypt(
                KeyId=kek_id.removeprefix(KMS_PREFIX),
                CiphertextBlob=wrapped,
                EncryptionContext=_kms_context(patient_id),
            )
        except (kms.exceptions.InvalidCiphertextException, kms.exceptions.IncorrectKeyException):
            raise DecryptionError("KMS refused to unwrap the patient key") from None
        key: bytes = response["Plaintext"]
        return key
    ring = _ring()
    if kek_id not in ring.keys:
        raise ImproperlyConfigured(f"The master key {kek_id} is not in the key ring.")
    return unwrap_key(ring.keys[kek_id], wrapped, _aad(patient_id))
