from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.console.review_helpers import break_glass, denial, read, reviewed_case, staff
from tests.factories import AdminFactory, PatientFactory, SpecialistFactory, login

pytestmark = pytest.mark.django_db


def test_the_patient_sees_which_staff_opened_their_case() -> None:
    case = reviewed_case()
    admin = staff(AdminFactory, full_name="Ada Admin")
    read(case, case.specialist)
    read(case, case.specialist, "report_document.download")
    break_glass(case, admin)
    denial(case, staff(SpecialistFactory, full_name="Dr Curious"))
    read(reviewed_case(patient=PatientFactory()), staff(SpecialistFactory, full_name="Dr Elsewhere"))
    client = login(Client(), case.patient)

    response = client.get(reverse("cases:access_log", args=[case.pk]))

    assert response.status_code == 200
    rows = [(r["role"], r["name"], str(r["what"]), r["refused"]) for r in response.context["page_obj"]]
    assert rows == [
        ("Specialist", "Dr Curious", "Tried to open your case", True),
        ("Administrator", "Ada Admin", "Emergency access by an administrator", False),
        ("Specialist", "Dr Ana Ruiz", "Downloaded your report", False),
        ("Specialist", "Dr Ana Ruiz", "Opened your case", False),
    ]
    page = response.content.decode()
    assert "Access refused" in page and "Dr Elsewhere" not in page
    assert str(case.specialist_id) not in page and str(admin.pk) not in page  # no internal ids


def test_the_patients_own_visits_are_not_listed_and_unknown_events_get_a_plain_label() -> None:
    case = reviewed_case()
    client = login(Client(), case.patient)
    client.get(reverse("cases:detail", args=[case.pk]))  # the patient's own read
    read(case, case.specialist, "report.something_new")

    rows = list(client.get(reverse("cases:access_log", args=[case.pk])).context["page_obj"])

    assert [str(r["what"]) for r in rows] == ["Worked on your case"]


def test_times_follow_the_patients_language() -> None:
    case = reviewed_case(patient=PatientFactory(language="es"))
    with time_machine.travel("2025-01-10 09:00Z", tick=False):
        read(case, case.specialist)
    client = login(Client(), case.patient)

    page = client.get(reverse("cases:access_log", args=[case.pk])).content.decode()

    assert '<html lang="es">' in page
    assert "enero" in page and "January" not in page


def test_the_case_page_links_to_the_access_log_for_the_patient_only() -> None:
    case = reviewed_case()
    link = reverse("cases:access_log", args=[case.pk])

    assert link in login(Client(), case.patient).get(reverse("cases:detail", args=[case.pk])).content.decode()
    specialist_page = login(Client(), case.specialist).get(reverse("cases:detail", args=[case.pk]))
    assert specialist_page.status_code == 200 and link not in specialist_page.content.decode()


def test_another_patient_gets_the_same_404_as_for_a_missing_case() -> None:
    case = reviewed_case()
    read(case, case.specialist)
    client = login(Client(), PatientFactory())

    theirs = client.get(reverse("cases:access_log", args=[case.pk]))
    missing = client.get(reverse("cases:access_log", args=["00000000-0000-4000-8000-000000000000"]))

    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content
