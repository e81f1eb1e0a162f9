"""Clinical text kept encrypted in the database, under a key derived from the patient's key.

Format, version 1 (one column value)::

    value   = "so1:" || base64url(nonce || AES-256-GCM(field key, nonce, UTF-8 text, aad))
    nonce   = 12 random bytes
    field key = HKDF-SHA256(patient key, salt = none, info = "secondopinion field key v1")
    aad     = "so-field-1" || len || table || len || column || len || row id    (each len one byte)

The associated data binds a value to its table, column and row: a value copied to another
row or column, or to another patient's row (another key), fails to decrypt. The empty string is
stored as it is (an unanswered field says nothing). Values written before this format existed
(no "so1:" prefix) are read as they are until `manage.py seal_fields` has encrypted them.

A model field reads the ciphertext from the database and decrypts it only when the attribute is
first read (so a list page decrypts only what it shows), with the key the instance's
`sealing_key()` gives. Writing goes through the field's `pre_save`, which knows the row; a
write that bypasses it (`QuerySet.update`, `bulk_update`, a lookup on the value) is refused
instead of storing plaintext: filter on other columns, and save the instance.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from core.crypto import KEY_SIZE, DecryptionError

PREFIX = "so1:"
_AAD_LABEL = b"so-field-1"
_INFO = b"secondopinion field key v1"
_NONCE_SIZE = 12


def field_key(patient_key: bytes) -> bytes:
    """The key for a patient's text, derived from (never equal to) the key that wraps their files' keys."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=_INFO).derive(patient_key)


def _aad(table: str, column: str, row: str) -> bytes:
    parts = [part.encode() for part in (table, column, row)]
    if any(len(part) > 255 for part in parts):
        raise ValueError("table, column and row id are each at most 255 bytes")
    return _AAD_LABEL + b"".join(bytes([len(part)]) + part for part in parts)


def seal(key: bytes, text: str, *, table: str, column: str, row: str) -> str:
    if text == "":
        return ""
    nonce = secrets.token_bytes(_NONCE_SIZE)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), _aad(table, column, row))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_sealed(key: bytes, value: str, *, table: str, column: str, row: str) -> str:
    if not is_sealed(value):
        return value  # empty, or written before encryption (seal_fields encrypts it)
    try:
        raw = base64.urlsafe_b64decode(value[len(PREFIX) :].encode())
        return AESGCM(key).decrypt(raw[:_NONCE_SIZE], raw[_NONCE_SIZE:], _aad(table, column, row)).decode()
    except (ValueError, InvalidTag):
        raise DecryptionError(
            f"{table}.{column} of row {row} does not decrypt (moved, altered or another key)"
        ) from None


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


class Sealing(Protocol):
    """A model whose rows hold encrypted text: it says which key, and which id binds the row."""

    def sealing_key(self) -> bytes: ...


class Sealed(str):
    """Ciphertext, as read from the database or about to be written to it."""


def _row_id(instance: Any) -> str:
    row = getattr(instance, "row_id", None) or instance.pk
    if row is None:
        raise ValueError(f"{type(instance).__name__} needs an id before its text can be encrypted")
    return str(row)


class SealedAttribute(DeferredAttribute):
    """Decrypts the column's value the first time the attribute is read.

    A data descriptor (it has __set__), so that it runs even once the value is in the instance's
    __dict__, where the model puts what it reads from the database."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        field = self.field
        value = (
            instance.__dict__[field.attname] if field.attname in instance.__dict__ else super().__get__(instance, cls)
        )
        if not isinstance(value, Sealed):
            return value
        plaintext = open_sealed(
            instance.sealing_key(),
            value,
            table=field.model._meta.db_table,
            column=str(field.column),
            row=_row_id(instance),
        )
        instance.__dict__[field.attname] = plaintext
        return plaintext

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class SealedMixin:
    """Stored as text encrypted under the row's patient; validated and shown as the plain field."""

    descriptor_class = SealedAttribute
    attname: str
    column: str
    model: type[models.Model]

    def db_type(self, connection: Any) -> str | None:
        return models.TextField().db_type(connection)  # ciphertext is longer than the text's max_length

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return Sealed(value) if value is not None and is_sealed(value) else value

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        # Read through the descriptor: a value loaded but never read is decrypted with this row's
        # id, so a row whose id was changed fails here instead of storing a value that can't be read.
        text = getattr(model_instance, self.attname)
        if text in (None, ""):
            return text
        return Sealed(
            seal(
                model_instance.sealing_key(),
                str(text),
                table=self.model._meta.db_table,
                column=self.column,
                row=_row_id(model_instance),
            )
        )

    def get_prep_value(self, value: Any) -> Any:
        if value is None or value == "" or isinstance(value, Sealed):
            return value
        raise ValueError(
            f"{self.model.__name__}.{self.attname} is encrypted: it can only be written by saving the instance,"
            " and not filtered on"
        )


class SealedTextField(SealedMixin, models.TextField):  # type: ignore[type-arg, misc]
    pass


class SealedCharField(SealedMixin, models.CharField):  # type: ignore[type-arg, misc]
    pass
