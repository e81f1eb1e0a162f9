"""The service's Ed25519 signing key: deletion certificates and audit checkpoints.

SIGNING_KEY (or SIGNING_KEY_FILE) is a PEM-encoded PKCS#8 Ed25519 private key
(`openssl genpkey -algorithm ed25519`). Outside production, with nothing configured, a
development key is kept in VAR_DIR/dev-signing-key.pem. Every signature covers a purpose label
first, so a checkpoint signature can never pass for a certificate's and the other way round.
Anyone can check a signature with the public key, which the verification pages publish.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PURPOSES = {"deletion-certificate", "audit-checkpoint"}


def load_private_key(pem: str | None, *, var_dir: Path, production: bool) -> Ed25519PrivateKey:
    if pem:
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            raise ImproperlyConfigured("SIGNING_KEY must be a PEM Ed25519 private key.") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("SIGNING_KEY must be an Ed25519 key.")
        return key
    if production:
        raise ImproperlyConfigured("Refusing to start: production needs its own SIGNING_KEY (or SIGNING_KEY_FILE).")
    return _dev_key(var_dir / "dev-signing-key.pem")


def _dev_key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd, tmp = tempfile.mkstemp(dir=path.parent)  # created 0600
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(tmp, path)  # atomic; never replaces a key another process wrote first
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


@functools.cache
def _private_key() -> Ed25519PrivateKey:
    return load_private_key(settings.SIGNING_KEY, var_dir=settings.VAR_DIR, production=settings.PRODUCTION)


def public_key() -> Ed25519PublicKey:
    return _private_key().public_key()


def public_key_pem() -> str:
    return (
        public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    )


def key_id() -> str:
    """A short fingerprint of the public key, printed beside every signature."""
    raw = public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def chain_key() -> tuple[str, bytes]:
    """(key id, key) of the audit chain's HMAC (audit/models.py), derived from the signing key.

    Derived from this key, not from the key ring: the ring's master keys are retired after the
    backup window (so that erased patients' keys in old dumps become unreadable), while the audit
    trail must verify for years, like the certificates this key signs. Every deployment has it."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    seed = _private_key().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"secondopinion/audit-chain").derive(seed)
    return key_id(), derived


def _message(purpose: str, data: bytes) -> bytes:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown signing purpose {purpose!r}")
    return b"secondopinion/" + purpose.encode() + b"\x00" + data


def sign(purpose: str, data: bytes) -> str:
    """Base64 Ed25519 signature over `purpose` and `data`."""
    return base64.b64encode(_private_key().sign(_message(purpose, data))).decode()


def verify(purpose: str, data: bytes, signature: str, *, key: Ed25519PublicKey | None = None) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        (key or public_key()).verify(raw, _message(purpose, data))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
