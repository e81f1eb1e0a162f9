from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Consultation, Status
from tests.factories import login
from tests.reports.helpers import specialist_with, waiting_case

pytestmark = pytest.mark.django_db


def _start(client: Client, case: Any) -> Any:
    return client.post(reverse("reports:start_review", args=[case.pk]))


def test_the_assigned_specialist_sees_the_button_and_starts_the_review(
    specialist: Any, specialist_client: Client
) -> None:
    case = waiting_case(status=Status.ASSIGNED, specialist=specialist)
    html = specialist_client.get(reverse("reports:workspace", args=[case.pk])).content.decode()
    assert reverse("reports:start_review", args=[case.pk]) in html
    response = _start(specialist_client, case)
    assert response["Location"] == reverse("reports:workspace", args=[case.pk])
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    assert case.events.get().reason == "review_started"
    html = specialist_client.get(response["Location"]).content.decode()
    assert reverse("reports:start_review", args=[case.pk]) not in html


def test_starting_twice_says_it_has_already_started(specialist: Any, specialist_client: Client) -> None:
    case = waiting_case(status=Status.ASSIGNED, specialist=specialist)
    _start(specialist_client, case)
    response = _start(specialist_client, case)
    assert "already started" in specialist_client.get(response["Location"]).content.decode()
    assert case.events.count() == 1


def test_a_consulted_colleague_or_a_stranger_cannot_start_it(specialist: Any) -> None:
    case = waiting_case(status=Status.ASSIGNED, specialist=specialist)
    colleague = specialist_with()
    Consultation.objects.create(case=case, colleague=colleague, invited_by=specialist)
    assert _start(login(Client(), colleague), case).status_code == 404
    assert _start(login(Client(), specialist_with()), case).status_code == 404
    case.refresh_from_db()
    assert case.status == Status.ASSIGNED
