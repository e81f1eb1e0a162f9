"""Dates are written one way per language and times are in the person's time zone. Seen
before: "12/03/2026" (US order), "Dec. 3, 2026, 10:29 a.m." and "3 diciembre 2026" on the same
site, every time in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.emails import email_user
from accounts.models import User
from cases.models import Case, Status
from tests.factories import PASSWORD, CaseFactory, PatientFactory, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_specialty_in_spain")]

DUE = datetime(2026, 12, 3, 17, 29, tzinfo=UTC)  # 11:29 in Mexico City, 18:29 in Madrid


def _case_page(user: User) -> str:
    case = CaseFactory(patient=user, status=Status.SUBMITTED, submitted_at=DUE, due_at=DUE)
    return login(Client(), user).get(reverse("cases:detail", args=[case.pk])).content.decode()


def test_signing_in_keeps_the_time_zone_the_browser_reports() -> None:
    user = PatientFactory()
    Client().post(
        reverse("accounts:login"), {"username": user.email, "password": PASSWORD, "time_zone": "America/Mexico_City"}
    )
    user.refresh_from_db()
    assert user.time_zone == "America/Mexico_City"
    page = _case_page(user)
    assert "3 December 2026, 11:29" in page


def test_a_zone_the_person_chose_is_not_replaced_by_the_browser_and_nonsense_is_ignored() -> None:
    user = PatientFactory(time_zone="Europe/Madrid")
    Client().post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD, "time_zone": "Asia/Tokyo"})
    other = PatientFactory()
    Client().post(reverse("accounts:login"), {"username": other.email, "password": PASSWORD, "time_zone": "Mars/Base"})
    user.refresh_from_db()
    other.refresh_from_db()
    assert (user.time_zone, other.time_zone) == ("Europe/Madrid", "")
    assert "3 December 2026, 18:29" in _case_page(user)
    assert "3 December 2026, 17:29" in _case_page(other)  # UTC until known


def test_the_account_page_changes_the_time_zone() -> None:
    user = PatientFactory()
    client = login(Client(), user)
    page = client.get(reverse("accounts:security")).content.decode()
    assert "Your time zone" in page and 'value="America/Mexico_City"' in page
    response = client.post(reverse("accounts:time_zone"), {"time_zone": "America/Mexico_City"}, follow=True)
    assert "Your time zone is saved." in response.content.decode()
    user.refresh_from_db()
    assert user.time_zone == "America/Mexico_City"
    response = client.post(reverse("accounts:time_zone"), {"time_zone": "Mars/Base"}, follow=True)
    assert "Choose a time zone from the list." in response.content.decode()


def test_spanish_dates_read_as_spanish() -> None:
    page = _case_page(PatientFactory(language="es", time_zone="Europe/Madrid"))
    assert "3 de diciembre de 2026, 18:29" in page


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_page_writes_a_date_in_numbers_or_with_am_pm(language: str) -> None:
    user = PatientFactory(language=language, time_zone="Europe/Madrid")
    page = _case_page(user)
    page += login(Client(), user).get(reverse("cases:patient_home")).content.decode()
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", page)
    assert not re.search(r"\b[ap]\.m\.", page)


def test_templates_use_the_named_formats_only() -> None:
    """One place per language decides how a date reads (secondopinion/formats/). Audit and
    console pages that say "UTC" write ISO dates, converted to UTC first."""
    root = Path(settings.BASE_DIR) / "templates"
    named = {"DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT", "TIME_FORMAT"}
    iso = {"Y-m", "Y-m-d", "Y-m-d H:i", "Y-m-d H:i:s"}
    named.add("c")  # ISO 8601 for a <time datetime> attribute, never read by a person
    bad = []
    for path in root.rglob("*.*"):
        text = path.read_text()
        for match in re.finditer(r"(\|utc)?\|date:[\"']([^\"']*)[\"']", text):
            utc, fmt = match.groups()
            if fmt not in named and not (fmt in iso and utc) and fmt != "Y-m":  # a month: a date
                bad.append(f"{path.relative_to(root)}: {match.group(0)}")
    assert bad == []


def test_e_mails_give_times_in_the_recipients_zone(django_capture_on_commit_callbacks: Any) -> None:
    user = PatientFactory(time_zone="America/Mexico_City")
    case = CaseFactory(patient=user, status=Status.SUBMITTED, submitted_at=DUE, due_at=DUE)
    with django_capture_on_commit_callbacks(execute=True):
        email_user(user=user, name="case-receipt", params={"case_id": case.pk})
    assert "3 December 2026, 11:29" in mail.outbox[0].body
    assert Case.objects.get(pk=case.pk).due_at == DUE
