"""POST /cases/<id>/files/upload/ as a patient's browser uses it, on the S3 server from the
environment (SECURITY.md rows 10, 11, 13, 16, 17). Validation runs eagerly here, when the
request's transaction commits; tests/uploads/pipeline/test_worker.py runs it on a real worker."""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from cases.models import Case, Status
from tests.factories import PatientFactory, login
from tests.uploads.pipeline.samples import (
    KEY,
    Part,
    bucket_objects,
    dicom,
    dicom_folder_zip,
    jpeg_part,
    jpeg_with_gps,
    pdf,
    post_files,
    unfinished_multipart_uploads,
)
from uploads.models import Upload, UploadStatus

MiB = 1024 * 1024
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store, private",  # private: added for signed-in users
}

Send = Callable[..., Any]


@pytest.fixture
def send(patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any) -> Send:
    """Post files as the signed-in patient; the validation queued on commit runs (eagerly)."""

    def send(parts: list[Part], *, client: Client = patient_client, to: Case = case, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return post_files(client, to, parts, **kwargs)

    return send


def _limits(settings: Any, **changes: int) -> None:
    settings.UPLOAD_LIMITS = {**settings.UPLOAD_LIMITS, **changes}


def _files_page(client: Client, case: Case) -> str:
    response = client.get(reverse("uploads:files", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _row(page: str, upload: Upload) -> str:
    match = re.search(rf'<tr data-upload="{upload.pk}">(.*?)</tr>', page, re.DOTALL)
    assert match, f"{upload.original_name!r} is not in the file list"
    return match.group(1)


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _assert_attachment(response: Any) -> None:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    for header, value in FILE_HEADERS.items():
        assert response[header] == value
    assert "sandbox" in [d.strip().split(" ")[0] for d in response["Content-Security-Policy"].split(";")]


def test_a_photo_a_pdf_a_dicom_and_a_dicom_folder_are_each_accepted_and_listed_with_their_sha256(
    send: Send, patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    sent = {
        "mole.jpg": (jpeg_with_gps(), "image/jpeg"),
        "lab report.pdf": (pdf(2), "application/pdf"),
        "CT_small.dcm": (dicom(), "application/dicom"),
        "cd-export.zip": (dicom_folder_zip(), "application/zip"),
    }

    response = send([Part(name, data, ctype) for name, (data, ctype) in sent.items()])

    assert response.status_code == 302
    uploads = {u.original_name: u for u in Upload.objects.filter(case=case, parent__isnull=True)}
    assert set(uploads) == set(sent)
    assert {name: (u.status, u.reject_code) for name, u in uploads.items()} == dict.fromkeys(sent, ("accepted", ""))
    assert {name: u.kind for name, u in uploads.items()} == {
        "mole.jpg": "image",
        "lab report.pdf": "pdf",
        "CT_small.dcm": "dicom",
        "cd-export.zip": "archive",
    }
    members = list(uploads["cd-export.zip"].members.all())
    assert len(members) == 2 and all(m.status == UploadStatus.ACCEPTED and m.kind == "dicom" for m in members)

    page = _files_page(patient_client, case)
    for name, (data, _ctype) in sent.items():
        row = _row(page, uploads[name])
        assert escape(name) in row
        assert str(filesizeformat(len(data))) in row
        assert uploads[name].sha256 == hashlib.sha256(data).hexdigest()
        assert f'data-sha256="{hashlib.sha256(data).hexdigest()}"' in row

    keys = set(bucket_objects(s3, bucket))
    assert all(KEY.fullmatch(key) for key in keys), keys
    assert not any(key.startswith("raw/") for key in keys)  # the raw copies are gone once validated
    assert unfinished_multipart_uploads(s3, bucket) == []


def test_the_downloaded_photo_and_its_thumbnail_carry_no_exif_or_gps_and_never_render_inline(
    send: Send, patient_client: Client, case: Case
) -> None:
    send([jpeg_part("mole.jpg")])
    upload = Upload.objects.get(case=case)
    assert upload.status == UploadStatus.ACCEPTED

    for url in (reverse("uploads:download", args=[upload.pk]), reverse("uploads:thumbnail", args=[upload.pk])):
        response = patient_client.get(url)
        _assert_attachment(response)
        photo = Image.open(io.BytesIO(_body(response)))
        assert photo.format == "JPEG"
        exif = photo.getexif()
        assert len(exif) == 0
        assert len(exif.get_ifd(0x8825)) == 0
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"} & set(photo.info)


def test_every_kind_of_kept_file_is_served_as_an_attachment(send: Send, patient_client: Client, case: Case) -> None:
    send(
        [
            Part("r.pdf", pdf(), "application/pdf"),
            Part("s.dcm", dicom(), "application/dicom"),
            Part("cd.zip", dicom_folder_zip(), "application/zip"),
            jpeg_part("p.jpg"),
        ]
    )

    served = Upload.objects.filter(case=case, status=UploadStatus.ACCEPTED).exclude(kind="archive")
    assert served.count() == 5  # three files and the folder's two members
    for upload in served:
        response = patient_client.get(reverse("uploads:download", args=[upload.pk]))
        _assert_attachment(response)
        body = _body(response)
        if upload.kind == "dicom":
            assert body[:128] == bytes(128) and body[128:132] == b"DICM"  # preamble zeroed
        if upload.thumb_wrapped_key:
            _assert_attachment(patient_client.get(reverse("uploads:thumbnail", args=[upload.pk])))


@pytest.mark.parametrize("limit_mb", [1, 9], ids=["in-one-request", "after-a-multipart-part-was-sent"])
def test_one_byte_over_the_limit_is_refused_with_413_and_nothing_is_stored(
    send: Send, settings: Any, case: Case, s3: Any, bucket: str, limit_mb: int
) -> None:
    _limits(settings, photo_mb=limit_mb)
    data = JPEG_HEAD + b"\x00" * (limit_mb * MiB + 1 - len(JPEG_HEAD))

    response = send([Part("big.jpg", data, "image/jpeg")])

    assert response.status_code == 413
    assert f"is larger than {limit_mb} MB" in response.content.decode()
    assert not Upload.objects.filter(case=case).exists()
    assert bucket_objects(s3, bucket) == {}
    assert unfinished_multipart_uploads(s3, bucket) == []


def test_a_file_exactly_at_the_limit_is_taken(send: Send, settings: Any, case: Case) -> None:
    _limits(settings, photo_mb=1)
    data = jpeg_with_gps()
    data += b"\x00" * (MiB - len(data))  # trailing bytes after the image: still a JPEG

    assert send([Part("at-limit.jpg", data, "image/jpeg")]).status_code == 302
    assert Upload.objects.get(case=case).status == UploadStatus.ACCEPTED


def test_the_json_answer_to_an_oversized_file_is_413_with_the_problem(
    send: Send, settings: Any, case: Case, s3: Any, bucket: str
) -> None:
    _limits(settings, photo_mb=1)

    response = send([Part("big.jpg", JPEG_HEAD + bytes(MiB), "image/jpeg")], headers={"accept": "application/json"})

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    answer = json.loads(response.content)
    assert answer["files"] == []
    assert len(answer["problems"]) == 1 and "larger than 1 MB" in answer["problems"][0]
    assert "big.jpg" in answer["problems"][0]
    assert not Upload.objects.filter(case=case).exists()
    assert bucket_objects(s3, bucket) == {}


def test_a_request_larger_than_the_case_can_still_hold_is_refused_with_413(
    send: Send, settings: Any, case: Case, s3: Any, bucket: str
) -> None:
    _limits(settings, case_mb=1)  # request_max is then 2 MiB
    client = Client(raise_request_exception=False)
    login(client, case.patient)

    response = send([Part("scan.pdf", b"%PDF-1.7\n" + bytes(3 * MiB), "application/pdf")], client=client)

    assert response.status_code == 413
    assert not Upload.objects.filter(case=case).exists()
    assert bucket_objects(s3, bucket) == {}


def test_the_file_after_the_last_one_a_case_may_hold_is_refused_with_a_clear_message(
    send: Send, settings: Any, patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    _limits(settings, files_per_case=2)
    assert send([jpeg_part("one.jpg"), jpeg_part("two.jpg")]).status_code == 302
    stored = set(bucket_objects(s3, bucket))

    response = send([jpeg_part("three.jpg")], headers={"accept": "application/json"})

    assert response.status_code == 200
    assert json.loads(response.content) == {
        "files": [],
        "problems": [
            "“three.jpg” was not added: a case can hold 2 files. Remove files the specialist does not need, or send a folder of images as one ZIP."
        ],
    }
    page = send([jpeg_part("four.jpg")])
    assert page.status_code == 302
    assert (
        "“four.jpg” was not added: a case can hold 2 files. Remove files the specialist does not need, or send a folder of images as one ZIP."
        in _files_page(patient_client, case)
    )
    assert sorted(Upload.objects.filter(case=case).values_list("original_name", flat=True)) == ["one.jpg", "two.jpg"]
    assert set(bucket_objects(s3, bucket)) == stored
    assert unfinished_multipart_uploads(s3, bucket) == []


def test_the_third_of_three_files_in_one_request_is_refused_when_the_case_holds_two(
    send: Send, settings: Any, case: Case
) -> None:
    _limits(settings, files_per_case=2)

    response = send(
        [jpeg_part("one.jpg"), jpeg_part("two.jpg"), jpeg_part("three.jpg")], headers={"accept": "application/json"}
    )

    assert [f["name"] for f in json.loads(response.content)["files"]] == ["one.jpg", "two.jpg"]
    assert json.loads(response.content)["problems"] == [
        "“three.jpg” was not added: a case can hold 2 files. Remove files the specialist does not need, or send a folder of images as one ZIP."
    ]
    assert Upload.objects.filter(case=case).count() == 2


def test_an_empty_file_gets_a_clear_message_and_nothing_is_stored(
    send: Send, patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    response = send([Part("empty.jpg", b"", "image/jpeg")])

    assert response.status_code == 302
    assert "“empty.jpg” is empty." in _files_page(patient_client, case)
    assert not Upload.objects.filter(case=case).exists()
    assert bucket_objects(s3, bucket) == {}


HOSTILE_NAMES = {
    "path": Part("../../etc/passwd.jpg", b""),
    "windows-path": Part("..\\..\\Windows\\win.ini.jpg", b""),
    "nul": Part("photo\x00.php.jpg", b"", rfc2231=True),
    "crlf": Part("photo\r\nX-Injected: 1\r\n.jpg", b"", rfc2231=True),
    "rtl-override": Part("photo\u202egpj.exe", b"", rfc2231=True),
    "bidi-isolates-and-zero-width": Part("a\u2066b\u2069\u200bc\u2028d.jpg", b"", rfc2231=True),
    "300-chars": Part("a" * 296 + ".jpg", b""),
    "300-chars-no-extension": Part("b" * 300, b""),
    "markup": Part("<img src=x onerror=alert(1)>.jpg", b""),
}


@pytest.mark.parametrize("hostile", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_a_file_name_is_never_a_path_and_is_shown_escaped_without_control_characters(
    send: Send, patient_client: Client, case: Case, s3: Any, bucket: str, hostile: Part
) -> None:
    send([Part(hostile.name, jpeg_with_gps(), "image/jpeg", rfc2231=hostile.rfc2231)])

    upload = Upload.objects.get(case=case)
    assert upload.status == UploadStatus.ACCEPTED
    keys = set(bucket_objects(s3, bucket))
    assert keys == {f"files/{upload.pk}", f"thumbs/{upload.pk}"}

    shown = upload.original_name
    assert 0 < len(shown) <= 120
    assert not [ch for ch in shown if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}], repr(shown)
    assert "/" not in shown and "\\" not in shown and ".." not in shown.replace("…", "")

    page = _files_page(patient_client, case)
    assert escape(shown) in _row(page, upload)
    assert "<img src=x" not in page
    download = patient_client.get(reverse("uploads:download", args=[upload.pk]))
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert not re.search(r"[\x00-\x1f\x7f\u202e]", disposition)


def test_html_sent_as_a_jpeg_is_rejected_as_a_web_page(
    send: Send, patient_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    html = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"

    send([Part("photo.jpg", html, "image/jpeg")])

    upload = Upload.objects.get(case=case)
    assert (upload.status, upload.reject_code) == (UploadStatus.REJECTED, "web_page")
    row = _row(_files_page(patient_client, case), upload)
    assert "This is a web page" in row and "print it to PDF" in row
    assert bucket_objects(s3, bucket) == {}  # the raw copy is deleted; nothing else was made
    assert patient_client.get(reverse("uploads:download", args=[upload.pk])).status_code == 404


def test_a_post_without_a_csrf_token_is_refused_and_leaves_nothing_behind(
    csrf_client: Client, case: Case, s3: Any, bucket: str
) -> None:
    response = post_files(csrf_client, case, [jpeg_part()])

    assert response.status_code == 403
    assert not Upload.objects.filter(case=case).exists()
    assert bucket_objects(s3, bucket) == {}
    assert unfinished_multipart_uploads(s3, bucket) == []


def test_a_post_with_the_csrf_token_is_taken(
    csrf_client: Client, case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    csrf_client.get(reverse("uploads:files", args=[case.pk]))
    token = csrf_client.cookies["csrftoken"].value

    with django_capture_on_commit_callbacks(execute=True):
        response = post_files(csrf_client, case, [jpeg_part()], fields={"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert Upload.objects.get(case=case).status == UploadStatus.ACCEPTED


def test_another_patient_posting_to_the_case_gets_404_and_nothing_is_stored(
    send: Send, case: Case, s3: Any, bucket: str
) -> None:
    stranger = login(Client(), PatientFactory())

    response = send([jpeg_part()], client=stranger)

    assert response.status_code == 404
    assert not Upload.objects.exists()
    assert bucket_objects(s3, bucket) == {}


def test_posting_to_a_withdrawn_case_gets_404_and_nothing_is_stored(
    send: Send, case: Case, s3: Any, bucket: str
) -> None:
    Case.objects.filter(pk=case.pk).update(status=Status.WITHDRAWN)

    response = send([jpeg_part()])

    assert response.status_code == 404
    assert not Upload.objects.exists()
    assert bucket_objects(s3, bucket) == {}


def test_the_upload_hint_says_the_limits_in_force(patient_client: Client, case: Case, settings: Any) -> None:
    _limits(settings, photo_mb=7, pdf_mb=11, dicom_mb=13, archive_mb=17)

    page = _files_page(patient_client, case)

    assert (
        "Photos (JPEG, PNG, HEIC) up to 7 MB, PDF up to 11 MB, DICOM up to 13 MB per file, "
        "or a ZIP of a DICOM folder up to 17 MB." in page
    )
    assert 'data-limit-photo="7340032"' in page  # the widget refuses by the same limits
