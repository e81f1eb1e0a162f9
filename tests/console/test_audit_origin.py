"""The console services take the actor, and the address and browser of the request being served:
every event the console's pages record names the admin, their role, their address and their browser."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from cases.models import RequestedSpecialty, Status
from tests.cases.helpers import last_event_id, origins_since
from tests.console.console_helpers import step_up
from tests.factories import AdminFactory, CaseFactory, SpecialistFactory, add_totp, login, publish_consent_v1

pytestmark = pytest.mark.django_db

IP, BROWSER = "203.0.113.52", "Browser/4.0 (console)"
CHECKS = ["flagged_reads", "break_glass", "denials", "chain_verified", "exports"]
INVITE = {
    "full_name": "Dr Canary",
    "email": "dr.origin@example.org",
    "role": "specialist",
    "language": "en",
    "licence_number": "ES-123",
    "specialties": ["dermatology"],
    "jurisdictions": "es",
}


def test_the_console_pages_record_the_admin_their_address_and_browser() -> None:
    admin, specialist = AdminFactory(), SpecialistFactory()
    add_totp(admin)
    add_totp(specialist)
    console = login(Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=BROWSER), admin)
    step_up(console, admin)
    publish_consent_v1()
    case = CaseFactory(status=Status.IN_REVIEW, submitted_at=timezone.now())
    before = last_event_id()

    user = f"/console/users/{specialist.pk}/"
    console.post(user + "deactivate/")
    console.post(user + "reactivate/")
    console.post(user + "reset-mfa/")
    console.post(user + "specialist/", {"licence_number": "ES-9", "specialties": ["oncology"], "jurisdictions": "ES"})
    console.post("/console/turnaround/", {code: 72 for code in RequestedSpecialty.values} | {"oncology": 48})
    console.post("/console/consent/new/", {"text_en": "New terms", "text_es": "Nuevas condiciones"})
    console.post("/console/invite/", INVITE)
    console.post(
        f"/console/cases/{case.pk}/break-glass/",
        {"reason": "The patient's doctor phoned: possible sepsis, needs the report now.", "confirm": "on"},
    )
    console.get("/console/cases/")
    console.get("/console/audit/", {"action": "U"})
    b"".join(console.get("/console/audit/export.csv").streaming_content)
    console.get("/console/audit/access-review/", {"month": "2025-01"})
    console.post("/console/audit/access-review/sign-off/", {"month": "2025-01", "checks": CHECKS, "note": ""})

    origins = origins_since(before, reads=True)
    for event_type in (
        "user.deactivate",
        "user.reactivate",
        "mfa.reset",
        "specialist.update",
        "turnaround.update",
        "consent.publish",
        "invite.sent",
        "case.break_glass",
        "console.cases.read",
        "audit.search",
        "audit.export",
        "audit.access_review.read",
        "audit.review.sign_off",
    ):
        assert origins.get(event_type) == {(admin.pk, "admin", IP, BROWSER)}, event_type
