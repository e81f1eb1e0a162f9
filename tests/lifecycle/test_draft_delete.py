"""Drafts have a name and can be deleted (before: a patient's list filled with references of
drafts they would never send, with no way to tell them apart or remove them)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cases.models import Case, Status
from core import storage
from tests.factories import CaseFactory, accepted_upload, login

pytestmark = pytest.mark.django_db


def test_a_case_is_started_with_a_name_and_renamed(patient_client: Client, patient_a: Any) -> None:
    patient_client.post(reverse("cases:start"), {"title": "Mole on my back"})
    case = Case.objects.get(patient=patient_a)
    assert case.title == "Mole on my back"
    home = patient_client.get(reverse("cases:patient_home")).content.decode()
    assert "Mole on my back" in home and case.reference in home
    patient_client.post(reverse("cases:title", args=[case.pk]), {"title": "Mole, left shoulder"})
    case.refresh_from_db()
    assert case.title == "Mole, left shoulder"


def test_a_draft_is_deleted_with_its_files_after_a_confirmation(
    patient_client: Client, patient_a: Any, bucket: str
) -> None:
    case = CaseFactory(patient=patient_a, title="Rash")
    upload = accepted_upload(case)
    names = [upload.stored_name, upload.thumb_name]
    assert all(storage.exists(n) for n in names if n)
    home = patient_client.get(reverse("cases:patient_home")).content.decode()
    url = reverse("lifecycle:draft_delete", args=[case.pk])
    assert url in home
    confirm = patient_client.get(url).content.decode()
    assert "Delete this draft?" in confirm and "the 1 file you added" in confirm

    response = patient_client.post(url, follow=True)
    assert "The draft and its files are deleted." in response.content.decode()
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not any(storage.exists(n) for n in names if n)
    assert AuditEvent.objects.filter(event_type="case.purge", entity_id=str(case.pk), actor=patient_a).exists()


def test_a_sent_case_is_not_deleted(patient_client: Client, patient_a: Any) -> None:
    case = CaseFactory(patient=patient_a, status=Status.SUBMITTED)
    response = patient_client.post(reverse("lifecycle:draft_delete", args=[case.pk]), follow=True)
    assert "Only a draft can be deleted" in response.content.decode()
    assert Case.objects.filter(pk=case.pk, status=Status.SUBMITTED).exists()


def test_another_patients_draft_is_not_found(patient_a: Any, patient_b: Any) -> None:
    case = CaseFactory(patient=patient_a)
    response = login(Client(), patient_b).post(reverse("lifecycle:draft_delete", args=[case.pk]))
    assert response.status_code == 404
    assert Case.objects.filter(pk=case.pk).exists()
