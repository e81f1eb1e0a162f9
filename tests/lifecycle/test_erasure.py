"""Erasure on request: step-up, legal hold refusal, policy and admin approval, crypto-shredding
(a copy of the bucket taken before no longer decrypts), the certificate, and the account."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts.models import PatientKey, User
from accounts.stepup import SESSION_KEY
from audit.models import AuditEvent
from cases.models import Case, Status
from core import storage
from core.crypto import DecryptionError, decrypt_bytes
from lifecycle.models import DeletionCertificate, DeletionRequest
from tests.factories import AdminFactory, PatientFactory, add_totp, login
from tests.lifecycle.helpers import bucket_copy, full_case, object_names
from uploads.keys import unwrap_data_key
from uploads.models import Upload
from uploads.services import STORED_PURPOSE

ERASE = "/accounts/erase/"


def stepped_up(client: Client) -> Client:
    import time

    session = client.session
    session[SESSION_KEY] = time.time()
    session.save()
    return client


@pytest.fixture
def patient(db: Any) -> User:
    return PatientFactory()


@pytest.fixture
def client(patient: User) -> Client:
    return stepped_up(login(Client(), patient))


def test_it_asks_for_a_fresh_step_up(patient: User) -> None:
    response = login(Client(), patient).get(ERASE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/security/step-up/")
    response = login(Client(), patient).post(ERASE, {"account": "delete", "confirm": "on"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/security/step-up/")
    assert not DeletionRequest.objects.exists()


def test_the_page_explains_and_errors_are_clear(client: Client) -> None:
    page = client.get(ERASE).content.decode()
    assert "cannot be undone" in page and "specialist can no longer see them" in page
    response = client.post(ERASE, {})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and "Choose whether to keep your account." in page
    assert "Confirm that you understand" in page
    assert not DeletionRequest.objects.exists()


def test_a_legal_hold_refuses_at_once_naming_the_case_and_reason(client: Client, patient: User) -> None:
    held = full_case(patient)
    Case.objects.filter(pk=held.pk).update(legal_hold_reason="litigation", legal_hold_note="Secret admin note")
    names = object_names(held)
    response = client.post(ERASE, {"account": "delete", "confirm": "on"})
    assert response.status_code == 302
    request = DeletionRequest.objects.get()
    assert (request.status, request.refusal_code) == ("refused", "legal_hold")
    page = client.get("/accounts/security/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert held.reference in page and "legal claim or court proceedings" in page
    assert "Secret admin note" not in page
    assert Case.objects.filter(pk=held.pk).exists() and all(storage.exists(n) for n in names)
    assert PatientKey.objects.live().filter(patient=patient).exists()
    assert AuditEvent.objects.filter(event_type="erasure.refuse", patient_id=patient.pk).exists()


def test_after_erasure_a_backup_of_the_bucket_no_longer_decrypts(
    client: Client, patient: User, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.filter(pk=patient.pk).update(language="es")  # the last e-mail goes out in Spanish
    case = full_case(patient)
    open_case = full_case(patient, status=Status.IN_REVIEW)
    other_patient = PatientFactory()
    others = full_case(other_patient)
    uploads = list(Upload.objects.filter(case__patient=patient, parent__isnull=True))
    # The backup: every object's ciphertext, and the Upload rows' wrapped data keys.
    backup = bucket_copy([u.stored_name for u in uploads])
    wrapped = {u.pk: bytes(u.stored_wrapped_key) for u in uploads}

    def decrypt(upload: Upload) -> bytes:
        key = PatientKey.objects.get(pk=upload.patient_key_id)
        data_key = unwrap_data_key(key, upload.id, STORED_PURPOSE, wrapped[upload.pk])
        return decrypt_bytes(data_key, upload.id, STORED_PURPOSE, backup[upload.stored_name])

    assert all(decrypt(u).startswith(b"\xff\xd8") for u in uploads)  # the copy DID decrypt before

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ERASE, {"account": "delete", "confirm": "on"})
    assert response.status_code == 200 and b'data-erasure-status="approved"' in response.content

    for upload in uploads:
        with pytest.raises(DecryptionError):
            decrypt(upload)
    assert not Case.objects.filter(pk__in=[case.pk, open_case.pk]).exists()
    assert not Upload.objects.filter(pk__in=[u.pk for u in uploads]).exists()
    assert not any(storage.exists(n) for n in backup)
    assert (
        PatientKey.objects.filter(pk__in=[u.patient_key_id for u in uploads], destroyed_at__isnull=False).count() == 1
    )
    # Another patient's data is untouched.
    assert Case.objects.filter(pk=others.pk).exists() and all(storage.exists(n) for n in object_names(others))
    assert PatientKey.objects.live().filter(patient=other_patient).exists()

    request = DeletionRequest.objects.get()
    assert request.status == "done" and request.auto_approved and request.patient is None
    content = json.loads(request.certificate.content)
    assert content["approved_by"] == "policy" and content["patient_ref"] == str(patient.pk)
    assert {c["reference"] for c in content["cases"]} == {case.reference, open_case.reference}
    files = {f["id"]: f for c in content["cases"] for f in c["files"]}
    assert {str(u.pk) for u in uploads} <= set(files)
    assert all(files[str(u.pk)]["sha256"] == u.sha256 for u in uploads)
    assert all(r["sha256"] for c in content["cases"] for r in c["reports"])
    assert [k["id"] for k in content["keys_destroyed"]] == [str(uploads[0].patient_key_id)]

    # The account and its e-mail address are gone; the last e-mail carries the certificate.
    assert not User.objects.filter(pk=patient.pk).exists()
    assert not User.objects.filter(email=patient.email).exists()
    message = mail.outbox[-1]
    assert message.to == [patient.email] and message.subject  # in Spanish once translated
    names = [a[0] for a in message.attachments]
    assert names == [
        f"deletion-certificate-{request.certificate.pk}.json",
        f"deletion-certificate-{request.certificate.pk}.pdf",
    ]
    assert patient.full_name not in message.body and "Private words" not in message.body
    assert client.get("/accounts/security/").status_code == 302  # signed out


def test_an_admin_approves_when_the_policy_does_not(
    settings: Any, client: Client, patient: User, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ERASURE_AUTO_APPROVE = False
    case = full_case(patient, status=Status.IN_REVIEW)
    assert client.post(ERASE, {"account": "keep", "confirm": "on"}).status_code == 302
    request = DeletionRequest.objects.get()
    assert request.status == "pending"
    page = client.get("/accounts/security/").content.decode()
    assert 'data-erasure-status="pending"' in page
    assert Case.objects.get(pk=case.pk).status == case.status  # nothing happens before the decision

    admin = AdminFactory()
    add_totp(admin)
    admin_client = login(Client(), admin)
    assert request.pk.hex[:8] in admin_client.get("/console/deletion-requests/").content.decode().replace("-", "")
    url = f"/console/deletion-requests/{request.pk}/approve/"
    response = admin_client.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/security/step-up/")
    request.refresh_from_db()
    assert request.status == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        assert stepped_up(admin_client).post(url).status_code == 302
    request.refresh_from_db()
    assert request.status == "done" and request.decided_by == admin and not request.auto_approved
    content = json.loads(request.certificate.content)
    assert content["approved_by"] == {"id": str(admin.pk), "role": "admin"}
    assert not Case.objects.filter(pk=case.pk).exists()
    # The patient kept the account: signed in, sees the result and downloads the certificate.
    assert User.objects.filter(pk=patient.pk).exists()
    page = client.get("/accounts/security/").content.decode()
    assert 'data-erasure-status="done"' in page
    response = client.get("/accounts/erase/certificate/json/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert json.loads(response.content)["certificate"]["certificate_id"] == str(request.certificate.pk)
    assert client.get("/accounts/erase/certificate/pdf/").content.startswith(b"%PDF")


def test_an_admin_refuses(settings: Any, client: Client, patient: User) -> None:
    settings.ERASURE_AUTO_APPROVE = False
    client.post(ERASE, {"account": "delete", "confirm": "on"})
    request = DeletionRequest.objects.get()
    admin = AdminFactory()
    add_totp(admin)
    login(Client(), admin).post(f"/console/deletion-requests/{request.pk}/refuse/", {"code": "identity"})
    request.refresh_from_db()
    assert (request.status, request.refusal_code, request.decided_by) == ("refused", "identity", admin)
    assert "could not confirm" in client.get("/accounts/security/").content.decode()


def test_a_second_request_while_one_is_open_changes_nothing(settings: Any, client: Client) -> None:
    settings.ERASURE_AUTO_APPROVE = False
    client.post(ERASE, {"account": "delete", "confirm": "on"})
    client.post(ERASE, {"account": "delete", "confirm": "on"})
    assert DeletionRequest.objects.count() == 1


def test_running_twice_reaches_the_same_end(
    client: Client, patient: User, django_capture_on_commit_callbacks: Any
) -> None:
    from lifecycle.erasure import erasure_run

    full_case(patient)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ERASE, {"account": "keep", "confirm": "on"})
    request = DeletionRequest.objects.get()
    erasure_run(request_id=request.pk)
    assert DeletionCertificate.objects.filter(kind="erasure").count() == 1
    assert DeletionRequest.objects.get().status == "done"


def test_a_broker_outage_at_approval_delays_the_erasure_but_never_drops_it(
    client: Client, patient: User, broker_down: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Redis down when the request is approved: the patient's page still answers, the approval
    stands, the daily storage check names the request, and the sweeper carries it out."""
    from datetime import timedelta

    from django.utils import timezone

    from lifecycle.erasure import erasure_sweep
    from secondopinion import invariants

    full_case(patient)
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(ERASE, {"account": "keep", "confirm": "on"})
    assert response.status_code == 302
    request = DeletionRequest.objects.get()
    assert request.status == "approved"
    assert erasure_sweep() == 0  # within the hour its own run may still come
    assert invariants.check(grace=timedelta(0)).items["erasure_not_done"] == [str(request.pk)]

    DeletionRequest.objects.filter(pk=request.pk).update(decided_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert erasure_sweep() == 1
    request.refresh_from_db()
    assert request.status == "done" and request.certificate is not None
    assert "erasure_not_done" not in invariants.check(grace=timedelta(0)).items
