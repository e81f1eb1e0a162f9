"""Shared helpers of the case tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test import RequestFactory

from accounts.models import User
from audit.context import client, client_of
from audit.models import Action, AuditEvent
from cases.models import Case, ConsentAcceptance, ConsentVersion, Question
from cases.services import consent_text_sha256
from tests.factories import CaseFactory

CANARY = "CANARY-7f3a"


def accept_consent(case: Case, version: ConsentVersion | None = None, language: str = "en") -> ConsentAcceptance:
    version = version or ConsentVersion.current()
    assert version is not None
    return ConsentAcceptance.objects.create(
        case=case, version=version, text_sha256=consent_text_sha256(version.text_for(language)), language=language
    )


def ready_case(patient: User, *, consent: bool = True, question: bool = True, **kwargs: Any) -> Case:
    """A draft that passes submission_problems (the current consent must exist)."""
    case = CaseFactory(patient=patient, **kwargs)
    if question:
        Question.objects.create(case=case, text="Is surgery really needed?")
    if consent:
        accept_consent(case)
    return case


@contextmanager
def serving(*, ip: str = "203.0.113.7", user_agent: str = "pytest-agent") -> Iterator[None]:
    """While a view serves a request from that address and browser: what AuditContextMiddleware
    gives the services (audit/context.py)."""
    token = client.set(client_of(RequestFactory().post("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent)))
    try:
        yield
    finally:
        client.reset(token)


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def origins_since(event_id: int, *, reads: bool = False) -> dict[str, set[tuple[Any, str, str | None, str]]]:
    """Who recorded each kind of event after `event_id` (reads left out unless `reads`): actor, role,
    address, browser."""
    origins: dict[str, set[tuple[Any, str, str | None, str]]] = {}
    events = AuditEvent.objects.filter(id__gt=event_id)
    for event in events if reads else events.exclude(action=Action.READ):
        origins.setdefault(event.event_type, set()).add(
            (event.actor_id, event.actor_role, event.source_ip, event.user_agent)
        )
    return origins


def rows(*forms: dict[str, Any], initial: int = 0) -> dict[str, Any]:
    """A formset POST with the "rows" prefix and its management form."""
    data: dict[str, Any] = {
        "rows-TOTAL_FORMS": str(len(forms)),
        "rows-INITIAL_FORMS": str(initial),
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "1000",
    }
    for i, form in enumerate(forms):
        data.update({f"rows-{i}-{name}": value for name, value in form.items()})
    return data


def step_url(case_id: Any, slug: str) -> str:
    return f"/cases/{case_id}/intake/{slug}/"


# Every page of the intake in order, every free-text field carrying the canary.
INTAKE: list[tuple[str, dict[str, Any]]] = [
    ("urgent", {"flags": ["none"]}),
    ("specialty", {"specialty": "dermatology"}),
    ("country", {"country": "ES"}),
    ("about-you", {"birth_date_0": "17", "birth_date_1": "5", "birth_date_2": "1970", "sex": "female"}),
    ("reason", {"reason": f"{CANARY} reason", "expectations": f"{CANARY} expectations"}),
    (
        "first-opinion",
        {
            "first_diagnosis": f"{CANARY} diagnosis",
            "first_treatment": f"{CANARY} treatment",
            "first_opinion_by": f"{CANARY} by",
            "first_opinion_when_0": "3",
            "first_opinion_when_1": "2024",
        },
    ),
    ("questions", rows({"text": f"{CANARY} question one"}, {"text": f"{CANARY} question two"})),
    (
        "history",
        {"diagnoses": f"{CANARY} diagnoses", "allergies": f"{CANARY} allergies", "family_history": f"{CANARY} family"},
    ),
    (
        "surgeries",
        rows(
            {"what": f"{CANARY} surgery", "centre": f"{CANARY} centre", "when_0": "", "when_1": "6", "when_2": "2019"}
        ),
    ),
    ("medication", rows({"name": f"{CANARY} medicine", "dose": f"{CANARY} dose", "since": f"{CANARY} since"})),
    (
        "timeline",
        rows(
            {
                "what": f"{CANARY} event",
                "symptoms": f"{CANARY} symptoms",
                "response": f"{CANARY} response",
                "when_0": "14",
                "when_1": "2",
                "when_2": "2024",
            }
        ),
    ),
    (
        "measurements",
        rows(
            {
                "site": f"{CANARY} mole",
                "method": "ruler",
                "value": "1.5",
                "unit": "cm",
                "measured_on_0": "10",
                "measured_on_1": "1",
                "measured_on_2": "2025",
            }
        ),
    ),
    ("files", {}),
    ("consent", {"accept": "on"}),
]
