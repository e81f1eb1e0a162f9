"""PUT /cases/<id>/files/upload/file/: one file as the whole request body, as the upload widget
sends it (no multipart form), on the S3 server from the environment. The same limits, checks and
answers as the form's POST (test_upload_endpoint.py), and the same protection: CSRF token, owner
only, audited."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cases.models import Case, Status
from tests.factories import PatientFactory, login
from tests.uploads.pipeline.samples import bucket_objects, jpeg_with_gps, pdf, unfinished_multipart_uploads
from uploads.models import Upload, UploadStatus

MiB = 1024 * 1024
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"

Put = Callable[..., Any]


def _url(case: Case) -> str:
    return reverse("uploads:upload_file", args=[case.pk])


def _put(
    client: Client,
    case: Case,
    data: bytes,
    name: str | None,
    content_type: str = "image/jpeg",
    token: str | None = None,
) -> Any:
    headers = {"Accept": "application/json"}
    if name is not None:
        headers["X-File-Name"] = quote(name)
    if token is not None:
        headers["X-CSRFToken"] = token
    return client.put(_url(case), data=data, content_type=content_type, headers=headers)


@pytest.fixture
def put(patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any) -> Put:
    """PUT one file as the signed-in patient; the validation queued on commit runs (eagerly)."""

    def put(data: bytes, name: str | None, *, client: Client = patient_client, to: Case = case, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return _put(client, to, data, name, **kwargs)

    return put


def _limits(settings: Any, **changes: int) -> None:
    settings.UPLOAD_LIMITS = {**settings.UPLOAD_LIMITS, **changes}


def test_a_photo_sent_as_the_body_is_stored_checked_and_answered_in_json(
    put: Put, patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    photo = jpeg_with_gps()

    response = put(photo, "Foto de la mano (día 3).jpg")

    assert response.status_code == 200
    answer = json.loads(response.content)
    upload = Upload.objects.get(case=case)
    assert answer == {
        "files": [
            {
                "id": str(upload.pk),
                "name": "Foto de la mano (día 3).jpg",
                "status": "received",
                "status_url": reverse("uploads:status", args=[case.pk]),
            }
        ],
        "problems": [],
    }
    assert (upload.status, upload.kind, upload.size) == (UploadStatus.ACCEPTED, "image", len(photo))
    assert upload.sha256 == hashlib.sha256(photo).hexdigest()
    assert upload.declared_type == "image/jpeg"
    assert set(bucket_objects(s3, bucket)) == {f"files/{upload.pk}", f"thumbs/{upload.pk}"}
    assert AuditEvent.objects.filter(event_type="upload.create", entity_id=str(upload.pk)).count() == 1
    page = patient_client.get(reverse("uploads:files", args=[case.pk])).content.decode()
    assert f'data-sha256="{upload.sha256}"' in page and f"SHA-256 <code>{upload.sha256[:8]}…" in page


def test_a_file_of_several_parts_arrives_whole(put: Put, patient_client: Client, case: Case, settings: Any) -> None:
    _limits(settings, pdf_mb=50)
    document = pdf(1, padding=20 * MiB)  # three S3 parts

    assert put(document, "scan.pdf", content_type="application/pdf").status_code == 200

    upload = Upload.objects.get(case=case)
    assert (upload.status, upload.kind, upload.size) == (UploadStatus.ACCEPTED, "pdf", len(document))
    assert upload.sha256 == hashlib.sha256(document).hexdigest()


@pytest.mark.parametrize("limit_mb", [1, 9])
def test_one_byte_over_the_limit_is_refused_with_413_and_nothing_is_stored(
    put: Put, settings: Any, case: Case, s3: Any, bucket: str, limit_mb: int
) -> None:
    _limits(settings, photo_mb=limit_mb)

    response = put(JPEG_HEAD + bytes(limit_mb * MiB + 1 - len(JPEG_HEAD)), "big.jpg")

    assert response.status_code == 413
    assert json.loads(response.content) == {
        "files": [],
        "problems": [
            f"“big.jpg” is larger than {limit_mb} MB, the limit for this kind of file. Send a smaller copy, "
            "for example a photo taken with a phone."
        ],
    }
    assert not Upload.objects.filter(case=case).exists()
    assert bucket_objects(s3, bucket) == {}
    assert unfinished_multipart_uploads(s3, bucket) == []


def test_a_file_exactly_at_the_limit_is_taken(put: Put, settings: Any, case: Case) -> None:
    _limits(settings, photo_mb=1)
    photo = jpeg_with_gps()

    assert put(photo + bytes(MiB - len(photo)), "at-limit.jpg").status_code == 200
    assert Upload.objects.get(case=case).status == UploadStatus.ACCEPTED


def test_a_file_larger_than_the_case_can_still_hold_is_refused_with_413(
    put: Put, settings: Any, case: Case, s3: Any, bucket: str
) -> None:
    _limits(settings, case_mb=1)

    response = put(b"%PDF-1.7\n" + bytes(3 * MiB), "scan.pdf", content_type="application/pdf")

    assert response.status_code == 413
    assert json.loads(response.content)["problems"] == [
        "What you sent does not fit: a case can hold 1 MB of files. Remove files the specialist does not need "
        "from the list below, or send fewer or smaller files at a time."
    ]
    assert not Upload.objects.filter(case=case).exists()
    assert bucket_objects(s3, bucket) == {}


@pytest.mark.parametrize(
    ("name", "head", "advice"),
    [
        ("scan.pdf", b"%PDF-1.7\n", "the limit for a PDF. Save or scan it again at a lower quality"),
        ("ct.dcm", bytes(128) + b"DICM", "the limit for one imaging (DICOM) file. Ask the hospital"),
        ("cd.zip", b"PK\x03\x04", "the limit for a ZIP. Send the folder of images itself"),
    ],
)
def test_a_file_over_its_types_limit_is_told_what_to_do_for_that_type(
    put: Put, settings: Any, case: Case, name: str, head: bytes, advice: str
) -> None:
    _limits(settings, pdf_mb=1, dicom_mb=1, archive_mb=1)

    response = put(head + bytes(MiB), name)

    assert response.status_code == 413
    [problem] = json.loads(response.content)["problems"]
    assert problem.startswith(f"“{name}” is larger than 1 MB, ") and advice in problem


def test_the_file_after_the_last_one_a_case_may_hold_is_refused_with_a_clear_message(
    put: Put, settings: Any, case: Case
) -> None:
    _limits(settings, files_per_case=1)
    assert put(jpeg_with_gps(), "one.jpg").status_code == 200

    response = put(jpeg_with_gps(), "two.jpg")

    assert json.loads(response.content) == {
        "files": [],
        "problems": [
            "“two.jpg” was not added: a case can hold 1 file. Remove files the specialist does not need, or send a folder of images as one ZIP."
        ],
    }
    assert list(Upload.objects.filter(case=case).values_list("original_name", flat=True)) == ["one.jpg"]


def test_an_empty_body_gets_a_clear_message_and_nothing_is_stored(put: Put, case: Case, s3: Any, bucket: str) -> None:
    response = put(b"", "empty.jpg")

    assert json.loads(response.content)["problems"] == [
        "“empty.jpg” is empty. Choose the file again; if it is still empty, save it again from where it came."
    ]
    assert not Upload.objects.exists()
    assert bucket_objects(s3, bucket) == {}


@pytest.mark.parametrize("name", ["../../etc/passwd.jpg", "photo\r\nX-Injected: 1\r\n.jpg", "photo\u202egpj.exe", None])
def test_a_file_name_from_the_header_is_never_a_path(
    put: Put, case: Case, s3: Any, bucket: str, name: str | None
) -> None:
    put(jpeg_with_gps(), name)

    upload = Upload.objects.get(case=case)
    assert upload.original_name in {"passwd.jpg", "photoX-Injected: 1.jpg", "photogpj.exe", "file"}
    assert set(bucket_objects(s3, bucket)) == {f"files/{upload.pk}", f"thumbs/{upload.pk}"}


@pytest.mark.parametrize("size", [1000, 10 * MiB], ids=["small", "after-two-parts-were-sent"])
def test_a_body_that_stops_short_of_its_length_leaves_nothing_behind(
    patient_client: Client, case: Case, s3: Any, bucket: str, size: int
) -> None:
    body = JPEG_HEAD + bytes(size - len(JPEG_HEAD))

    # The connection ended early (the phone lost its signal): fewer bytes than Content-Length says.
    response = patient_client.generic(
        "PUT",
        _url(case),
        content_type="image/jpeg",
        headers={"X-File-Name": "arm.jpg", "Accept": "application/json"},
        **{"CONTENT_LENGTH": str(size + 1), "wsgi.input": io.BytesIO(body)},
    )

    assert json.loads(response.content) == {
        "files": [],
        "problems": ["“arm.jpg” did not arrive completely. Send it again."],
    }
    assert not Upload.objects.exists()
    assert bucket_objects(s3, bucket) == {}
    assert unfinished_multipart_uploads(s3, bucket) == []


def test_a_put_without_the_csrf_token_is_refused_and_leaves_nothing_behind(
    csrf_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    response = _put(csrf_client, case, jpeg_with_gps(), "photo.jpg")

    assert response.status_code == 403
    assert not Upload.objects.exists()
    assert bucket_objects(s3, bucket) == {}


def test_a_put_with_the_csrf_token_is_taken(csrf_client: Client, case: Case, bucket: str) -> None:
    csrf_client.get(reverse("uploads:files", args=[case.pk]))

    response = _put(csrf_client, case, jpeg_with_gps(), "photo.jpg", token=csrf_client.cookies["csrftoken"].value)

    assert response.status_code == 200
    assert Upload.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("who", ["another patient", "the assigned specialist"])
def test_only_the_cases_patient_may_send_files(
    put: Put, case: Case, s3: Any, bucket: str, specialist: Any, specialist_client: Client, who: str
) -> None:
    if who == "another patient":
        client = login(Client(), PatientFactory())
    else:
        Case.objects.filter(pk=case.pk).update(specialist=specialist)
        client = specialist_client

    assert put(jpeg_with_gps(), "photo.jpg", client=client).status_code == 404
    assert not Upload.objects.exists()
    assert bucket_objects(s3, bucket) == {}
    assert AuditEvent.objects.filter(outcome__gt="0", case_id=case.pk).exists()


def test_a_signed_out_browser_is_sent_to_sign_in(put: Put, case: Case) -> None:
    response = put(jpeg_with_gps(), "photo.jpg", client=Client())

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Upload.objects.exists()


def test_a_withdrawn_case_takes_no_files(put: Put, case: Case, bucket: str) -> None:
    Case.objects.filter(pk=case.pk).update(status=Status.WITHDRAWN)

    assert put(jpeg_with_gps(), "photo.jpg").status_code == 404
    assert not Upload.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_only_put_is_answered(patient_client: Client, case: Case, method: str) -> None:
    assert getattr(patient_client, method)(_url(case)).status_code == 405


def test_the_upload_event_names_the_patient_their_address_and_browser(
    put: Put, patient_a: Any, case: Case, bucket: str
) -> None:
    client = login(Client(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="Phone/2.0"), patient_a)

    assert put(pdf(), "letter.pdf", client=client, content_type="application/pdf").status_code == 200

    event = AuditEvent.objects.get(event_type="upload.create", case_id=case.pk)
    assert (event.actor_id, event.actor_role, event.source_ip, event.user_agent) == (
        patient_a.pk,
        "patient",
        "198.51.100.23",
        "Phone/2.0",
    )
