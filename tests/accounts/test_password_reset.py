from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from audit.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
NEW = "a brand new password here"


def test_reset_changes_the_password_ends_sessions_and_lifts_a_lockout(
    patient_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    old_session = Client()
    old_session.post("/accounts/login/", {"username": patient_a.email, "password": PASSWORD})
    for _ in range(5):
        Client().post("/accounts/login/", {"username": patient_a.email, "password": "wrong"})
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.post("/accounts/password-reset/", {"email": patient_a.email})["Location"]
            == "/accounts/password-reset/sent/"
        )
    path = re.search(r"http://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(path)["Location"]
    response = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == "/accounts/reset/done/"
    assert old_session.get("/patient/").status_code == 302
    assert Client().post("/accounts/login/", {"username": patient_a.email, "password": NEW}).status_code == 302
    assert AuditEvent.objects.filter(event_type="password.reset", actor=patient_a).exists()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []
