"""The review workspace: who sees it, what it shows, requests for information, the photo and
DICOM viewers and the image endpoints behind them."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from accounts.models import User
from audit.models import AuditEvent
from cases.models import Case, Consultation, Measurement, Message, MessageKind, Question, Status, TimelineEntry
from reports.models import Report
from tests.factories import CaseFactory, SpecialistFactory, add_totp, login
from tests.reports.samples import dicom_sample, photo_sample, rejected_upload, sanitized_upload
from uploads.models import Upload

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def case(patient_a: User, specialist: User) -> Case:
    now = timezone.now()
    case = CaseFactory(
        patient=patient_a,
        specialist=specialist,
        status=Status.IN_REVIEW,
        submitted_at=now,
        due_at=now + timedelta(hours=72),
    )
    Question.objects.create(case=case, position=0, text="Is surgery really needed?")
    Question.objects.create(case=case, position=1, text="Are there other treatments?")
    return case


@pytest.fixture
def photo(case: Case) -> Upload:
    return sanitized_upload(case, photo_sample(), "arm.jpg")


@pytest.fixture
def ct(case: Case) -> Upload:
    return sanitized_upload(case, dicom_sample("CT_small.dcm"), "ct.dcm")


def _staff(db: Any) -> tuple[User, Client]:
    user = SpecialistFactory()
    add_totp(user)
    return user, login(Client(), user)


@pytest.fixture
def colleague(case: Case, specialist: User) -> tuple[User, Client]:
    user, client = _staff(None)
    Consultation.objects.create(case=case, colleague=user, invited_by=specialist)
    return user, client


@pytest.fixture
def earlier_author(case: Case) -> tuple[User, Client]:
    user, client = _staff(None)
    Report.objects.create(case=case, round=1, author=user, signed_at=timezone.now())
    return user, client


def _workspace(case: Case) -> str:
    return f"/specialist/cases/{case.pk}/"


# -- who sees what -----------------------------------------------------------------------------


def test_the_lead_sees_the_whole_case_with_forms_to_message_and_request(specialist_client: Client, case: Case) -> None:
    TimelineEntry.objects.create(case=case, year=2024, month=3, what="Biopsy")
    response = specialist_client.get(_workspace(case))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Is surgery really needed?",
        "Are there other treatments?",
        "Biopsy",
        "In review",
        'href="#files"',
        'href="#report"',
        "Write the report",
    ):
        assert text in html
    assert f'action="/specialist/cases/{case.pk}/messages/"' in html
    assert f'action="/specialist/cases/{case.pk}/request-information/"' in html


@pytest.mark.parametrize("who", ["colleague", "earlier_author"])
def test_colleagues_and_earlier_authors_read_without_writing(who: str, case: Case, request: Any) -> None:
    user, client = request.getfixturevalue(who)
    response = client.get(_workspace(case))
    assert response.status_code == 200
    assert "Is surgery really needed?" in response.content.decode()
    assert "request-information" not in response.content.decode()
    for url in ("request-information/", "messages/"):
        assert client.post(_workspace(case) + url, {"request-body": "x", "message-body": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    assert not case.messages.exists()


def test_a_specialist_with_no_part_in_the_case_gets_404(case: Case) -> None:
    _, stranger = _staff(None)
    assert stranger.get(_workspace(case)).status_code == 404


def test_the_patient_cannot_open_the_workspace(patient_client: Client, case: Case) -> None:
    assert patient_client.get(_workspace(case)).status_code == 404


def test_patient_text_is_escaped(specialist_client: Client, case: Case, patient_a: User, photo: Upload) -> None:
    Question.objects.create(case=case, position=2, text=SCRIPT)
    case.reason = SCRIPT
    case.save(update_fields=["reason"])
    Message.objects.create(case=case, author=patient_a, body=SCRIPT)
    Measurement.objects.create(
        case=case, site=SCRIPT, value_mm=Decimal("12"), method="ruler", measured_on=date(2024, 1, 1)
    )
    Measurement.objects.create(
        case=case, site=SCRIPT, value_mm=Decimal("14"), method="ruler", measured_on=date(2024, 2, 1)
    )
    rejected_upload(case, f"{SCRIPT}.exe")
    photo.original_name = f'"><img src=x onerror=alert(1)>{SCRIPT}.jpg'
    photo.save(update_fields=["original_name"])
    html = specialist_client.get(_workspace(case)).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert html.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") >= 5


# -- files ---------------------------------------------------------------------------------------


def test_files_are_grouped_by_kind_and_dicom_by_series(specialist_client: Client, case: Case, photo: Upload) -> None:
    sanitized_upload(case, _pdf(), "labs.pdf")
    series_uid = "1.2.826.0.1.3680043.8.498.1"
    for number in (2, 1):
        sanitized_upload(case, dicom_sample("CT_small.dcm", instance=number, series_uid=series_uid), f"ct{number}.dcm")
    sanitized_upload(case, dicom_sample("MR_small.dcm"), "mr.dcm")
    rejected_upload(case, "virus.exe")
    html = specialist_client.get(_workspace(case)).content.decode()
    assert f"/specialist/cases/{case.pk}/photos/{photo.pk}/" in html
    assert "labs.pdf" in html and ">1</td>" in html  # one page
    assert "Series 1: CT" in html and "Series 2: MR" in html
    assert "2 files" in html
    assert "virus.exe" in html and "This file is not a photo, PDF or DICOM file that we can open." in html


def test_the_workspace_query_count_does_not_grow_with_the_case(
    specialist_client: Client, case: Case, patient_a: User
) -> None:
    def add(n: int) -> None:
        for i in range(n):
            sanitized_upload(case, photo_sample(32, 24), f"p{i}.jpg") if i % 3 == 0 else rejected_upload(case, f"r{i}")
            Measurement.objects.create(
                case=case,
                site=f"site {i % 2}",
                value_mm=Decimal(10 + i),
                method="ruler",
                measured_on=date(2024, 1, 1) + timedelta(days=i),
            )
            Message.objects.create(case=case, author=patient_a, body=f"message {i}")
            TimelineEntry.objects.create(case=case, year=2020, what=f"event {i}")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert specialist_client.get(_workspace(case)).status_code == 200
        return len(queries)

    add(3)
    few = count()
    add(27)
    assert count() == few


# -- messages and requests for information --------------------------------------------------------


def test_a_request_for_information_waits_for_the_patient_and_pauses_the_clock(
    specialist_client: Client, case: Case, specialist: User
) -> None:
    response = specialist_client.post(
        _workspace(case) + "request-information/", {"request-body": "Please send a photo in daylight."}
    )
    assert response.status_code == 302
    assert response["Location"] == _workspace(case) + "#messages"
    case.refresh_from_db()
    assert case.status == Status.AWAITING_PATIENT
    assert case.sla_paused_at is not None
    message = Message.objects.get(case=case)
    assert (message.kind, message.author, message.body) == (
        MessageKind.REQUEST,
        specialist,
        "Please send a photo in daylight.",
    )
    page = specialist_client.get(_workspace(case)).content.decode()
    assert "paused since" in page
    assert "Send request and wait for the patient" not in page  # not again while waiting


def test_a_request_needs_the_case_in_review(specialist_client: Client, case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(status=Status.ASSIGNED)
    response = specialist_client.post(
        _workspace(case) + "request-information/", {"request-body": "More please"}, follow=True
    )
    assert "only be sent while the case is in review" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.ASSIGNED
    assert not case.messages.exists()


def test_an_empty_request_shows_the_error_on_the_workspace(specialist_client: Client, case: Case) -> None:
    response = specialist_client.post(_workspace(case) + "request-information/", {"request-body": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Write what you need from the patient." in html
    assert 'href="#id_request-body"' in html
    assert "<title>Error:" in html
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW


def test_the_lead_sends_a_message_without_moving_the_case(specialist_client: Client, case: Case) -> None:
    response = specialist_client.post(_workspace(case) + "messages/", {"message-body": "I have started."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    assert Message.objects.get(case=case).kind == MessageKind.MESSAGE


def test_message_views_refuse_get(specialist_client: Client, case: Case) -> None:
    assert specialist_client.get(_workspace(case) + "messages/").status_code == 405
    assert specialist_client.get(_workspace(case) + "request-information/").status_code == 405


# -- the photo viewer, side by side and the image endpoint ---------------------------------------


def test_the_photo_viewer_offers_sizes_that_work_without_javascript(
    specialist_client: Client, case: Case, photo: Upload
) -> None:
    url = f"/specialist/cases/{case.pk}/photos/{photo.pk}/"
    html = specialist_client.get(url).content.decode()
    assert f'src="/files/{photo.pk}/image/"' in html
    assert 'class="zoom-fit"' in html
    for zoom in ("fit", "50", "100", "200"):
        assert f'href="?zoom={zoom}"' in html
    zoomed = specialist_client.get(url + "?zoom=200").content.decode()
    assert 'width="1280" height="960"' in zoomed
    assert "js/viewer.js" in zoomed and "nonce=" in zoomed


def test_the_photo_viewer_needs_a_photo_of_that_case(
    specialist_client: Client, case: Case, photo: Upload, ct: Upload, patient_a: User, specialist: User
) -> None:
    other = CaseFactory(patient=patient_a, specialist=specialist, status=Status.IN_REVIEW)
    assert specialist_client.get(f"/specialist/cases/{other.pk}/photos/{photo.pk}/").status_code == 404
    assert specialist_client.get(f"/specialist/cases/{case.pk}/photos/{ct.pk}/").status_code == 404


def test_images_are_served_inline_with_safe_headers(specialist_client: Client, photo: Upload) -> None:
    response = specialist_client.get(f"/files/{photo.pk}/image/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == "inline"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == "no-store, private"  # private: added for signed-in users
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    assert (image.format, image.size) == ("JPEG", (640, 480))
    assert AuditEvent.objects.filter(event_type="upload.read", entity_id=str(photo.pk)).exists()


def test_only_photos_are_served_inline(specialist_client: Client, ct: Upload, case: Case) -> None:
    pdf = sanitized_upload(case, _pdf(), "labs.pdf")
    assert specialist_client.get(f"/files/{ct.pk}/image/").status_code == 404
    assert specialist_client.get(f"/files/{pdf.pk}/image/").status_code == 404


def test_images_of_other_cases_are_missing(photo: Upload) -> None:
    _, stranger = _staff(None)
    assert stranger.get(f"/files/{photo.pk}/image/").status_code == 404


def test_side_by_side_shows_both_photos_with_their_dates(specialist_client: Client, case: Case, photo: Upload) -> None:
    second = sanitized_upload(case, photo_sample(colour=(90, 120, 200)), "arm-later.jpg")
    url = f"/specialist/cases/{case.pk}/photos/compare/"
    html = specialist_client.get(url, {"a": photo.pk, "b": second.pk}).content.decode()
    assert f'src="/files/{photo.pk}/image/"' in html and f'src="/files/{second.pk}/image/"' in html
    assert html.count("Sent ") >= 2
    assert "<select" in html
    start = specialist_client.get(url, {"a": second.pk}).content.decode()  # from the second photo's page
    assert "There is a problem" not in start and 'data-testid="compare"' not in start
    assert f'<option value="{second.pk}" selected>' in start and f'<option value="{photo.pk}" selected>' in start
    same = specialist_client.get(url, {"a": photo.pk, "b": photo.pk}).content.decode()
    assert "Choose a different photo" in same and 'data-testid="compare"' not in same
    foreign = sanitized_upload(CaseFactory(), photo_sample(), "theirs.jpg")
    refused = specialist_client.get(url, {"a": photo.pk, "b": foreign.pk}).content.decode()
    assert "Choose the second photo." in refused and f"/files/{foreign.pk}/" not in refused


# -- DICOM: the frame stepper and the frame endpoint -----------------------------------------------


@pytest.fixture
def series(case: Case) -> list[Upload]:
    """A series of two CT files and a 15-frame RT dose file in the same series: 17 images."""
    uid = "1.2.826.0.1.3680043.8.498.2"
    return [
        sanitized_upload(case, dicom_sample("CT_small.dcm", instance=1, series_uid=uid), "ct1.dcm"),
        sanitized_upload(case, dicom_sample("CT_small.dcm", instance=2, series_uid=uid), "ct2.dcm"),
        sanitized_upload(case, dicom_sample("rtdose.dcm", instance=3, series_uid=uid), "dose.dcm"),
    ]


def test_the_frame_stepper_walks_every_image_of_the_series(
    specialist_client: Client, case: Case, series: list[Upload]
) -> None:
    url = f"/specialist/cases/{case.pk}/imaging/{series[1].pk}/"
    first = specialist_client.get(url).content.decode()
    assert "Image 1 of 17" in first
    assert 'rel="prev"' not in first and 'href="?n=2"' in first
    assert f'src="/files/{series[0].pk}/frames/0/"' in first
    third = specialist_client.get(url, {"n": 3}).content.decode()
    assert f'src="/files/{series[2].pk}/frames/0/"' in third and "frame 1 of 15" in third
    last = specialist_client.get(url, {"n": 17}).content.decode()
    assert "Image 17 of 17" in last and f'src="/files/{series[2].pk}/frames/14/"' in last
    assert 'rel="next"' not in last and 'href="?n=16"' in last


@pytest.mark.parametrize("n", ["0", "18", "-1", "x", "1e9"])
def test_the_frame_stepper_refuses_positions_outside_the_series(
    specialist_client: Client, case: Case, series: list[Upload], n: str
) -> None:
    assert specialist_client.get(f"/specialist/cases/{case.pk}/imaging/{series[0].pk}/", {"n": n}).status_code == 404


def test_frames_are_rendered_as_png_with_safe_headers(specialist_client: Client, series: list[Upload]) -> None:
    response = specialist_client.get(f"/files/{series[2].pk}/frames/14/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    for header, value in (
        ("Content-Disposition", "inline"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "sandbox; default-src 'none'"),
        ("Cache-Control", "no-store, private"),
    ):
        assert response[header] == value
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size, image.mode) == ("PNG", (10, 10), "L")
    ct = Image.open(io.BytesIO(specialist_client.get(f"/files/{series[0].pk}/frames/0/").content))
    assert ct.size == (128, 128) and ct.getextrema()[1] > 0  # not a black square
    assert specialist_client.get(f"/files/{series[2].pk}/frames/15/").status_code == 404
    assert specialist_client.get(f"/files/{series[0].pk}/frames/1/").status_code == 404


def test_frames_of_other_cases_and_of_photos_are_missing(
    series: list[Upload], photo: Upload, specialist_client: Client
) -> None:
    _, stranger = _staff(None)
    assert stranger.get(f"/files/{series[0].pk}/frames/0/").status_code == 404
    assert specialist_client.get(f"/files/{photo.pk}/frames/0/").status_code == 404


def test_the_measurement_chart_is_an_image_beside_its_table(specialist_client: Client, case: Case) -> None:
    for day, mm in ((1, "12.5"), (40, "14"), (80, "15.5")):
        Measurement.objects.create(
            case=case,
            site="Left forearm",
            value_mm=Decimal(mm),
            unit="cm",
            method="ruler",
            measured_on=date(2024, 1, 1) + timedelta(days=day),
        )
    html = specialist_client.get(_workspace(case)).content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    assert "Chart of the size of Left forearm over time" in html
    assert "1.25 cm" in html and "Measurements of Left forearm" in html


def _pdf() -> bytes:
    import pikepdf

    document = pikepdf.new()
    document.add_blank_page()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
