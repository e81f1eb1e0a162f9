"""The case's file list shows the DICOM files of one series (same SeriesInstanceUID, read by the
sanitiser) as one row: modality, number of images, a sample image, and the files themselves
behind a <details> that opens without JavaScript. Files from pydicom's test data: a CD folder
(dicomdirtests/98892003/MR2) whose images 4950, 4981 and 5011 are one MR series and 15970 is
another, and CT_small.dcm."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from django.test import Client
from django.urls import reverse
from pydicom.data import get_testdata_file

from cases.models import Case
from tests.uploads.pipeline.samples import Part, dicom, jpeg_part, post_files
from uploads.models import Upload, UploadStatus

MR2 = Path(str(get_testdata_file("DICOMDIR"))).parent / "98892003" / "MR2"
SERIES = ["4981", "4950", "5011"]  # instance numbers 3, 1, 2: sent (and listed) out of order


def _send_cd(client: Client, case: Case, capture: Any) -> dict[str, Upload]:
    parts = [Part(name, (MR2 / name).read_bytes(), "application/dicom") for name in [*SERIES, "15970"]]
    parts += [Part("CT_small.dcm", dicom(), "application/dicom"), jpeg_part("arm.jpg")]
    with capture(execute=True):
        assert post_files(client, case, parts).status_code == 302
    uploads = {u.original_name: u for u in Upload.objects.filter(case=case)}
    assert {u.status for u in uploads.values()} == {UploadStatus.ACCEPTED}
    return uploads


def _page(client: Client, case: Case) -> str:
    response = client.get(reverse("uploads:files", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _rows(page: str) -> list[str]:
    return re.findall(r"<tr data-(?:upload|series)=.*?</tr>", page, re.DOTALL)


def test_the_images_of_one_series_are_one_row_with_the_files_inside(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    uploads = _send_cd(patient_client, case, django_capture_on_commit_callbacks)
    series_uid = uploads["4950"].info["series_uid"]
    assert (
        {uploads[name].info["series_uid"] for name in SERIES} == {series_uid} != {uploads["15970"].info["series_uid"]}
    )

    rows = _rows(_page(patient_client, case))

    # Three images of one series in one row; the other series (one image), the CT and the photo alone.
    assert len(rows) == 4
    series = [row for row in rows if f'data-series="{series_uid}"' in row]
    assert len(series) == 1
    row = series[0]
    assert re.search(r"<details[^>]*>\s*<summary>MR series: 3 images</summary>", row)
    assert "Imaging (DICOM)" in row and "Accepted" in row
    # The files, in the order of their instance numbers, each with its link, status and SHA-256.
    assert re.findall(r'<li data-upload="([^"]+)"', row) == [str(uploads[n].pk) for n in ("4950", "5011", "4981")]
    for name in SERIES:
        assert f'href="{reverse("uploads:download", args=[uploads[name].pk])}">{name}</a>' in row
        assert f'data-sha256="{hashlib.sha256((MR2 / name).read_bytes()).hexdigest()}"' in row
    # The sample image is the middle one (instance 2).
    assert f'href="{reverse("uploads:thumbnail", args=[uploads["5011"].pk])}"' in row
    for name in ("15970", "CT_small.dcm", "arm.jpg"):
        assert sum(f'<tr data-upload="{uploads[name].pk}"' in r for r in rows) == 1, name


def test_the_sample_image_of_a_series_downloads_as_a_jpeg(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    uploads = _send_cd(patient_client, case, django_capture_on_commit_callbacks)
    page = _page(patient_client, case)
    link = re.search(r'<a href="([^"]+)">Sample image of the series \(JPEG\)</a>', page)
    assert link

    response = patient_client.get(link.group(1))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"
    assert link.group(1) == reverse("uploads:thumbnail", args=[uploads["5011"].pk])


def test_files_of_a_series_still_being_checked_have_rows_of_their_own(
    patient_client: Client, case: Case, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    uploads = _send_cd(patient_client, case, django_capture_on_commit_callbacks)
    Upload.objects.filter(pk=uploads["4981"].pk).update(status=UploadStatus.SCANNING)

    rows = _rows(_page(patient_client, case))

    assert len(rows) == 5
    series = next(row for row in rows if "data-series=" in row)
    assert "MR series: 2 images" in series
    assert sum(f'<tr data-upload="{uploads["4981"].pk}"' in r for r in rows) == 1


def test_the_specialist_sees_the_series_on_the_case_page(
    patient_client: Client,
    specialist: Any,
    specialist_client: Client,
    case: Case,
    bucket: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _send_cd(patient_client, case, django_capture_on_commit_callbacks)
    Case.objects.filter(pk=case.pk).update(specialist=specialist, status="in_review")

    response = specialist_client.get(reverse("cases:detail", args=[case.pk]))

    assert response.status_code == 200
    assert re.search(r"<summary>MR series: 3 images</summary>", response.content.decode())
