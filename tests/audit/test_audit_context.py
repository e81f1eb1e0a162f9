"""A service records who did what with `actor=`; where the request came from is the request's."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from accounts.models import User
from audit import Action, AuditEvent, record
from audit.context import AuditContextMiddleware

pytestmark = pytest.mark.django_db


def test_an_event_recorded_while_serving_a_request_has_its_address_and_user_agent(patient_a: User) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        record(event_type="case.read", action=Action.READ, actor=patient_a)  # no request passed
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Phone/1.0")
    AuditContextMiddleware(view)(request)
    event = AuditEvent.objects.get(event_type="case.read")
    assert (event.actor_id, event.source_ip, event.user_agent) == (patient_a.pk, "203.0.113.9", "Phone/1.0")


def test_an_event_recorded_after_the_request_or_outside_one_has_no_address(patient_a: User) -> None:
    AuditContextMiddleware(lambda r: HttpResponse())(RequestFactory().get("/", REMOTE_ADDR="203.0.113.9"))
    record(event_type="task.ran", action=Action.EXECUTE, actor=patient_a)
    event = AuditEvent.objects.get(event_type="task.ran")
    assert (event.source_ip, event.user_agent) == (None, "")
