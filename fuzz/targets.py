"""Fuzz targets: each takes bytes and must end in an accepted copy or the one expected
refusal (SECURITY.md row 35). Anything else propagates, and atheris records it as a finding."""

from __future__ import annotations

import contextlib
import uuid
import warnings
from collections.abc import Callable

from core.crypto import DecryptionError, decrypt_bytes, encrypt_bytes
from uploads.sanitize import Rejected, sanitize, sanitize_zip

KEY = bytes(range(32))
OBJECT_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")
PLAINTEXT = b"fuzz plaintext " * 9000  # three 64 KiB chunks
CIPHERTEXT = encrypt_bytes(KEY, OBJECT_ID, "file", PLAINTEXT)


def sanitizer(data: bytes) -> None:
    """The upload validator (images, PDF, DICOM; a ZIP is routed to the ZIP reader)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom and pikepdf warn loudly about damage
        with contextlib.suppress(Rejected):
            sanitize(data)


def zip_reader(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for _ in sanitize_zip(data):
                pass
        except Rejected:
            pass


def decryptor(data: bytes) -> None:
    """A tampered object never decrypts, and nothing but the original ever comes out."""
    try:
        plaintext = decrypt_bytes(KEY, OBJECT_ID, "file", data)
    except DecryptionError:
        return
    if plaintext != PLAINTEXT or data != CIPHERTEXT:
        raise AssertionError("the decryptor returned plaintext for a modified object")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "image": sanitizer,
    "pdf": sanitizer,
    "dicom": sanitizer,
    "zip": zip_reader,
    "decrypt": decryptor,
}
