"""An independent implementation of stream format v1, written from the core.crypto docstring.

It uses the low-level Cipher API rather than AESGCM, generated vectors/stream_v1.json, and lets
tests build objects our encryptor refuses to produce (other chunkings, other flags).
"""

from __future__ import annotations

from uuid import UUID

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def chunked(plaintext: bytes) -> list[bytes]:
    return [plaintext[i : i + 65536] for i in range(0, len(plaintext), 65536)] or [b""]


def encrypt(key: bytes, object_id: UUID, purpose: str, pieces: list[bytes], *, last: int | None = None) -> bytes:
    """Header and one sealed chunk per piece; the last-chunk flag goes on piece `last` (default: the last)."""
    header = b"SOENC\x01"
    aad = header + object_id.bytes + purpose.encode("utf-8")
    last = len(pieces) - 1 if last is None else last
    out = [header]
    for i, piece in enumerate(pieces):
        nonce = i.to_bytes(11, "big") + (b"\x01" if i == last else b"\x00")
        encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        out.append(encryptor.update(piece) + encryptor.finalize() + encryptor.tag)
    return b"".join(out)
