"""Patients see what a second opinion costs, and how coverage works, before they start; the fees
are settings an admin edits in the console (audited)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cases.models import SpecialtySetting
from tests.factories import SpecialistFactory

pytestmark = pytest.mark.django_db


def test_an_admin_sets_a_fee_and_the_landing_and_start_pages_show_it(
    admin_client_verified: Client, patient_client: Client
) -> None:
    SpecialistFactory()  # dermatology in Spain
    response = admin_client_verified.post(reverse("console:console_fees"), {"dermatology": "150.50"}, follow=True)
    assert "Fees saved." in response.content.decode()
    assert SpecialtySetting.objects.get(specialty="dermatology").fee == Decimal("150.50")
    assert AuditEvent.objects.filter(event_type="fees.update").exists()

    landing = Client().get(reverse("landing")).content.decode()
    assert "Dermatology" in landing and "150.50 EUR" in landing and "Spain" in landing
    assert "ask yours before you start" in landing
    start = patient_client.get(reverse("cases:start")).content.decode()
    assert "150.50 EUR" in start


def test_without_a_fee_the_pages_say_it_is_confirmed_first(patient_client: Client) -> None:
    SpecialistFactory()
    assert "Confirmed before you pay" in patient_client.get(reverse("cases:start")).content.decode()


@pytest.mark.parametrize(("value", "error"), [("-3", "A fee cannot be negative."), ("ten", "as an amount, like 150")])
def test_a_wrong_fee_says_what_to_type(admin_client_verified: Client, value: str, error: str) -> None:
    response = admin_client_verified.post(reverse("console:console_fees"), {"dermatology": value})
    assert response.status_code == 200 and error in response.content.decode()
    assert not SpecialtySetting.objects.filter(fee__isnull=False).exists()


def test_spanish_amounts_use_a_decimal_comma(admin_client_verified: Client, settings: Any) -> None:
    SpecialistFactory()
    admin_client_verified.post(reverse("console:console_fees"), {"dermatology": "150.50"})
    page = Client(HTTP_ACCEPT_LANGUAGE="es").get(reverse("landing")).content.decode()
    assert "150,50 EUR" in page
