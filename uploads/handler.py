"""The upload handler: encrypts each file as its bytes arrive and streams the ciphertext to
storage. Django's default handlers would write plaintext temporary files; this one never holds
more than a chunk of plaintext, never touches disk with it, and stops at the size limits."""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from accounts.models import PatientKey
from core import storage
from core.crypto import StreamEncryptor
from uploads.filetypes import PDF_HEADER_WINDOW, detect_type
from uploads.keys import new_data_key
from uploads.limits import Limits

RAW_PURPOSE = "raw"
_BIDI_AND_CONTROL = {"Cc", "Cf", "Zl", "Zp"}  # controls, RTL/LTR overrides, line separators


def display_name(name: str) -> str:
    """A file name fit to show (escaped by templates) and never used as a path."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch) not in _BIDI_AND_CONTROL)
    name = name.strip().strip(".") or "file"
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + "…." + ext) if dot and len(ext) <= 8 else name[:120]
    return name


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class ReceivedFile(UploadedFile):
    """What request.FILES holds: a reference to the stored ciphertext, not the content."""

    def __init__(
        self,
        *,
        object_id: uuid.UUID,
        name: str,
        content_type: str,
        size: int,
        sha256: str,
        wrapped_key: bytes,
        detected: str | None,
    ) -> None:
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.object_id, self.sha256, self.wrapped_key, self.detected = object_id, sha256, wrapped_key, detected

    @property
    def storage_name(self) -> str:
        return f"raw/{self.object_id}"


@dataclass
class Problem:
    name: str
    code: str  # "too_large", "empty", "case_full", "case_quota", "incomplete"
    limit: int = 0
    detected: str | None = None  # the type the first bytes showed ("pdf", "dicom", "zip"; else a photo)


@dataclass
class _Current:
    object_id: uuid.UUID
    name: str
    content_type: str
    wrapped_key: bytes
    encryptor: StreamEncryptor
    writer: storage.ObjectWriter
    sha256: Any = field(default_factory=hashlib.sha256)
    declared: int = 0  # the length the client announced, if it did: refused early when over the limit
    size: int = 0
    detected: str | None = None
    head: bytes = b""


class EncryptingUploadHandler(FileUploadHandler):
    chunk_size = 1024 * 1024  # fewer, larger pieces: less Python overhead per byte (Django's default is 64 KiB)

    def __init__(self, request: Any, *, patient_key: PatientKey, limits: Limits) -> None:
        super().__init__(request)
        self.patient_key, self.limits = patient_key, limits
        self.current: _Current | None = None
        self.problems: list[Problem] = []
        self.received: list[ReceivedFile] = []

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        if content_length > self.limits.request_max:
            self.problems.append(Problem("", "case_quota", self.limits.case_bytes))
            raise StopUpload(connection_reset=True)

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: Any = None,
    ) -> None:
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        name = display_name(file_name)
        if not self.limits.may_add(len(self.received)):
            self.problems.append(Problem(name, "case_full", self.limits.max_files))
            self.current = None
            raise StopUpload(connection_reset=False)
        object_id = uuid.uuid4()
        key, wrapped = new_data_key(self.patient_key, object_id, RAW_PURPOSE)
        self.current = _Current(
            object_id=object_id,
            name=name,
            content_type=(content_type or "")[:100],
            wrapped_key=wrapped,
            encryptor=StreamEncryptor(key, object_id, RAW_PURPOSE),
            writer=storage.open_writer(f"raw/{object_id}"),
            declared=max(content_length or 0, 0),
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        cur = self.current
        if cur is None:
            return None
        cur.size += len(raw_data)
        if len(cur.head) < PDF_HEADER_WINDOW:
            cur.head += raw_data[: PDF_HEADER_WINDOW - len(cur.head)]
            cur.detected = detect_type(cur.head)
        limit, size = self.limits.per_file(cur.detected), max(cur.size, cur.declared)
        if size > limit or not self.limits.fits_quota(sum(f.size or 0 for f in self.received) + size):
            code = "too_large" if size > limit else "case_quota"
            self._abort(Problem(cur.name, code, limit if code == "too_large" else self.limits.case_bytes, cur.detected))
            raise StopUpload(connection_reset=False)
        cur.sha256.update(raw_data)
        for piece in cur.encryptor.update_chunks(raw_data):
            cur.writer.write(piece)
        return None  # no later handler gets the bytes

    def file_complete(self, file_size: int) -> ReceivedFile | None:
        cur, self.current = self.current, None
        if cur is None:
            return None
        if cur.size == 0:
            cur.writer.abort()
            self.problems.append(Problem(cur.name, "empty"))
            return None
        cur.writer.write(cur.encryptor.finalize())
        cur.writer.close()
        received = ReceivedFile(
            object_id=cur.object_id,
            name=cur.name,
            content_type=cur.content_type,
            size=cur.size,
            sha256=cur.sha256.hexdigest(),
            wrapped_key=cur.wrapped_key,
            detected=cur.detected,
        )
        self.received.append(received)
        return received

    def upload_interrupted(self) -> None:
        if self.current is not None:
            self._abort(None)

    def _abort(self, problem: Problem | None) -> None:
        if self.current is not None:
            self.current.writer.abort()
            self.current = None
        if problem:
            self.problems.append(problem)

    def receive_body(self, body: Readable, *, name: str, content_type: str, content_length: int) -> None:
        """One file sent as the whole request body (the widget's PUT): the same steps and limits as
        a file in a multipart form, without the multipart parser. Raises StopUpload like the parser's
        handlers do; with connection_reset=False the rest of the body has been read and dropped, so
        the client, still sending, gets the answer."""
        self.handle_raw_input(body, {}, content_length, None)  # over what the case can take: read nothing
        try:
            self.new_file("file", name, content_type, content_length)
            while chunk := body.read(self.chunk_size):
                self.receive_data_chunk(chunk, 0)
        except StopUpload as e:
            if not e.connection_reset:
                while body.read(self.chunk_size):
                    pass
            raise
        except BaseException:
            self.upload_interrupted()
            raise
        if self.current is not None and self.current.size != content_length:  # the client went away
            self._abort(Problem(self.current.name, "incomplete"))
            raise StopUpload(connection_reset=True)
        self.file_complete(content_length)

    def discard_received(self) -> None:
        """Remove what was stored when the request fails before its rows are committed."""
        for received in self.received:
            storage.delete(received.storage_name)
