from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import ConsentVersion, Consultation, Status
from reports.models import Report
from tests.factories import SpecialistFactory, accepted_upload, login
from tests.reports.helpers import QUESTION, specialist_with, waiting_case
from uploads.models import Upload

pytestmark = pytest.mark.django_db
URL = "/specialist/queue/"


def _refs(response: Any) -> list[str]:
    return [c.reference for c in response.context["page_obj"]]


def test_it_lists_the_specialists_claimable_cases_most_urgent_first(specialist_client: Client) -> None:
    later = waiting_case(due_in=timedelta(hours=60))
    sooner = waiting_case(due_in=timedelta(hours=30), status=Status.TRIAGE)
    response = specialist_client.get(URL)
    assert response.status_code == 200
    assert _refs(response) == [sooner.reference, later.reference]


def test_it_leaves_out_cases_the_specialist_cannot_take(specialist: Any, specialist_client: Client) -> None:
    waiting_case(specialty="cardiology")
    waiting_case(country="MX")
    waiting_case(specialty="not_sure")
    waiting_case(consent=False)
    waiting_case(status=Status.DRAFT)
    waiting_case(status=Status.ASSIGNED, specialist=SpecialistFactory())
    reported = waiting_case(status=Status.TRIAGE, round=2)
    Report.objects.create(case=reported, author=specialist, signed_at=timezone.now())
    ok = waiting_case()
    assert _refs(specialist_client.get(URL)) == [ok.reference]


def test_a_case_whose_consent_is_outdated_or_withdrawn_is_not_listed(specialist_client: Client) -> None:
    withdrawn = waiting_case()
    withdrawn.consents.update(withdrawn_at=timezone.now())
    outdated = waiting_case()
    assert _refs(specialist_client.get(URL)) == [outdated.reference]
    ConsentVersion.objects.create(version=2, text_en="new", text_es="nuevo")
    assert _refs(specialist_client.get(URL)) == []


def test_it_marks_overdue_and_at_risk_cases(specialist_client: Client) -> None:
    waiting_case(due_in=timedelta(hours=-1))
    waiting_case(due_in=timedelta(hours=5))
    waiting_case(due_in=timedelta(hours=50))
    html = specialist_client.get(URL).content.decode()
    assert html.count('class="tag tag--overdue"') == 1
    assert html.count('class="tag tag--at-risk"') == 1


def test_a_row_shows_the_first_question_and_file_counts_and_no_other_clinical_content(
    specialist_client: Client,
) -> None:
    case = waiting_case(question="Q" * 300, reason="SECRET-REASON", first_diagnosis="SECRET-DIAGNOSIS")
    case.questions.create(position=5, text="SECOND-QUESTION")
    accepted_upload(case)
    accepted_upload(case, name="second.jpg")
    pdf = accepted_upload(case, name="report.pdf")
    Upload.objects.filter(pk=pdf.pk).update(kind="pdf")
    Upload.objects.filter(pk=accepted_upload(case, name="rejected.jpg").pk).update(status="rejected")
    html = specialist_client.get(URL).content.decode()
    assert "Q" * 119 + "…" in html and "Q" * 121 not in html
    assert "2 photos" in html and "1 PDF" in html and "DICOM" not in html
    for secret in ("SECRET-REASON", "SECRET-DIAGNOSIS", "SECOND-QUESTION", "second.jpg", "report.pdf"):
        assert secret not in html


def test_it_filters_by_specialty_status_and_due_time_without_javascript(settings: Any) -> None:
    user = specialist_with(specialties=["dermatology", "oncology"])
    client = login(Client(), user)
    derm = waiting_case(due_in=timedelta(days=3))
    onco = waiting_case(specialty="oncology", due_in=timedelta(days=10), status=Status.TRIAGE)
    overdue = waiting_case(due_in=timedelta(hours=-2))
    assert set(_refs(client.get(URL))) == {derm.reference, onco.reference, overdue.reference}
    assert _refs(client.get(URL, {"specialty": "oncology"})) == [onco.reference]
    assert _refs(client.get(URL, {"status": "triage"})) == [onco.reference]
    assert _refs(client.get(URL, {"due": "overdue"})) == [overdue.reference]
    assert _refs(client.get(URL, {"due": "today"})) == [overdue.reference]
    assert _refs(client.get(URL, {"due": "week"})) == [overdue.reference, derm.reference]
    assert _refs(client.get(URL, {"specialty": "dermatology", "due": "week"})) == [overdue.reference, derm.reference]
    # Only the specialist's own specialties are offered.
    response = client.get(URL, {"specialty": "cardiology"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_it_paginates_and_keeps_the_filters_in_the_page_links(specialist_client: Client) -> None:
    for _ in range(52):
        waiting_case(question="")
    first = specialist_client.get(URL, {"due": "week"})
    assert len(first.context["page_obj"]) == 50
    assert 'href="?due=week&amp;page=2"' in first.content.decode()
    assert len(specialist_client.get(URL, {"due": "week", "page": 2}).context["page_obj"]) == 2


def _queries(client: Client, url: str) -> int:
    client.get(url)  # the session's last-activity stamp is written at most once a minute, here
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_cases(specialist: Any, specialist_client: Client) -> None:
    def add(n: int) -> None:
        for _ in range(n):
            case = waiting_case()
            accepted_upload(case)
        waiting_case(status=Status.IN_REVIEW, specialist=specialist)
        lead = SpecialistFactory()
        Consultation.objects.create(
            case=waiting_case(status=Status.IN_REVIEW, specialist=lead), colleague=specialist, invited_by=lead
        )

    add(5)
    few = _queries(specialist_client, URL)
    add(45)
    assert _queries(specialist_client, URL) == few


def test_my_cases_lists_led_and_consulted_open_cases(specialist: Any, specialist_client: Client) -> None:
    led = waiting_case(status=Status.IN_REVIEW, specialist=specialist)
    waiting_case(status=Status.CLOSED, specialist=specialist)
    waiting_case(status=Status.WITHDRAWN, specialist=specialist)
    other = SpecialistFactory()
    consulted = waiting_case(status=Status.IN_REVIEW, specialist=other)
    Consultation.objects.create(case=consulted, colleague=specialist, invited_by=other)
    waiting_case(status=Status.IN_REVIEW, specialist=other)
    for url in (URL, reverse("reports:specialist_home")):
        response = specialist_client.get(url)
        assert {c.reference for c in response.context["my_cases"]} == {led.reference, consulted.reference}
        html = response.content.decode()
        assert reverse("reports:workspace", args=[led.pk]) in html
        assert reverse("reports:workspace", args=[consulted.pk]) in html


def test_the_specialist_home_counts_the_queue_and_links_to_it(specialist_client: Client) -> None:
    waiting_case()
    waiting_case()
    html = specialist_client.get(reverse("reports:specialist_home")).content.decode()
    assert "2 cases are waiting in your queue." in html
    assert f'href="{URL}"' in html


def test_each_view_of_the_queue_is_audited_with_the_cases_shown(specialist: Any, specialist_client: Client) -> None:
    case = waiting_case()
    specialist_client.get(URL)
    event = AuditEvent.objects.filter(actor=specialist, event_type="queue.read").get()
    assert event.detail == {"cases": [str(case.pk)]}
    assert QUESTION not in str(event.detail)


@pytest.mark.parametrize("client_fixture", ["patient_client", "admin_client_verified"])
def test_other_roles_get_a_404(client_fixture: str, request: Any) -> None:
    assert request.getfixturevalue(client_fixture).get(URL).status_code == 404
