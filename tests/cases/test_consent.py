from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from cases.models import Case, CaseEvent, ConsentAcceptance, ConsentVersion, Status
from cases.services import consent_accept, consent_withdraw, submission_problems
from tests.cases.helpers import accept_consent, ready_case, serving
from tests.factories import CaseFactory, PatientFactory, login

CONSENT_PROBLEM = "Read and accept the consent."


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _publish(text: str = "Version two") -> ConsentVersion:
    latest = ConsentVersion.objects.order_by("-version").first()
    return ConsentVersion.objects.create(
        version=(latest.version if latest else 0) + 1, text_en=f"{text} in English", text_es=f"{text} en español"
    )


def test_accepting_records_the_version_the_exact_text_the_language_and_the_browser(
    consent_version: ConsentVersion, patient_a: User
) -> None:
    case = CaseFactory(patient=patient_a)
    client = login(Client(HTTP_USER_AGENT="Mozilla/5.0 (test) Firefox/140.0", REMOTE_ADDR="198.51.100.23"), patient_a)

    response = client.post(f"/cases/{case.pk}/intake/consent/", {"accept": "on"})

    assert response["Location"] == f"/cases/{case.pk}/check/"
    acceptance = ConsentAcceptance.objects.get(case=case)
    assert acceptance.version == consent_version
    assert acceptance.text_sha256 == _sha256(consent_version.text_en)
    assert acceptance.language == "en"
    assert (acceptance.ip, acceptance.user_agent) == ("198.51.100.23", "Mozilla/5.0 (test) Firefox/140.0")
    assert acceptance.withdrawn_at is None
    event = AuditEvent.objects.get(event_type="consent.accept", case_id=case.pk)
    assert event.detail == {"version": consent_version.version, "language": "en"}
    assert CONSENT_PROBLEM not in submission_problems(case)


def test_a_spanish_speaker_accepts_the_spanish_text(consent_version: ConsentVersion) -> None:
    patient = PatientFactory(language="es")
    case = CaseFactory(patient=patient)
    client = login(Client(HTTP_USER_AGENT="Safari"), patient)

    page = client.get(f"/cases/{case.pk}/intake/consent/").content.decode()
    assert "Qué es este servicio" in page and "What this service is" not in page
    client.post(f"/cases/{case.pk}/intake/consent/", {"accept": "on"})

    acceptance = ConsentAcceptance.objects.get(case=case)
    assert acceptance.language == "es"
    assert acceptance.text_sha256 == _sha256(consent_version.text_es)
    assert acceptance.text_sha256 != _sha256(consent_version.text_en)


def test_the_service_records_the_address_and_user_agent_of_the_request(
    consent_version: ConsentVersion, patient_a: User
) -> None:
    case = CaseFactory(patient=patient_a)

    with serving(ip="2001:db8::7", user_agent="x" * 300):
        acceptance = consent_accept(actor=patient_a, case=case, version=consent_version, language="es")

    acceptance.refresh_from_db()
    assert (acceptance.ip, acceptance.user_agent) == ("2001:db8::7", "x" * 256)
    assert acceptance.text_sha256 == _sha256(consent_version.text_es)


def test_it_does_not_accept_without_the_tick(
    consent_version: ConsentVersion, patient_client: Client, patient_a: User
) -> None:
    case = CaseFactory(patient=patient_a)
    response = patient_client.post(f"/cases/{case.pk}/intake/consent/", {})

    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in page and "To send your case you need to agree to the consent." in page
    assert not ConsentAcceptance.objects.filter(case=case).exists()


def test_a_new_version_asks_for_consent_again(
    consent_version: ConsentVersion, patient_client: Client, patient_a: User, every_specialty_in_spain: User
) -> None:
    case = ready_case(patient_a)
    assert submission_problems(case) == []

    new = _publish()

    assert CONSENT_PROBLEM in submission_problems(case)
    assert CONSENT_PROBLEM in patient_client.get(f"/cases/{case.pk}/check/").content.decode()
    page = patient_client.get(f"/cases/{case.pk}/intake/consent/").content.decode()
    assert "Version two in English" in page and "You have accepted this version." not in page

    patient_client.post(f"/cases/{case.pk}/intake/consent/", {"accept": "on"})

    assert submission_problems(case) == []
    assert case.consents.filter(version=new).get().text_sha256 == _sha256(new.text_en)


def test_submitting_under_an_old_consent_is_refused(
    consent_version: ConsentVersion, patient_client: Client, patient_a: User
) -> None:
    case = ready_case(patient_a)
    _publish()

    response = patient_client.post(f"/cases/{case.pk}/submit/")

    assert response["Location"] == f"/cases/{case.pk}/check/"
    assert Case.objects.get(pk=case.pk).status == Status.DRAFT


def test_a_withdrawn_acceptance_is_not_current(consent_version: ConsentVersion, patient_a: User) -> None:
    case = ready_case(patient_a, status=Status.CLOSED)
    consent_withdraw(actor=patient_a, case=case)
    assert CONSENT_PROBLEM in submission_problems(case)


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.AWAITING_PATIENT])
def test_withdrawing_consent_withdraws_an_open_case(
    consent_version: ConsentVersion, patient_a: User, status: Status
) -> None:
    case = CaseFactory(patient=patient_a, status=status)
    acceptance = accept_consent(case)

    consent_withdraw(actor=patient_a, case=case)

    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
    event = CaseEvent.objects.get(case=case)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        status,
        Status.WITHDRAWN,
        patient_a,
        "consent_withdrawn",
    )
    acceptance.refresh_from_db()
    assert acceptance.withdrawn_at is not None
    assert AuditEvent.objects.filter(event_type="consent.withdraw", case_id=case.pk).count() == 1


def test_withdrawing_consent_of_a_closed_case_keeps_it_closed(consent_version: ConsentVersion, patient_a: User) -> None:
    case = CaseFactory(patient=patient_a, status=Status.CLOSED)
    acceptance = accept_consent(case)

    consent_withdraw(actor=patient_a, case=case)

    assert Case.objects.get(pk=case.pk).status == Status.CLOSED
    assert not CaseEvent.objects.filter(case=case).exists()
    acceptance.refresh_from_db()
    assert acceptance.withdrawn_at is not None


def test_without_a_published_consent_nothing_can_be_sent(patient_client: Client, patient_a: User) -> None:
    ConsentVersion.objects.all().delete()
    case = ready_case(patient_a, consent=False)

    page = patient_client.get(f"/cases/{case.pk}/intake/consent/").content.decode()
    assert "The consent text is not available right now." in page
    response = patient_client.post(f"/cases/{case.pk}/intake/consent/", {"accept": "on"})
    assert response.status_code == 200
    assert not ConsentAcceptance.objects.filter(case=case).exists()
    assert CONSENT_PROBLEM in submission_problems(case)


def test_a_sent_case_asks_for_the_new_consent_and_records_it(patient_client: Any, patient_a: Any) -> None:
    from cases.models import ConsentAcceptance, ConsentVersion, Status
    from tests.factories import CaseFactory, publish_consent_v1

    old = publish_consent_v1()
    case = CaseFactory(patient=patient_a, status=Status.SUBMITTED)
    ConsentAcceptance.objects.create(case=case, version=old, text_sha256="0" * 64, language="en")
    assert patient_client.get(f"/cases/{case.pk}/consent/")["Location"] == f"/cases/{case.pk}/"
    ConsentVersion.objects.create(version=old.version + 1, text_en="New terms.", text_es="Nuevos términos.")
    page = patient_client.get(f"/cases/{case.pk}/").content.decode()
    assert "We have updated the consent" in page
    form = patient_client.get(f"/cases/{case.pk}/consent/")
    assert "New terms." in form.content.decode()
    assert (
        "To send your case you need to agree" in patient_client.post(f"/cases/{case.pk}/consent/", {}).content.decode()
    )
    patient_client.post(f"/cases/{case.pk}/consent/", {"accept": "on"})
    assert case.consents.filter(version__version=old.version + 1).exists()
    assert "We have updated the consent" not in patient_client.get(f"/cases/{case.pk}/").content.decode()
