"""Where ciphertext lives: an S3-compatible bucket, or a directory on the embedded default.

Only ciphertext is ever passed to this module. Writers stream: S3 gets a multipart upload
(parts of 8 MiB or a little more), local disk gets a `.part` file renamed into place on close,
so an aborted or crashed upload never leaves a complete-looking object behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.files.storage import default_storage

PART_SIZE = 8 * 1024 * 1024  # S3 needs parts of at least 5 MiB, except the last; boto3's default
PARTS_IN_FLIGHT = 10  # boto3 TransferConfig default (max_concurrency); memory: 10 parts + 1 filling
READ_SIZE = 1024 * 1024


class ObjectWriter(Protocol):
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def _s3() -> tuple[Any, str]:
    return default_storage.connection.meta.client, settings.S3_BUCKET  # type: ignore[attr-defined]


def _s3_writer() -> tuple[Any, str]:
    storage: Any = default_storage
    client = getattr(storage, "_uploads_part_client", None)
    if client is None:  # one per storage object (so per settings); clients are thread-safe
        client = storage._uploads_part_client = _writer_client(storage)
    return client, settings.S3_BUCKET


def _writer_client(storage: Any) -> Any:
    """A client for writing parts that does not SHA-256 the body for its signature. Over HTTPS
    botocore already leaves it out for uploads that carry a checksum; over plain HTTP it would hash
    every byte once more, on the web process's CPU. What we store is AES-GCM sealed chunk by
    chunk, so a changed body fails at decryption anyway, and the CRC32 lets S3 refuse a damaged
    part. The signature still covers the request, its headers and the checksum."""
    from botocore.config import Config

    config = storage.client_config.merge(
        Config(s3={"payload_signing_enabled": False}, max_pool_connections=PARTS_IN_FLIGHT)
    )
    # The storage's own session: the same credentials (keys, profile or role) as its connection.
    return storage._create_session().client(
        "s3",
        region_name=storage.region_name,
        use_ssl=storage.use_ssl,
        endpoint_url=storage.endpoint_url,
        config=config,
        verify=storage.verify,
    )


def _local(name: str) -> Path:
    root = Path(default_storage.location)  # type: ignore[attr-defined]
    path = (root / name).resolve()
    if root.resolve() not in path.parents:  # names are ours (UUIDs), but never trust a path
        raise ValueError("object name escapes the storage directory")
    return path


class S3Writer:
    """Parts go up on a few threads while the next part fills, like boto3's own uploader;
    memory stays bounded by PARTS_IN_FLIGHT parts. Pieces are kept as they come and joined once
    per part (a part is PART_SIZE or a little more), so each byte is copied once here."""

    def __init__(self, name: str) -> None:
        self.client, self.bucket = _s3_writer()
        self.name = name
        self.buffer: list[bytes] = []
        self.buffered = 0
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.pending: list[Future[dict[str, Any]]] = []
        self.pool: ThreadPoolExecutor | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.buffer.append(data)
        self.buffered += len(data)
        if self.buffered >= PART_SIZE:
            self._send_part(self._take())

    def _take(self) -> bytearray:
        # A bytearray, not bytes: botocore wraps a bytes body in a BytesIO that urllib3 then sends
        # 16 KiB at a time (512 sends a part, each taking the GIL again); a bytearray goes out in
        # one sendall, and its CRC32 is taken without copying.
        body, self.buffer, self.buffered = bytearray().join(self.buffer), [], 0
        return body

    def _put(self, number: int, body: bytearray) -> dict[str, Any]:
        # A declared CRC32 lets the server check each part and the whole object, like boto3's uploader.
        response = self.client.upload_part(
            Bucket=self.bucket,
            Key=self.name,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="CRC32",
        )
        return {"ETag": response["ETag"], "ChecksumCRC32": response["ChecksumCRC32"], "PartNumber": number}

    def _send_part(self, body: bytearray) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.name, ChecksumAlgorithm="CRC32"
            )["UploadId"]
            self.pool = ThreadPoolExecutor(max_workers=PARTS_IN_FLIGHT, thread_name_prefix="s3-part")
        while len(self.pending) >= PARTS_IN_FLIGHT:
            self.parts.append(self.pending.pop(0).result())
        assert self.pool is not None
        self.pending.append(self.pool.submit(self._put, len(self.parts) + len(self.pending) + 1, body))

    def _drain(self) -> None:
        try:
            while self.pending:
                self.parts.append(self.pending.pop(0).result())
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        body = self._take()
        if self.upload_id is None:  # small object: one request
            self.client.put_object(Bucket=self.bucket, Key=self.name, Body=body)
        else:
            if body:
                self._send_part(body)
            self._drain()
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.name,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": sorted(self.parts, key=lambda p: p["PartNumber"])},
            )
        self.buffer, self.buffered = [], 0

    def abort(self) -> None:
        if self.upload_id is not None:
            with contextlib.suppress(Exception):  # a failed part must not stop the abort
                self._drain()
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.name, UploadId=self.upload_id)
        self.buffer, self.buffered = [], 0


class LocalWriter:
    def __init__(self, name: str) -> None:
        self.path = _local(name)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.part = self.path.with_name(self.path.name + ".part")
        self.file = open(self.part, "wb")  # noqa: SIM115 - closed in close()/abort()
        os.chmod(self.part, 0o600)

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def close(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.part, self.path)

    def abort(self) -> None:
        self.file.close()
        self.part.unlink(missing_ok=True)


def open_writer(name: str) -> ObjectWriter:
    return S3Writer(name) if settings.S3_BUCKET else LocalWriter(name)


def read(name: str) -> Iterator[bytes]:
    """The stored bytes in pieces, without holding the object in memory."""
    if settings.S3_BUCKET:
        client, bucket = _s3()
        body = client.get_object(Bucket=bucket, Key=name)["Body"]
        try:
            yield from body.iter_chunks(READ_SIZE)
        finally:
            body.close()
    else:
        with open(_local(name), "rb") as f:
            while chunk := f.read(READ_SIZE):
                yield chunk


def delete(name: str) -> None:
    if settings.S3_BUCKET:
        client, bucket = _s3()
        client.delete_object(Bucket=bucket, Key=name)
    else:
        _local(name).unlink(missing_ok=True)


def exists(name: str) -> bool:
    if settings.S3_BUCKET:
        client, bucket = _s3()
        return bool(client.list_objects_v2(Bucket=bucket, Prefix=name, MaxKeys=1).get("KeyCount"))
    return _local(name).exists()


def listing(prefix: str = "") -> Iterator[tuple[str, datetime]]:
    """Every stored object under `prefix`, with when it was last written (UTC)."""
    if settings.S3_BUCKET:
        client, bucket = _s3()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"]
    else:
        root = Path(default_storage.location)  # type: ignore[attr-defined]
        # Walk only the folder the prefix names (e.g. "files/"), not the whole store.
        start = _local(prefix.rsplit("/", 1)[0]) if "/" in prefix else root
        for path in sorted(start.rglob("*")):
            name = path.relative_to(root).as_posix()
            if path.is_file() and not name.endswith(".part") and name.startswith(prefix):
                yield name, datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def names(prefix: str = "") -> Iterator[str]:
    """Every stored object's name (for backups): keys in the bucket, or files under the directory."""
    for name, _modified in listing(prefix):
        yield name


def put(name: str, chunks: Iterator[bytes]) -> None:
    """Store `chunks` (ciphertext) under `name` through the normal streaming writer."""
    writer = open_writer(name)
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    writer.close()
