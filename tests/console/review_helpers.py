"""Shared set-up for the audit review tests: a case, its staff, and their audited reads."""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.test import Client

from audit import Action, AuditEvent, Outcome, record
from cases.models import Case, Status
from tests.factories import AdminFactory, CaseFactory, PatientFactory, SpecialistFactory, add_totp, login


def staff(factory: Any, **kwargs: Any) -> Any:
    user = factory(**kwargs)
    add_totp(user)
    return user


def reviewed_case(**kwargs: Any) -> Case:
    specialist = kwargs.pop("specialist", None) or staff(SpecialistFactory, full_name="Dr Ana Ruiz")
    return CaseFactory(
        patient=kwargs.pop("patient", None) or PatientFactory(),
        status=Status.IN_REVIEW,
        specialist=specialist,
        **kwargs,
    )


def read(case: Case, user: Any, event_type: str = "case.read", **kwargs: Any) -> AuditEvent:
    """An audited read of the case by `user`, as the case views record it."""
    return record(
        event_type=event_type,
        action=Action.READ,
        actor=user,
        entity_type="Case",
        entity_id=case.pk,
        case_id=case.pk,
        patient_id=case.patient_id,
        **kwargs,
    )


def break_glass(case: Case, admin: Any) -> AuditEvent:
    return read(case, admin, "case.break_glass", detail={"break_glass_id": uuid.uuid4()})


def denial(case: Case, user: Any) -> AuditEvent:
    return read(case, user, "case.read.denied", outcome=Outcome.MINOR_FAILURE)


def admin_client(*, stepped_up: bool = False, **kwargs: Any) -> tuple[Client, Any]:
    admin = staff(AdminFactory, **kwargs)
    client = login(Client(), admin)
    if stepped_up:
        session = client.session
        session["stepup_at"] = time.time()
        session.save()
    return client, admin
