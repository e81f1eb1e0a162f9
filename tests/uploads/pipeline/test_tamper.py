"""Tampered, swapped or truncated ciphertext in the bucket fails; no complete plaintext is ever
released from it (SECURITY.md row 22). A download streams: the headers go out before the body
is decrypted, so what matters is that the body stops at the first chunk that does not verify."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case
from core.crypto import CHUNK_SIZE, HEADER, SEALED_CHUNK_SIZE, DecryptionError
from tests.uploads.pipeline.samples import Part, bucket_objects, jpeg_part, pdf, post_files
from uploads.models import Upload, UploadStatus
from uploads.services import open_object

Tamper = Callable[[bytes], bytes]


def _flip(offset: int) -> Tamper:
    def flip(body: bytes) -> bytes:
        at = offset if offset >= 0 else len(body) + offset
        return body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1 :]

    return flip


def _swap_first_two_chunks(body: bytes) -> bytes:
    one, two = len(HEADER), len(HEADER) + SEALED_CHUNK_SIZE
    return body[:one] + body[two : two + SEALED_CHUNK_SIZE] + body[one:two] + body[two + SEALED_CHUNK_SIZE :]


def _drop_final_chunk(body: bytes) -> bytes:
    """Cut at a chunk boundary: what is left is whole chunks that each verify, none marked last."""
    whole = (len(body) - len(HEADER) - 1) // SEALED_CHUNK_SIZE
    return body[: len(HEADER) + whole * SEALED_CHUNK_SIZE]


TAMPERING: dict[str, Tamper] = {
    "flipped-header-byte": _flip(3),
    "flipped-byte-in-first-chunk": _flip(len(HEADER) + 100),
    "flipped-tag-byte-of-second-chunk": _flip(len(HEADER) + 2 * SEALED_CHUNK_SIZE - 1),
    "flipped-byte-in-last-chunk": _flip(-20),
    "chunks-reordered": _swap_first_two_chunks,
    "final-chunk-dropped-at-a-boundary": _drop_final_chunk,
    "truncated-mid-chunk": lambda body: body[:-100],
    "header-only": lambda body: body[: len(HEADER)],
    "emptied": lambda body: b"",
    "data-appended": lambda body: body + bytes(16),
}


@pytest.fixture
def send(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> Callable[[list[Part]], list[Upload]]:
    def send(parts: list[Part]) -> list[Upload]:
        with django_capture_on_commit_callbacks(execute=True):
            assert post_files(patient_client, case, parts).status_code == 302
        uploads = list(Upload.objects.filter(case=case).order_by("original_name"))
        assert {u.status for u in uploads} == {UploadStatus.ACCEPTED}
        return uploads

    return send


def _rewrite(s3: Any, bucket: str, key: str, change: Tamper) -> None:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=change(body))


def _swap(s3: Any, bucket: str, one: str, other: str) -> None:
    bodies = {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in (one, other)}
    s3.put_object(Bucket=bucket, Key=one, Body=bodies[other])
    s3.put_object(Bucket=bucket, Key=other, Body=bodies[one])


def _delivered(client: Client, url: str) -> bytes:
    """What a client receives before the stream fails; it must fail."""
    response = client.get(url)
    assert response.status_code == 200
    received = bytearray()
    with pytest.raises(DecryptionError):
        for chunk in response.streaming_content:
            received += chunk
    return bytes(received)


def _assert_partial_prefix(delivered: bytes, original: bytes) -> None:
    assert len(delivered) < len(original), "the whole file was delivered"
    assert original.startswith(delivered), "bytes that are not the file were delivered"
    assert len(delivered) % CHUNK_SIZE == 0  # only whole chunks whose tags verified


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_a_tampered_stored_file_never_downloads_whole(
    send: Callable[[list[Part]], list[Upload]], patient_client: Client, s3: Any, bucket: str, tamper: Tamper
) -> None:
    (upload,) = send([Part("report.pdf", pdf(padding=300_000), "application/pdf")])
    original = b"".join(open_object(upload))
    assert len(original) > 4 * CHUNK_SIZE  # several chunks, so a prefix could leak

    _rewrite(s3, bucket, upload.stored_name, tamper)

    _assert_partial_prefix(_delivered(patient_client, reverse("uploads:download", args=[upload.pk])), original)


def test_two_stored_files_swapped_deliver_nothing(
    send: Callable[[list[Part]], list[Upload]], patient_client: Client, s3: Any, bucket: str
) -> None:
    one, other = send(
        [Part("a.pdf", pdf(padding=100_000), "application/pdf"), Part("b.pdf", pdf(padding=100_000), "application/pdf")]
    )

    _swap(s3, bucket, one.stored_name, other.stored_name)

    for upload in (one, other):
        assert _delivered(patient_client, reverse("uploads:download", args=[upload.pk])) == b""


def test_a_file_swapped_with_its_own_thumbnail_delivers_nothing(
    send: Callable[[list[Part]], list[Upload]], patient_client: Client, s3: Any, bucket: str
) -> None:
    (upload,) = send([jpeg_part("mole.jpg")])

    _swap(s3, bucket, upload.stored_name, upload.thumb_name)

    assert _delivered(patient_client, reverse("uploads:download", args=[upload.pk])) == b""
    assert _delivered(patient_client, reverse("uploads:thumbnail", args=[upload.pk])) == b""


def test_the_backup_zip_stops_at_a_tampered_file(
    send: Callable[[list[Part]], list[Upload]], patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    first, second = send([jpeg_part("a.jpg"), Part("b.pdf", pdf(padding=200_000), "application/pdf")])
    _rewrite(s3, bucket, second.stored_name, _flip(-20))

    response = patient_client.get(reverse("uploads:backup", args=[case.pk]))
    received = bytearray()
    with pytest.raises(DecryptionError):
        for chunk in response.streaming_content:
            received += chunk
    assert b"PK\x05\x06" not in received  # no end of central directory: never a complete-looking ZIP


RAW_TAMPERING: dict[str, Tamper] = {
    "flipped-byte": _flip(len(HEADER) + 10),
    "truncated": lambda body: body[:-1],
    "final-chunk-dropped-at-a-boundary": _drop_final_chunk,
    "emptied": lambda body: b"",
}


@pytest.mark.parametrize("tamper", RAW_TAMPERING.values(), ids=RAW_TAMPERING.keys())
def test_a_raw_upload_tampered_before_validation_ends_rejected(
    patient_client: Client, case: Case, s3: Any, bucket: str, django_capture_on_commit_callbacks: Any, tamper: Tamper
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as validations:
        assert (
            post_files(patient_client, case, [Part("report.pdf", pdf(padding=200_000), "application/pdf")]).status_code
            == 302
        )
    upload = Upload.objects.get(case=case)
    _rewrite(s3, bucket, upload.raw_name, tamper)

    with django_capture_on_commit_callbacks(execute=True):
        for validate in validations:
            validate()

    upload.refresh_from_db()
    assert (upload.status, upload.reject_code) == (UploadStatus.REJECTED, "tampered")
    page = patient_client.get(reverse("uploads:files", args=[case.pk]))
    assert page.status_code == 200
    assert "The file was damaged while it was being stored." in page.content.decode()
    assert bucket_objects(s3, bucket) == {}


def test_two_raw_uploads_swapped_before_validation_both_end_rejected(
    patient_client: Client, case: Case, s3: Any, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as validations:
        post_files(patient_client, case, [jpeg_part("a.jpg"), jpeg_part("b.jpg")])
    one, other = Upload.objects.filter(case=case)
    _swap(s3, bucket, one.raw_name, other.raw_name)

    with django_capture_on_commit_callbacks(execute=True):
        for validate in validations:
            validate()

    assert {(u.status, u.reject_code) for u in Upload.objects.filter(case=case)} == {("rejected", "tampered")}
    assert bucket_objects(s3, bucket) == {}
