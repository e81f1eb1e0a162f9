from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cases.models import Case, ConsentVersion, Status
from cases.services import AlreadyTaken, NotEligible, case_claim, consent_withdraw
from tests.factories import login
from tests.reports.helpers import specialist_with, waiting_case


def _claim(client: Client, case: Case) -> Any:
    return client.post(reverse("reports:claim", args=[case.pk]))


@pytest.mark.django_db
def test_claiming_starts_the_review_and_lands_on_the_workspace(specialist: Any, specialist_client: Client) -> None:
    case = waiting_case()
    response = _claim(specialist_client, case)
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:workspace", args=[case.pk])
    case.refresh_from_db()
    assert (case.status, case.specialist) == (Status.IN_REVIEW, specialist)
    events = list(case.events.values_list("old_status", "new_status", "actor", "reason"))
    assert events == [
        (Status.SUBMITTED, Status.ASSIGNED, specialist.pk, "claimed"),
        (Status.ASSIGNED, Status.IN_REVIEW, specialist.pk, "claimed"),
    ]
    page = specialist_client.get(response["Location"])
    assert f"Case {case.reference} is yours" in page.content.decode()


@pytest.mark.django_db
def test_a_triage_case_can_be_claimed_too(specialist_client: Client) -> None:
    case = waiting_case(status=Status.TRIAGE)
    assert _claim(specialist_client, case).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW


@pytest.mark.django_db
def test_the_second_of_two_specialists_is_told_the_case_was_taken(specialist: Any, specialist_client: Client) -> None:
    case = waiting_case()
    rival = login(Client(), specialist_with())
    assert _claim(specialist_client, case).status_code == 302
    response = _claim(rival, case)
    assert response.status_code == 302 and response["Location"] == reverse("reports:queue")
    assert "Another specialist took this case first" in rival.get(response["Location"]).content.decode()
    case.refresh_from_db()
    assert case.specialist == specialist
    assert case.events.count() == 2


@pytest.mark.django_db
def test_a_double_click_lands_on_the_workspace(specialist_client: Client) -> None:
    case = waiting_case()
    _claim(specialist_client, case)
    response = _claim(specialist_client, case)
    assert response["Location"] == reverse("reports:workspace", args=[case.pk])
    assert case.events.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_specialists_claiming_at_the_same_time_one_wins() -> None:
    case = waiting_case()
    rivals = [specialist_with(), specialist_with()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim(user: Any) -> None:
        try:
            barrier.wait()
            case_claim(case=Case.objects.get(pk=case.pk), specialist=user)
            outcomes.append("won")
        except AlreadyTaken:
            outcomes.append("taken")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(user,)) for user in rivals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["taken", "won"]
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW and case.specialist in rivals
    assert case.events.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("profile", [{"specialties": ["cardiology"]}, {"jurisdictions": ["MX"]}])
def test_a_specialist_without_the_specialty_or_licence_gets_a_404(profile: dict[str, Any]) -> None:
    user = specialist_with(**profile)
    case = waiting_case()
    missing = login(Client(), user).post(reverse("reports:claim", args=["00000000-0000-4000-8000-000000000000"]))
    response = _claim(login(Client(), user), case)
    assert response.status_code == missing.status_code == 404
    assert response.content == missing.content
    case.refresh_from_db()
    assert (case.status, case.specialist) == (Status.SUBMITTED, None)
    assert AuditEvent.objects.filter(actor=user, case_id=case.pk, event_type="case.take.denied").exists()


@pytest.mark.django_db
def test_an_ineligible_specialist_does_not_learn_that_a_case_was_taken(specialist_client: Client) -> None:
    case = waiting_case()
    _claim(specialist_client, case)
    outsider = login(Client(), specialist_with(specialties=["cardiology"]))
    assert _claim(outsider, case).status_code == 404


@pytest.mark.django_db
def test_a_case_whose_consent_was_withdrawn_cannot_be_claimed(specialist: Any, specialist_client: Client) -> None:
    case = waiting_case()
    consent_withdraw(actor=case.patient, case=case)
    assert _claim(specialist_client, case).status_code == 404
    with pytest.raises(NotEligible):
        case_claim(case=case, specialist=specialist)


@pytest.mark.django_db
def test_a_case_whose_consent_is_not_current_cannot_be_claimed(specialist_client: Client) -> None:
    case = waiting_case()
    ConsentVersion.objects.create(version=2, text_en="new", text_es="nuevo")
    assert _claim(specialist_client, case).status_code == 404
    case.refresh_from_db()
    assert case.specialist is None


@pytest.mark.django_db
def test_only_a_post_claims(specialist_client: Client) -> None:
    case = waiting_case()
    assert specialist_client.get(reverse("reports:claim", args=[case.pk])).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("client_fixture", ["patient_client", "admin_client_verified"])
def test_other_roles_cannot_claim(client_fixture: str, request: Any) -> None:
    case = waiting_case()
    assert _claim(request.getfixturevalue(client_fixture), case).status_code == 404
    case.refresh_from_db()
    assert case.specialist is None


@pytest.mark.django_db
def test_the_patient_gets_one_e_mail_when_a_specialist_claims_their_case(specialist_client: Client) -> None:
    from accounts.models import OutgoingEmail

    case = waiting_case()
    assert _claim(specialist_client, case).status_code == 302
    # The claim goes through "assigned" to "in review" at once: one event for the patient, one e-mail.
    assert OutgoingEmail.objects.filter(user=case.patient, kind="case-status").count() == 1
