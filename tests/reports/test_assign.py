from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Status
from reports.models import Report
from tests.factories import SpecialistFactory, accepted_upload
from tests.reports.helpers import QUESTION, specialist_with, waiting_case

pytestmark = pytest.mark.django_db
URL = "/console/assign/"


def _assign(client: Client, case: Any, specialist: Any) -> Any:
    return client.post(reverse("reports:assign", args=[case.pk]), {"specialist": str(specialist.pk)})


def test_it_lists_unassigned_cases_with_their_eligible_specialists(admin_client_verified: Client) -> None:
    derm = specialist_with(specialties=["dermatology"])
    onco = specialist_with(specialties=["oncology"])
    mexico = specialist_with(specialties=["dermatology"], jurisdictions=["MX"])
    inactive = specialist_with()
    inactive.is_active = False
    inactive.save()
    later = waiting_case(due_in=timedelta(days=3))
    sooner = waiting_case(specialty="not_sure", due_in=timedelta(hours=2))
    waiting_case(status=Status.IN_REVIEW, specialist=derm)
    waiting_case(consent=False)
    response = admin_client_verified.get(URL)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [c.reference for c, _ in rows] == [sooner.reference, later.reference]
    assert set(rows[0][1]) == {derm, onco}  # "not sure": any specialty licensed in Spain
    assert rows[1][1] == [derm]
    assert mexico not in rows[0][1] and inactive not in rows[0][1]


def test_a_specialist_who_reported_on_the_case_is_not_offered(admin_client_verified: Client) -> None:
    first = specialist_with()
    second = specialist_with()
    case = waiting_case(status=Status.TRIAGE, round=2)
    Report.objects.create(case=case, author=first, signed_at=timezone.now())
    assert admin_client_verified.get(URL).context["rows"][0][1] == [second]


def test_admins_see_no_clinical_text(admin_client_verified: Client) -> None:
    case = waiting_case(reason="SECRET-REASON", first_diagnosis="SECRET-DIAGNOSIS")
    accepted_upload(case, name="secret-name.jpg")
    html = admin_client_verified.get(URL).content.decode()
    assert case.reference in html and "1 photo" in html
    for secret in (QUESTION, "SECRET-REASON", "SECRET-DIAGNOSIS", "secret-name.jpg"):
        assert secret not in html


def test_the_console_links_to_it(admin_client_verified: Client) -> None:
    assert f'href="{URL}"' in admin_client_verified.get(reverse("console:console")).content.decode()


def test_assigning_gives_the_case_to_the_specialist(
    admin_user: Any, admin_client_verified: Client, django_capture_on_commit_callbacks: Any
) -> None:
    specialist = specialist_with()
    case = waiting_case()
    with django_capture_on_commit_callbacks(execute=True):
        response = _assign(admin_client_verified, case, specialist)
    assert response["Location"] == URL
    assert "has been assigned" in admin_client_verified.get(URL).content.decode()
    case.refresh_from_db()
    assert (case.status, case.specialist) == (Status.ASSIGNED, specialist)
    assert case.events.get().actor == admin_user
    assert any(specialist.email in m.to for m in mail.outbox)


def test_a_not_sure_case_can_go_to_any_specialty(admin_client_verified: Client) -> None:
    onco = specialist_with(specialties=["oncology"])
    case = waiting_case(specialty="not_sure")
    _assign(admin_client_verified, case, onco)
    case.refresh_from_db()
    assert case.specialist == onco


def test_a_case_already_taken_gives_a_clear_message(admin_client_verified: Client) -> None:
    case = waiting_case()
    first, second = specialist_with(), specialist_with()
    _assign(admin_client_verified, case, first)
    response = _assign(admin_client_verified, case, second)
    assert "no longer waiting" in admin_client_verified.get(response["Location"]).content.decode()
    case.refresh_from_db()
    assert case.specialist == first


def test_an_ineligible_specialist_gives_a_clear_message(admin_client_verified: Client) -> None:
    case = waiting_case()
    response = _assign(admin_client_verified, case, specialist_with(jurisdictions=["MX"]))
    assert "cannot take case" in admin_client_verified.get(response["Location"]).content.decode()
    case.refresh_from_db()
    assert case.specialist is None


def test_a_missing_or_unknown_specialist_is_refused(admin_client_verified: Client, patient_a: Any) -> None:
    case = waiting_case()
    for data in ({}, {"specialist": str(patient_a.pk)}, {"specialist": "nonsense"}):
        response = admin_client_verified.post(reverse("reports:assign", args=[case.pk]), data)
        assert response.status_code == 302
    case.refresh_from_db()
    assert case.specialist is None


def test_the_number_of_queries_does_not_grow_with_the_cases(admin_client_verified: Client) -> None:
    def add(n: int) -> None:
        for _ in range(n):
            accepted_upload(waiting_case())
        SpecialistFactory()

    def count() -> int:
        admin_client_verified.get(URL)  # the session's last-activity stamp is written here, if at all
        with CaptureQueriesContext(connection) as ctx:
            admin_client_verified.get(URL)
        return len(ctx.captured_queries)

    add(5)
    few = count()
    add(45)
    assert count() == few


def test_specialists_and_patients_get_a_404(specialist_client: Client, patient_client: Client) -> None:
    case = waiting_case()
    for client in (specialist_client, patient_client):
        assert client.get(URL).status_code == 404
        assert _assign(client, case, specialist_with()).status_code == 404
    case.refresh_from_db()
    assert case.specialist is None
