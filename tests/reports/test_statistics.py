"""Anonymised statistics for admins: counts per specialty, turnaround (median, p90, share within
the SLA), agreement and in-person referrals; small counts and what would reveal them suppressed;
no identifiers; the same number of queries however many cases."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cases.models import Case, Status
from reports.statistics import Figure, percentile, protect
from tests.factories import CaseFactory, PatientFactory, SpecialistFactory
from tests.reports.helpers import reported_case

pytestmark = pytest.mark.django_db
URL = reverse("reports:statistics")


def waiting(specialty: str, n: int) -> list[Case]:
    now = timezone.now()
    return [
        CaseFactory(
            specialty=specialty,
            status=Status.SUBMITTED,
            submitted_at=now - timedelta(days=2),
            due_at=now + timedelta(days=1),
        )
        for _ in range(n)
    ]


def cells(html: str, specialty: str) -> list[str]:
    """The text of each cell of the specialty's row, as a reader would see it."""
    row = re.search(rf'<th scope="row">{specialty}</th>(.*?)</tr>', html, re.S)
    assert row, f"no row for {specialty}"
    texts = [
        re.sub(r"<span class=\"visually-hidden\">.*?</span>|<[^>]+>", "", td)
        for td in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    ]
    return [re.sub(r"\s+", " ", t).strip() for t in texts]


@pytest.fixture
def specialist(db: Any) -> User:
    return SpecialistFactory()


def test_turnaround_sla_and_agreement_from_known_data(admin_client_verified: Client, specialist: User) -> None:
    for day in range(1, 11):  # took 1..10 days, due after 7: 7 of 10 within the SLA
        reported_case(
            specialist,
            specialty="cardiology",
            took_days=day,
            agreement="confirmed" if day <= 6 else "refined" if day <= 8 else "changed",
            in_person="soon" if day <= 5 else "no",
        )
    html = admin_client_verified.get(URL).content.decode()
    # submitted, reported, median, p90, SLA, confirmed, refined, changed, in person. Refined and
    # changed (2 + 2) are small, and 10 - 6 would give their sum: confirmed is hidden too.
    assert cells(html, "Cardiology") == [
        "10",
        "10",
        "5.5",
        "9.1",
        "70.0 %",
        "—",
        "fewer than 5",
        "fewer than 5",
        "5 (50.0 %)",
    ]


def test_counts_under_five_are_suppressed_with_what_they_would_reveal(
    admin_client_verified: Client, specialist: User
) -> None:
    for _ in range(3):
        reported_case(specialist, specialty="dermatology", took_days=2, in_person="urgent")
    for i in range(15):
        reported_case(
            specialist,
            specialty="oncology",
            took_days=1 + i / 10,
            agreement=["confirmed", "refined", "changed"][i % 3],
            in_person="soon" if i < 13 else "no",
        )
    waiting("neurology", 7)
    html = admin_client_verified.get(URL).content.decode()
    assert cells(html, "Dermatology") == [
        "fewer than 5",
        "fewer than 5",
        "—",
        "—",
        "—",
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
    ]
    # 13 of 15 referred in person: "2 not referred" would follow by subtraction, so it is hidden.
    assert cells(html, "Oncology")[5:] == ["5", "5", "5", "—"]
    assert cells(html, "Neurology")[:3] == ["7", "fewer than 5", "—"]


def test_cases_outside_the_period_are_not_counted(admin_client_verified: Client, specialist: User) -> None:
    for _ in range(5):
        reported_case(specialist, specialty="radiology", took_days=1, submitted_days_ago=100)
    assert "Radiology" not in admin_client_verified.get(URL, {"period": "30"}).content.decode()
    assert cells(admin_client_verified.get(URL, {"period": "365"}).content.decode(), "Radiology")[0] == "5"


def test_no_identifiers_leave(admin_client_verified: Client, specialist: User) -> None:
    patient = PatientFactory(full_name="Canary Patient Name", email="canary@example.org")
    cases = [reported_case(specialist, specialty="cardiology", took_days=3, patient=patient) for _ in range(6)]
    page = admin_client_verified.get(URL).content.decode()
    exported = b"".join([admin_client_verified.get(URL, {"period": "90", "format": "csv"}).content]).decode()
    for text in (page, exported):
        for needle in (
            "Canary",
            "canary@",
            specialist.full_name,
            *(c.reference for c in cases),
            *(str(c.pk) for c in cases),
            str(patient.pk),
        ):
            assert needle not in text


def test_the_csv_has_the_same_suppressed_table(admin_client_verified: Client, specialist: User) -> None:
    for day in range(1, 7):
        reported_case(specialist, specialty="cardiology", took_days=day)
    response = admin_client_verified.get(URL, {"period": "90", "format": "csv"})
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][:6] == ["Cardiology", "6", "6", "3.5", "5.5", "100.0"]
    assert rows[1][6:] == ["6", "<5", "<5", "<5", ""]


def test_an_unknown_period_is_an_error_next_to_the_field(admin_client_verified: Client) -> None:
    response = admin_client_verified.get(URL, {"period": "1999"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and html.count("Choose a period from the list.") == 2


def test_the_query_count_does_not_grow_with_the_cases(admin_client_verified: Client, specialist: User) -> None:
    reported_case(specialist, specialty="cardiology", took_days=1)
    with CaptureQueriesContext(connection) as few:
        admin_client_verified.get(URL)
    for specialty in ("cardiology", "oncology", "neurology"):
        for day in range(6):
            reported_case(specialist, specialty=specialty, took_days=day + 1)
    with CaptureQueriesContext(connection) as many:
        admin_client_verified.get(URL)
    assert len(many) == len(few)


def test_percentiles_interpolate_like_percentile_cont() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9) == pytest.approx(4.6)
    assert percentile([7.0], 0.9) == 7.0


@pytest.mark.parametrize(
    ("parts", "total", "hidden"),
    [
        ({"a": 10, "b": 10}, 20, ""),
        ({"a": 16, "b": 4}, 20, "ab"),  # b alone would be 20 - 16
        ({"a": 10, "b": 3, "c": 3}, 16, "bc"),  # b + c = 6: not small
        ({"a": 10, "b": 2, "c": 2}, 14, "abc"),  # b + c = 4: small, so a goes too
        ({"a": 7}, 9, "a"),  # the unshown rest, 2, would follow
        ({"a": 3}, 9, "a"),
    ],
)
def test_protect_hides_what_subtraction_would_reveal(parts: dict[str, int], total: int, hidden: str) -> None:
    result = protect(parts, total)
    assert "".join(sorted(name for name, figure in result.items() if not figure.shown)) == hidden
    assert all(result[name] == Figure(value) for name, value in parts.items() if name not in hidden)
