"""The streaming format: known answers, round trips, tampering, memory."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from core.crypto import DecryptionError, StreamEncryptor, ciphertext_size, decrypt_bytes, decrypt_stream, encrypt_bytes
from tests.core import reference

VECTORS = json.loads((Path(__file__).parent / "vectors" / "stream_v1.json").read_text())["cases"]
KiB, MiB = 1024, 1024 * 1024
SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536 + 5]
KEY = bytes(range(32))
OBJECT_ID = UUID("00112233-4455-6677-8899-aabbccddeeff")
SEALED = 65536 + 16


def _pieces(data: bytes, sizes: Iterable[int] = (1, 7, 4099, 65537, 13, 70000)) -> Iterator[bytes]:
    view, start = memoryview(data), 0
    for size in itertools.cycle(sizes):
        if start >= len(data):
            return
        yield bytes(view[start : start + size])
        start += size


def _encrypt_in_pieces(key: bytes, object_id: UUID, purpose: str, plaintext: bytes) -> bytes:
    encryptor = StreamEncryptor(key, object_id, purpose)
    out = [encryptor.update(piece) for piece in _pieces(plaintext)]
    return b"".join(out) + encryptor.finalize()


def _drain(ciphertext: bytes, *, key: bytes = KEY, object_id: UUID = OBJECT_ID, purpose: str = "original") -> bytes:
    """What decrypt_stream released before it raised DecryptionError (it must raise)."""
    released = []
    with pytest.raises(DecryptionError):
        for chunk in decrypt_stream(key, object_id, purpose, _pieces(ciphertext)):
            released.append(chunk)
    return b"".join(released)


def _plaintext(size: int) -> bytes:
    return os.urandom(size)


@pytest.mark.parametrize("case", VECTORS, ids=[case["name"] for case in VECTORS])
def test_it_reproduces_the_published_vectors(case: dict[str, str | int]) -> None:
    pattern, length = bytes.fromhex(str(case["plaintext_repeated_hex"])), int(case["plaintext_length"])
    plaintext = (pattern * (length // max(1, len(pattern)) + 1))[:length]
    assert hashlib.sha256(plaintext).hexdigest() == case["plaintext_sha256"]
    key, object_id, purpose = bytes.fromhex(str(case["key_hex"])), UUID(str(case["object_id"])), str(case["purpose"])

    for ciphertext in (
        encrypt_bytes(key, object_id, purpose, plaintext),
        _encrypt_in_pieces(key, object_id, purpose, plaintext),
    ):
        assert len(ciphertext) == case["ciphertext_size"] == ciphertext_size(length)
        assert ciphertext[:64].hex() == case["ciphertext_first_64_hex"]
        assert hashlib.sha256(ciphertext).hexdigest() == case["ciphertext_sha256"]
        assert decrypt_bytes(key, object_id, purpose, ciphertext) == plaintext


@pytest.mark.parametrize("size", SIZES)
def test_it_round_trips_in_odd_pieces(size: int) -> None:
    plaintext = _plaintext(size)
    ciphertext = _encrypt_in_pieces(KEY, OBJECT_ID, "original", plaintext)

    assert len(ciphertext) == ciphertext_size(size)
    assert ciphertext == reference.encrypt(KEY, OBJECT_ID, "original", reference.chunked(plaintext))
    released = list(decrypt_stream(KEY, OBJECT_ID, "original", _pieces(ciphertext, sizes=(3, 65552, 1000, 99999))))
    assert b"".join(released) == plaintext
    assert all(len(chunk) <= 65536 for chunk in released)


def test_update_returns_the_header_first_and_holds_back_only_one_chunk() -> None:
    encryptor = StreamEncryptor(KEY, OBJECT_ID, "original")
    assert encryptor.update(b"") == b"SOENC\x01"
    assert encryptor.update(b"x" * 65536) == b""  # might be the last chunk
    assert len(encryptor.update(b"x")) == SEALED
    assert len(encryptor.finalize()) == 1 + 16
    with pytest.raises(ValueError):
        encryptor.update(b"more")


def test_ciphertext_size() -> None:
    assert [ciphertext_size(n) for n in SIZES] == [22, 23, 65557, 65558, 65575, 6 + 3 * 65536 + 5 + 4 * 16]


# Tampering: a 4-chunk object (3 full chunks and 5 bytes).
PLAINTEXT = _plaintext(3 * 65536 + 5)
CIPHERTEXT = encrypt_bytes(KEY, OBJECT_ID, "original", PLAINTEXT)


def _chunk(i: int) -> slice:
    return slice(6 + i * SEALED, 6 + (i + 1) * SEALED)


def _flip(data: bytes, position: int) -> bytes:
    flipped = bytearray(data)
    flipped[position] ^= 0x01
    return bytes(flipped)


@pytest.mark.parametrize(
    ("position", "released_chunks"),
    [
        (0, 0),  # magic
        (5, 0),  # version
        (6 + SEALED + 1000, 1),  # the body of chunk 1
        (6 + SEALED - 1, 0),  # the tag of chunk 0
        (len(CIPHERTEXT) - 1, 3),  # the tag of the final chunk
    ],
)
def test_a_flipped_bit_fails_and_releases_nothing_after_it(position: int, released_chunks: int) -> None:
    assert _drain(_flip(CIPHERTEXT, position)) == PLAINTEXT[: released_chunks * 65536]


def test_a_wrong_version_is_refused() -> None:
    with pytest.raises(DecryptionError, match="unsupported format version 2"):
        decrypt_bytes(KEY, OBJECT_ID, "original", b"SOENC\x02" + CIPHERTEXT[6:])


def test_swapped_chunks_fail() -> None:
    swapped = CIPHERTEXT[:6] + CIPHERTEXT[_chunk(1)] + CIPHERTEXT[_chunk(0)] + CIPHERTEXT[_chunk(2).start :]
    assert _drain(swapped) == b""


@pytest.mark.parametrize(
    ("ciphertext", "released_chunks"),
    [
        (CIPHERTEXT[: _chunk(3).start], 2),  # the final chunk dropped
        (CIPHERTEXT[: _chunk(2).start + 100], 2),  # cut in the middle of a chunk
        (CIPHERTEXT[:-1], 3),  # one byte short
        (CIPHERTEXT[:6], 0),  # the header alone
        (CIPHERTEXT[:3], 0),  # part of the header
        (b"", 0),
    ],
)
def test_a_truncated_object_fails_at_the_end(ciphertext: bytes, released_chunks: int) -> None:
    assert _drain(ciphertext) == PLAINTEXT[: released_chunks * 65536]


@pytest.mark.parametrize("extra", [b"\x00", CIPHERTEXT[_chunk(0)], encrypt_bytes(KEY, OBJECT_ID, "original", b"")[6:]])
def test_data_after_the_final_chunk_fails(extra: bytes) -> None:
    assert _drain(CIPHERTEXT + extra) == PLAINTEXT[: 3 * 65536]


def test_a_chunk_from_another_object_fails() -> None:
    other = encrypt_bytes(KEY, uuid4(), "original", PLAINTEXT)
    mixed = CIPHERTEXT[: _chunk(1).start] + other[_chunk(1)] + CIPHERTEXT[_chunk(2).start :]
    assert _drain(mixed) == PLAINTEXT[:65536]


def test_an_empty_final_chunk_after_full_chunks_is_refused() -> None:
    plaintext = _plaintext(65536)
    padded = reference.encrypt(KEY, OBJECT_ID, "original", [plaintext, b""])  # not what we write
    assert _drain(padded) == plaintext


def test_a_final_flag_on_a_middle_chunk_fails() -> None:
    pieces = reference.chunked(PLAINTEXT)
    assert _drain(reference.encrypt(KEY, OBJECT_ID, "original", pieces, last=1)) == PLAINTEXT[:65536]


@pytest.mark.parametrize(
    "wrong",
    [{"key": bytes(32)}, {"object_id": uuid4()}, {"purpose": "thumbnail"}, {"purpose": "origina"}],
    ids=["key", "object id", "purpose", "purpose prefix"],
)
def test_the_wrong_key_object_or_purpose_fails(wrong: dict[str, object]) -> None:
    assert _drain(CIPHERTEXT, **wrong) == b""  # type: ignore[arg-type]


def test_it_refuses_keys_that_are_not_256_bits() -> None:
    with pytest.raises(ValueError):
        StreamEncryptor(bytes(16), OBJECT_ID, "original")


def test_memory_stays_flat_while_encrypting_64_mib() -> None:
    piece = os.urandom(MiB)
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        encryptor = StreamEncryptor(KEY, OBJECT_ID, "original")
        for _ in range(64):
            digest.update(encryptor.update(piece))
        digest.update(encryptor.finalize())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * MiB + 256 * KiB, f"peak {peak / MiB:.2f} MiB"
