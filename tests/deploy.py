"""Settings of a production deployment, for the tests that start the app as deployed (a fresh
signing key, secret key and key ring per run)."""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.keyring import KeyRing

SIGNING_PEM = (
    Ed25519PrivateKey.generate()
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)
PRODUCTION = {
    "DEPLOYMENT": "production",
    "ALLOWED_HOSTS": "clinic.example.org",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "KEYRING": KeyRing.generate("prod-1").to_json(),
    "SIGNING_KEY": SIGNING_PEM,
}
