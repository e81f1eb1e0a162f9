"""What the file list tells the patient about each file they sent (issue 15 item 6): a rejection
names what was sent and what to do, and a kept file says what was left out of it or that it
looks damaged. Sent through the plain form; the checks run at once (on commit, captured)."""

from __future__ import annotations

import io
import re
from typing import Any

import pikepdf
import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case
from tests.uploads.pipeline.samples import Part, dicom, heic, pdf, png, post_files
from tests.uploads.sanitize import corpus
from uploads.models import Upload, UploadStatus

DOCX = corpus.zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})


def _send(client: Client, case: Case, capture: Any, *parts: Part) -> list[Upload]:
    with capture(execute=True):
        assert post_files(client, case, list(parts)).status_code == 302
    return list(Upload.objects.filter(case=case, parent__isnull=True))


def _row(client: Client, upload: Upload) -> str:
    page = client.get(reverse("uploads:files", args=[upload.case_id])).content.decode()
    found = re.search(rf'<tr data-upload="{upload.pk}">.*?</tr>', page, re.DOTALL)
    assert found, page
    return re.sub(r"\s+", " ", found.group(0))


def test_a_word_file_is_rejected_as_a_word_document_with_what_to_do(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    (upload,) = _send(patient_client, case, django_capture_on_commit_callbacks, Part("letter.docx", DOCX))
    assert (upload.status, upload.reject_code) == (UploadStatus.REJECTED, "word_document")
    row = _row(patient_client, upload)
    assert "letter.docx" in row
    assert "This is a Word document." in row
    assert "Save it as PDF" in row
    assert "ZIP" not in row


def test_a_zip_says_what_was_left_out(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    members = {"DICOMDIR": (corpus.dicom_folder() / "DICOMDIR").read_bytes(), "IMG1": dicom(), "README.TXT": b"hi"}
    members["viewer.exe"] = b"MZ" + bytes(300)
    (upload,) = _send(patient_client, case, django_capture_on_commit_callbacks, Part("cd.zip", corpus.zip_of(members)))
    assert (upload.status, upload.hints) == (UploadStatus.ACCEPTED, ["dicomdir_skipped", "files_skipped"])
    row = _row(patient_client, upload)
    assert "2 other files in the ZIP were not kept" in row
    assert "index of the CD (DICOMDIR) was not kept" in row


def test_a_cds_index_sent_with_its_folder_is_not_kept_and_the_patient_is_told_why(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    index = (corpus.dicom_folder() / "DICOMDIR").read_bytes()
    (upload,) = _send(patient_client, case, django_capture_on_commit_callbacks, Part("DICOMDIR", index))
    assert (upload.status, upload.reject_code) == (UploadStatus.REJECTED, "dicomdir")
    row = _row(patient_client, upload)
    assert "This is the index of an imaging CD (DICOMDIR), not an image" in row
    assert "You do not need to do anything" in row
    assert "Not needed" in row and "Rejected" not in row


def test_a_zip_of_only_images_says_nothing_was_left_out(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    folder = corpus.zip_of({"IMG1": dicom(), "IMG2": dicom("MR_small.dcm")})
    (upload,) = _send(patient_client, case, django_capture_on_commit_callbacks, Part("cd.zip", folder))
    assert upload.status == UploadStatus.ACCEPTED
    assert "not kept" not in _row(patient_client, upload)


def test_a_cut_off_png_is_kept_with_a_damaged_hint(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    data = png((800, 600))[:-12]  # no IEND
    (upload,) = _send(patient_client, case, django_capture_on_commit_callbacks, Part("scan.png", data, "image/png"))
    assert upload.status == UploadStatus.ACCEPTED
    assert "may be damaged or incomplete" in _row(patient_client, upload)


def test_a_pdf_with_bytes_before_its_header_is_kept(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    data = b"X-Scanner: 42\r\n\r\n" + pdf()
    (upload,) = _send(patient_client, case, django_capture_on_commit_callbacks, Part("scan.pdf", data))
    assert (upload.status, upload.kind) == (UploadStatus.ACCEPTED, "pdf")


def test_a_pdf_with_owner_restrictions_only_is_kept(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    document, out = pikepdf.open(io.BytesIO(pdf())), io.BytesIO()
    document.save(out, encryption=pikepdf.Encryption(owner="o", user="", allow=pikepdf.Permissions(extract=False)))
    (upload,) = _send(patient_client, case, django_capture_on_commit_callbacks, Part("results.pdf", out.getvalue()))
    assert (upload.status, upload.kind) == (UploadStatus.ACCEPTED, "pdf")
    assert "password" not in _row(patient_client, upload)


def test_a_heic_photo_downloads_with_a_jpeg_name(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    data = heic()
    if data is None:
        pytest.skip("this pillow_heif build cannot encode HEIC")
    (upload,) = _send(patient_client, case, django_capture_on_commit_callbacks, Part("IMG_0042.HEIC", data))
    assert (upload.status, upload.mime) == (UploadStatus.ACCEPTED, "image/jpeg")
    response = patient_client.get(reverse("uploads:download", args=[upload.pk]))
    assert 'filename="IMG_0042.jpg"' in response["Content-Disposition"]
    assert "HEIC" not in response["Content-Disposition"]
