from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from audit import AuditEvent
from cases.models import Consultation
from console.models import AuditReview
from tests.audit.chain import _triggers_bypassed
from tests.console.review_helpers import admin_client, break_glass, denial, read, reviewed_case, staff
from tests.factories import AdminFactory, SpecialistFactory

pytestmark = pytest.mark.django_db
URL = reverse("console:access_review")
CHECKS = ["flagged_reads", "break_glass", "denials", "chain_verified", "exports"]


@pytest.fixture
def january(settings: Any) -> dict[str, Any]:
    """In January 2025: the assigned specialist and a consulted colleague read their case; another
    specialist reads it without being assigned; an admin uses break-glass; the other specialist
    reads three cases within the hour (AUDIT_RAPID_READS=2) and is refused once."""
    settings.AUDIT_RAPID_READS = 2
    case = reviewed_case()
    colleague = staff(SpecialistFactory, full_name="Dr Colleague")
    Consultation.objects.create(case=case, colleague=colleague, invited_by=case.specialist)
    stranger, admin = staff(SpecialistFactory, full_name="Dr Curious"), staff(AdminFactory, full_name="Ada Admin")
    others = [reviewed_case(), reviewed_case()]
    with time_machine.travel("2025-01-10 09:00Z", tick=False):
        read(case, case.specialist)
        read(case, case.specialist, "upload.download")
        read(case, colleague)
    with time_machine.travel("2025-01-11 10:00Z", tick=False):
        read(case, stranger)
    with time_machine.travel("2025-01-11 10:30Z", tick=False):
        for other in others:
            read(other, stranger)
        denial(case, stranger)
    with time_machine.travel("2025-01-12 08:00Z", tick=False):
        break_glass(case, admin)
    with time_machine.travel("2025-02-01 00:00Z", tick=False):
        read(case, stranger)  # next month: not in January's review
    return {"case": case, "colleague": colleague, "stranger": stranger, "admin": admin}


def _rows(response: Any) -> dict[tuple[str, str], Any]:
    return {(r.user.full_name, r.reference): r for r in response.context["report"].rows}


def test_it_lists_who_read_which_case_in_the_month(january: dict[str, Any]) -> None:
    client, _admin = admin_client()
    case = january["case"]

    response = client.get(URL, {"month": "2025-01"})

    assert response.status_code == 200
    rows = _rows(response)
    lead = rows[("Dr Ana Ruiz", case.reference)]
    assert (lead.role, lead.reads, lead.outside) == ("specialist", 2, False)
    assert lead.first.isoformat() == lead.last.isoformat() == "2025-01-10T09:00:00+00:00"
    assert rows[("Dr Colleague", case.reference)].outside is False
    assert rows[("Dr Curious", case.reference)].reads == 1  # February's read is not counted
    assert AuditEvent.objects.filter(event_type="audit.access_review.read", detail={"month": "2025-01"}).exists()


def test_it_flags_reads_outside_assignment_and_break_glass(january: dict[str, Any]) -> None:
    client, _admin = admin_client()
    case = january["case"]

    response = client.get(URL, {"month": "2025-01"})

    outside = {(r.user.full_name, r.reference, r.break_glass) for r in response.context["report"].outside}
    assert ("Dr Curious", case.reference, 0) in outside
    assert ("Ada Admin", case.reference, 1) in outside
    assert not any(name in {"Dr Ana Ruiz", "Dr Colleague"} for name, _ref, _n in outside)
    page = response.content.decode()
    assert "Ada Admin read case" in page and "(break-glass)" in page
    stranger_row = _rows(response)[("Dr Curious", case.reference)]
    search = client.get(stranger_row.search)
    assert [e.actor_id for e, _r in search.context["rows"]] == [january["stranger"].pk]


def test_it_flags_many_cases_read_quickly_and_denials(january: dict[str, Any]) -> None:
    client, _admin = admin_client()

    report = client.get(URL, {"month": "2025-01"}).context["report"]

    assert [(f.user.full_name, f.cases) for f in report.rapid] == [("Dr Curious", 3)]
    assert report.rapid[0].window_start.isoformat() == "2025-01-11T10:00:00+00:00"
    assert [(f.user.full_name, f.denials) for f in report.denials] == [("Dr Curious", 1)]
    denied = client.get(report.denials[0].search)
    assert [e.event_type for e, _r in denied.context["rows"]] == ["case.read.denied"]


def test_reads_spread_over_more_than_an_hour_are_not_flagged(settings: Any) -> None:
    settings.AUDIT_RAPID_READS = 1
    reader, cases = staff(SpecialistFactory), [reviewed_case(), reviewed_case()]
    with time_machine.travel("2025-01-10 09:00Z", tick=False):
        read(cases[0], reader)
    with time_machine.travel("2025-01-10 10:00Z", tick=False):
        read(cases[1], reader)
    client, _admin = admin_client()

    assert client.get(URL, {"month": "2025-01"}).context["report"].rapid == []


def test_it_shows_the_last_full_month_by_default() -> None:
    client, _admin = admin_client()

    with time_machine.travel("2025-03-15 12:00Z"):
        response = client.get(URL)
        wrong = client.get(URL, {"month": "2025-13"})

    assert response.context["month"] == date(2025, 2, 1)
    assert wrong.context["month"] == date(2025, 2, 1)
    assert "Enter the month as year-month, like 2025-01." in wrong.content.decode()


def test_an_admin_signs_off_a_month_once() -> None:
    client, admin = admin_client()
    sign_off = reverse("console:sign_off")

    response = client.post(sign_off, {"month": "2025-01", "checks": CHECKS, "note": "All explained."})

    assert response.status_code == 302 and response["Location"] == f"{URL}?month=2025-01"
    review = AuditReview.objects.get()
    assert (review.month, review.checks, review.note, review.signed_by) == (
        date(2025, 1, 1),
        CHECKS,
        "All explained.",
        admin,
    )
    event = AuditEvent.objects.get(event_type="audit.review.sign_off")
    assert event.detail == {"month": "2025-01", "checks": CHECKS} and event.actor_id == admin.pk
    page = client.get(URL, {"month": "2025-01"}).content.decode()
    assert f"Signed off by {admin.full_name}" in page and "Sign off this month" not in page

    again = client.post(sign_off, {"month": "2025-01", "checks": CHECKS})
    assert "This month was already signed off on" in again.content.decode()
    assert AuditReview.objects.count() == 1


def test_every_check_is_required() -> None:
    client, _admin = admin_client()

    response = client.post(reverse("console:sign_off"), {"month": "2025-01", "checks": CHECKS[:-1]})

    page = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in page
    assert page.count("Confirm every check before signing off the month.") == 2
    assert not AuditReview.objects.exists()


def test_a_future_month_cannot_be_signed_off() -> None:
    client, _admin = admin_client()

    with time_machine.travel("2025-03-15 12:00Z"):
        response = client.post(reverse("console:sign_off"), {"month": "2025-04", "checks": CHECKS})

    assert "You can only sign off the current month or a past month." in response.content.decode()
    assert not AuditReview.objects.exists()


@pytest.mark.usefixtures("no_checkpoints")
def test_the_page_shows_the_latest_checkpoint() -> None:
    from audit.checkpoint import checkpoint_write

    read(reviewed_case(), staff(SpecialistFactory))
    client, _admin = admin_client()
    page = client.get(URL).content.decode()
    assert "no signed checkpoint found" in page and "manage.py" not in page

    with time_machine.travel("2025-03-15 12:00Z", tick=False):
        checkpoint_write()

    page = client.get(URL).content.decode()
    assert "3 events verified at 2025-03-15 12:00 UTC (signed checkpoint)." in page  # two page views, one read


def test_the_sign_off_service_refuses_a_second_sign_off_of_the_same_month() -> None:
    from console.review import AlreadySigned, audit_review_sign_off

    _client, admin = admin_client()
    audit_review_sign_off(admin=admin, month=date(2025, 1, 1), checks=CHECKS, note="")

    with pytest.raises(AlreadySigned):
        audit_review_sign_off(admin=admin, month=date(2025, 1, 1), checks=CHECKS, note="")
    assert AuditReview.objects.count() == 1


@pytest.mark.usefixtures("no_checkpoints")
def test_an_admin_checks_the_chain_from_the_page_and_reads_the_result() -> None:
    read(reviewed_case(), staff(SpecialistFactory))
    client, admin = admin_client()
    assert 'action="/console/audit/verify/"' in client.get(URL).content.decode()

    response = client.post(reverse("console:verify_chain"), follow=True)

    page = response.content.decode()
    assert "The audit chain is intact" in page and "a signed checkpoint is saved" in page
    assert "events verified at" in page and "no signed checkpoint found" not in page
    event = AuditEvent.objects.get(event_type="audit.verify")
    assert event.actor_id == admin.pk and event.outcome == "0" and event.detail["count"] >= 1


@pytest.mark.usefixtures("no_checkpoints")
def test_a_broken_chain_is_shown_with_the_first_bad_event() -> None:
    first = read(reviewed_case(), staff(SpecialistFactory))
    client, _admin = admin_client()
    with _triggers_bypassed() as cursor:  # an edit behind the application's back
        cursor.execute("UPDATE audit_auditevent SET detail = %s WHERE id = %s", ['{"n": 99}', first.id])

    page = client.post(reverse("console:verify_chain"), follow=True).content.decode()

    assert f"The audit chain is broken at event {first.id}" in page
    assert AuditEvent.objects.filter(event_type="audit.verify", outcome="8").exists()


def test_the_chain_check_is_a_post() -> None:
    client, _admin = admin_client()
    assert client.get(reverse("console:verify_chain")).status_code == 405
