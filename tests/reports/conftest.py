from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from cases.models import Case, ConsentAcceptance, Question, Status
from tests.factories import CaseFactory, SpecialistFactory, add_totp, publish_consent_v1

QUESTION = "Should I have the mole removed or can we wait and watch it?"


def waiting_case(*, due_in: timedelta = timedelta(hours=48), consent: bool = True, question: str = QUESTION,
                 **kwargs: Any) -> Case:
    """A submitted case in the open queue (dermatology, Spain, like the default specialist)."""
    now = timezone.now()
    fields: dict[str, Any] = {"status": Status.SUBMITTED, "submitted_at": now, "due_at": now + due_in, **kwargs}
    case = CaseFactory(**fields)
    if question:
        Question.objects.create(case=case, text=question)
    if consent:
        ConsentAcceptance.objects.create(case=case, version=publish_consent_v1(), text_sha256="0" * 64,
                                         language="en")
    return case


def specialist_with(**profile: Any) -> User:
    user = SpecialistFactory(**{f"profile__{k}": v for k, v in profile.items()})
    add_totp(user)
    return user


@pytest.fixture
def consent(db: Any) -> Any:
    return publish_consent_v1()

# The shared key ring (a worker subprocess has it too), the S3 client, and a fresh bucket per test.
from tests.uploads.pipeline.conftest import bucket, keyring, s3  # noqa: E402, F401 - fixtures
