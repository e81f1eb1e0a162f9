"""Encryption of stored objects: key wrapping, per-object data keys and the streaming format.

Key hierarchy (DESIGN.md "Files: encryption at rest"): a master key (KEK, core.keyring)
wraps each patient's random 256-bit key (uploads.models.PatientKey); the patient key wraps
each object's random 256-bit data key; the data key encrypts the object in the format below.
Rotation re-wraps patient keys and never touches objects. All AES is AES-256-GCM with a
16-byte tag; a UUID is its 16 bytes in RFC 4122 (big-endian) order; text is UTF-8.

Key wrapping (wrap_key)::

    wrapped = nonce || AES-256-GCM(wrapping key, nonce, key, associated data)    (60 bytes)
    nonce   = 12 random bytes
    associated data = object id || purpose        for a data key (wrapped by the patient key)
                    = patient id || "patient-key"  for a patient key (wrapped by a local KEK)

Stream format, version 1 (the STREAM construction of age, https://age-encryption.org/v1)::

    object  = header || chunk_0 || chunk_1 || ... || chunk_n
    header  = "SOENC" || 0x01                                     (6 bytes: magic, version)
    chunk_i = AES-256-GCM(data key, nonce_i, plaintext_i, aad)    (len(plaintext_i) + 16 bytes)
    nonce_i = i as an 11-byte big-endian integer || 0x01 if i == n else 0x00
    aad     = header || object id || purpose

The plaintext is cut into 65536-byte pieces: every chunk but the last holds exactly 65536
bytes, the last holds 1 to 65536 bytes, or 0 only when the whole plaintext is empty (one final
empty chunk). So the size is ciphertext_size(n) = 6 + n + 16 * max(1, ceil(n / 65536)). A
reader checks the header, then cuts the rest into 65552-byte sealed chunks; the remainder,
or the last full sealed chunk when nothing remains, is chunk_n and must be 16 to 65552 bytes
long (exactly 16 only when n == 0).

The counter nonces are fixed, which is safe only because every data key encrypts exactly one
object once: never encrypt twice with the same data key (a retry or a new copy of an object
gets a new key from new_data_key). A flipped bit, a chunk moved within or between objects, a
wrong object id, purpose or key fails the chunk's tag; a truncated object, or data after the
final chunk, fails at the end. Each chunk is released only after its tag verifies, but
truncation shows only at the end: treat the plaintext as complete only once
decrypt_stream has finished without raising.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SOENC"
VERSION = 1
HEADER = MAGIC + bytes([VERSION])
KEY_SIZE = 32
TAG_SIZE = 16
CHUNK_SIZE = 64 * 1024
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
_WRAP_NONCE_SIZE = 12
WRAPPED_KEY_SIZE = _WRAP_NONCE_SIZE + KEY_SIZE + TAG_SIZE


class DecryptionError(Exception):
    """Ciphertext that is tampered with, swapped, truncated, malformed or under another key."""


def _aead(key: bytes) -> AESGCM:
    if len(key) != KEY_SIZE:
        raise ValueError("keys are 256 bits")
    return AESGCM(key)


def wrap_key(wrapping_key: bytes, key: bytes, associated_data: bytes) -> bytes:
    nonce = secrets.token_bytes(_WRAP_NONCE_SIZE)
    return nonce + _aead(wrapping_key).encrypt(nonce, key, associated_data)


def unwrap_key(wrapping_key: bytes, wrapped: bytes, associated_data: bytes) -> bytes:
    if len(wrapped) != WRAPPED_KEY_SIZE:
        raise DecryptionError("a wrapped key is 60 bytes")
    try:
        return _aead(wrapping_key).decrypt(wrapped[:_WRAP_NONCE_SIZE], wrapped[_WRAP_NONCE_SIZE:], associated_data)
    except InvalidTag:
        raise DecryptionError("the wrapped key does not verify") from None


def _stream_aad(object_id: UUID, purpose: str) -> bytes:
    return HEADER + object_id.bytes + purpose.encode()


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class StreamEncryptor:
    """Encrypts as bytes arrive, holding back at most one chunk of plaintext."""

    def __init__(self, key: bytes, object_id: UUID, purpose: str) -> None:
        self._aead = _aead(key)
        self._aad = _stream_aad(object_id, purpose)
        self._buffer = bytearray()
        self._counter = 0
        self._pending_header = HEADER
        self._finished = False

    def update(self, data: bytes) -> bytes:
        """Ciphertext ready to write (the header first); may be empty."""
        return b"".join(self.update_chunks(data))

    def update_chunks(self, data: bytes | memoryview) -> list[bytes]:
        """Like update(), as separate pieces: whole chunks are sealed straight from `data`, so the
        bytes of a large piece are copied once (by the cipher), not into a buffer and then joined."""
        out = [header] if (header := self._take_header()) else []
        view = memoryview(data)
        # Keep the last chunk back even when full: only finalize() knows it is the last one.
        if self._buffer:
            if len(self._buffer) + len(view) <= CHUNK_SIZE:
                self._buffer += view
                return out
            cut = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:cut]
            view = view[cut:]
            out.append(self._seal(self._buffer, last=False))
        while len(view) > CHUNK_SIZE:
            out.append(self._seal(view[:CHUNK_SIZE], last=False))
            view = view[CHUNK_SIZE:]
        self._buffer = bytearray(view)
        return out

    def finalize(self) -> bytes:
        """The rest of the ciphertext, ending with the final chunk."""
        out = self._take_header() + self._seal(self._buffer, last=True)
        self._finished = True
        return out

    def _take_header(self) -> bytes:
        if self._finished:
            raise ValueError("the stream is already finalized")
        header, self._pending_header = self._pending_header, b""
        return header

    def _seal(self, plaintext: bytes | bytearray | memoryview, *, last: bool) -> bytes:
        sealed = self._aead.encrypt(_nonce(self._counter, last), plaintext, self._aad)
        self._buffer = bytearray()
        self._counter += 1
        return sealed


def _check_header(header: bytes) -> None:
    if len(header) < len(HEADER) or header[: len(MAGIC)] != MAGIC:
        raise DecryptionError("not a secondopinion encrypted object")
    if header[len(MAGIC)] != VERSION:
        raise DecryptionError(f"unsupported format version {header[len(MAGIC)]}")


def _open(aead: AESGCM, counter: int, sealed: bytes, aad: bytes, *, last: bool) -> bytes:
    try:
        return aead.decrypt(_nonce(counter, last), sealed, aad)
    except InvalidTag:
        raise DecryptionError(f"chunk {counter} does not verify (tampered, moved, truncated or wrong key)") from None


def decrypt_stream(key: bytes, object_id: UUID, purpose: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Plaintext chunk by chunk, each released only once its tag verifies; see the module docstring."""
    aead, aad = _aead(key), _stream_aad(object_id, purpose)
    buffer = bytearray()
    counter = 0
    header_seen = False
    for data in chunks:
        buffer += data
        if not header_seen and len(buffer) >= len(HEADER):
            _check_header(bytes(buffer[: len(HEADER)]))
            del buffer[: len(HEADER)]
            header_seen = True
        # Keep the last sealed chunk back: only the end of the input says it must be the final one.
        while header_seen and len(buffer) > SEALED_CHUNK_SIZE:
            yield _open(aead, counter, bytes(buffer[:SEALED_CHUNK_SIZE]), aad, last=False)
            del buffer[:SEALED_CHUNK_SIZE]
            counter += 1
    if not header_seen:
        _check_header(bytes(buffer))
    if len(buffer) < TAG_SIZE or (len(buffer) == TAG_SIZE and counter > 0):
        raise DecryptionError("the encrypted object is truncated or malformed")
    yield _open(aead, counter, bytes(buffer), aad, last=True)


def encrypt_bytes(key: bytes, object_id: UUID, purpose: str, plaintext: bytes) -> bytes:
    encryptor = StreamEncryptor(key, object_id, purpose)
    return encryptor.update(plaintext) + encryptor.finalize()


def decrypt_bytes(key: bytes, object_id: UUID, purpose: str, ciphertext: bytes) -> bytes:
    return b"".join(decrypt_stream(key, object_id, purpose, [ciphertext]))


def ciphertext_size(plaintext_size: int) -> int:
    chunks = max(1, -(-plaintext_size // CHUNK_SIZE))
    return len(HEADER) + plaintext_size + TAG_SIZE * chunks
