from __future__ import annotations

import re
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from audit import AuditEvent
from console.events import EVENT_LABELS
from tests.console.review_helpers import admin_client, read, reviewed_case
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = reverse("console:search")


def test_it_finds_the_events_of_a_case_by_its_reference_newest_first() -> None:
    case, other = reviewed_case(), reviewed_case()
    first, second = read(case, case.specialist), read(case, case.specialist, "upload.download")
    read(other, other.specialist)
    client, _admin = admin_client()

    response = client.get(URL, {"case": case.reference})

    assert response.status_code == 200
    rows = [e.id for e, _ref in response.context["rows"]]
    assert rows == [second.id, first.id]
    page = response.content.decode()
    assert "Dr Ana Ruiz (specialist)" in page and "File downloaded" in page and case.reference in page
    assert other.reference not in page


def test_each_search_is_audited_with_ids_and_codes_only() -> None:
    case = reviewed_case()
    read(case, case.specialist)
    client, admin = admin_client()

    response = client.get(URL, {"patient": case.patient.email, "action": "R"})

    # The typed e-mail address gives way to the patient's id before anything is shown or audited.
    assert response.status_code == 302
    assert case.patient.email not in response["Location"] and str(case.patient_id) in response["Location"]
    assert not AuditEvent.objects.filter(event_type="audit.search").exists()
    client.get(response["Location"])
    event = AuditEvent.objects.get(event_type="audit.search")
    assert event.actor_id == admin.pk
    assert event.detail == {"filters": {"patient": str(case.patient_id), "action": "R"}, "page": 1}


def test_the_export_links_carry_the_same_filters() -> None:
    case = reviewed_case()
    read(case, case.specialist)
    client, _admin = admin_client()

    page = client.get(URL, {"case": case.reference, "outcome": "0"}).content.decode()

    assert f"{reverse('console:export_csv')}?case={case.reference}&amp;outcome=0" in page
    assert f"{reverse('console:export_fhir')}?case={case.reference}&amp;outcome=0" in page


def test_it_filters_by_user_outcome_event_type_and_dates() -> None:
    case = reviewed_case()
    with time_machine.travel("2025-01-10 12:00Z"):
        read(case, case.specialist)
    with time_machine.travel("2025-01-20 12:00Z"):
        wanted = read(case, case.specialist)
        read(case, PatientFactory(), "case.read.denied", outcome="4")
    client, _admin = admin_client()

    response = client.get(
        URL,
        {
            "user": str(case.specialist_id),
            "event_type": "case.read",
            "outcome": "0",
            "date_from": "2025-01-15",
            "date_to": "2025-01-20",
        },
    )
    assert [e.id for e, _ref in response.context["rows"]] == [wanted.id]

    failures = client.get(URL, {"outcome": "failure", "date_to": "2025-01-31"})
    assert [e.event_type for e, _ref in failures.context["rows"]] == ["case.read.denied"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"patient": "nobody@example.org"}, "No patient has this e-mail address or case reference."),
        ({"patient": "SO-0000-0000"}, "No patient has this e-mail address or case reference."),
        ({"case": "SO-0000-0000"}, "No case has this reference."),
        ({"user": "nobody@example.org"}, "No user has this e-mail address."),
        (
            {"date_from": "2025-02-01", "date_to": "2025-01-01"},
            "The end date must be the same as or after the start date.",
        ),
        ({"date_from": "31/01/2025"}, "Enter the start date as year-month-day, like 2025-01-31."),
    ],
)
def test_it_explains_what_is_wrong_with_the_search(params: dict[str, str], message: str) -> None:
    client, _admin = admin_client()

    response = client.get(URL, params)

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page and page.count(message) == 2  # the summary and the field
    assert "<title>Error:" in page
    assert not AuditEvent.objects.filter(event_type="audit.search").exists()


def test_the_case_page_link_opens_the_search_for_that_case() -> None:
    from django.template.loader import render_to_string

    case = reviewed_case()
    html = render_to_string("console/_case_audit_link.html", {"case": case})

    assert f'href="{URL}?case={case.reference}"' in html


def test_events_read_as_plain_labels_not_codes() -> None:
    case = reviewed_case()
    read(case, case.specialist, "report_document.read.denied")
    client, _admin = admin_client()

    page = client.get(URL, {"case": case.reference}).content.decode()

    assert "<td>Report refused</td>" in page
    assert ">report_document.read.denied<" not in page  # only the option's value keeps the code
    assert '<option value="report_document.read.denied">Report refused</option>' in page


def test_every_event_type_the_code_writes_has_a_label() -> None:
    root = Path(__file__).resolve().parents[2]
    written: set[str] = set()
    for app in ("accounts", "audit", "cases", "uploads", "reports", "lifecycle", "console", "secondopinion"):
        for source in (root / app).rglob("*.py"):
            written |= set(re.findall(r'event_type="([a-z_.]+)"', source.read_text()))
            written |= set(re.findall(r'_audit_list\(request, "([a-z_.]+)"', source.read_text()))
    assert written and written <= set(EVENT_LABELS), sorted(written - set(EVENT_LABELS))
