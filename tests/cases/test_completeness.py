from __future__ import annotations

from unittest.mock import patch

import pytest
from django.test import Client

from accounts.models import User
from cases.models import Case, Status, TimelineEntry
from cases.services import completeness_warnings, submission_problems
from tests.cases.helpers import ready_case

pytestmark = pytest.mark.usefixtures("consent_version", "every_specialty_in_spain")

NO_DICOM = "You have not added any imaging (DICOM). A radiologist needs the images themselves."
NO_PHOTO = "You have not added a photo. A dermatologist needs clear photos of the skin."
NO_REPORT = "You have not added any report or imaging. An oncologist needs the pathology and imaging reports."
NO_TIMELINE = "You have not added any events to the timeline."


def _case_with_timeline(patient: User, specialty: str) -> Case:
    case = ready_case(patient, specialty=specialty)
    TimelineEntry.objects.create(case=case, year=2024, what="First symptoms")
    return case


@pytest.mark.parametrize(
    ("specialty", "warning"),
    [("radiology", NO_DICOM), ("dermatology", NO_PHOTO), ("oncology", NO_REPORT)],
)
def test_a_missing_kind_of_file_is_a_warning_that_does_not_block(
    specialty: str, warning: str, patient_client: Client, patient_a: User
) -> None:
    case = _case_with_timeline(patient_a, specialty)

    page = patient_client.get(f"/cases/{case.pk}/check/").content.decode()

    assert warning in page
    assert "The specialist may need more" in page
    assert "Send my case" in page
    assert submission_problems(case) == []
    response = patient_client.post(f"/cases/{case.pk}/submit/")
    assert response["Location"] == f"/cases/{case.pk}/submitted/"
    assert Case.objects.get(pk=case.pk).status == Status.SUBMITTED


def test_an_empty_timeline_is_a_warning(patient_a: User) -> None:
    case = ready_case(patient_a, specialty="cardiology")
    assert completeness_warnings(case) == [NO_TIMELINE]
    assert submission_problems(case) == []


def test_a_complete_case_has_no_warnings(patient_client: Client, patient_a: User) -> None:
    case = _case_with_timeline(patient_a, "cardiology")
    assert completeness_warnings(case) == []
    assert "The specialist may need more" not in patient_client.get(f"/cases/{case.pk}/check/").content.decode()


@pytest.mark.parametrize(
    ("specialty", "kinds", "warning"),
    [("radiology", {"dicom"}, NO_DICOM), ("dermatology", {"image"}, NO_PHOTO), ("oncology", {"pdf"}, NO_REPORT)],
)
def test_the_warning_goes_once_the_file_is_there(
    specialty: str, kinds: set[str], warning: str, patient_a: User
) -> None:
    case = _case_with_timeline(patient_a, specialty)
    with patch("uploads.services.accepted_kinds", autospec=True, return_value=kinds):
        assert warning not in completeness_warnings(case)


@pytest.mark.parametrize("kinds", [{"pdf"}, {"image"}])
def test_a_radiologist_still_wants_the_images_themselves(kinds: set[str], patient_a: User) -> None:
    case = _case_with_timeline(patient_a, "radiology")
    with patch("uploads.services.accepted_kinds", autospec=True, return_value=kinds):
        assert NO_DICOM in completeness_warnings(case)


def test_the_warnings_link_to_the_files_page(patient_client: Client, patient_a: User) -> None:
    case = _case_with_timeline(patient_a, "radiology")
    page = patient_client.get(f"/cases/{case.pk}/check/").content.decode()
    assert f'href="/cases/{case.pk}/intake/files/?from=check"' in page
