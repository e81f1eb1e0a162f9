"""Demo accounts for `make run`. Safe to run again: nothing is duplicated."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, SpecialistProfile, Specialty, User
from cases.models import Case, CaseEvent, ConsentAcceptance, ConsentVersion, Question, Status
from cases.services import consent_text_sha256
from core.models import ClinicDetails

DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS: list[dict[str, Any]] = [
    {"email": "patient@example.org", "full_name": "Demo Patient", "role": Role.PATIENT},
    {
        "email": "dermatologist@example.org",
        "full_name": "Demo Dermatologist",
        "role": Role.SPECIALIST,
        "specialties": [Specialty.DERMATOLOGY],
        "licence": "DERM-0001",
        "jurisdictions": ["ES", "MX", "US"],
    },
    {
        "email": "oncologist@example.org",
        "full_name": "Demo Oncologist",
        "role": Role.SPECIALIST,
        "specialties": [Specialty.ONCOLOGY],
        "licence": "ONC-0001",
        "jurisdictions": ["ES", "MX", "US"],
    },
    {"email": "admin@example.org", "full_name": "Demo Administrator", "role": Role.ADMIN},
]
# Made-up contact details (reserved example domain, a number in no real plan) for the demo clinic.
DEMO_CLINIC = {
    "name": "Demo Second Opinion Clinic S.L.",
    "address": "Calle de Ejemplo 1\n28000 Madrid\nSpain",
    "email": "help@example.org",
    "phone": "+34 900 000 000",
    "hours": "Monday to Friday, 9:00 to 17:00 (Madrid time)",
    "dpo_name": "Demo Data-Protection Officer",
    "dpo_email": "dpo@example.org",
}


class Command(BaseCommand):
    help = "Create demo accounts (one patient, two specialists, one admin) and print their logins."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD})")
        for spec in DEMO_USERS:
            user = User.objects.filter(email=spec["email"]).first()
            if user is None:
                user = User.objects.create_user(
                    spec["email"], DEMO_PASSWORD, full_name=spec["full_name"], role=spec["role"], email_verified=True
                )
            line = f"  {spec['role']:<11} {spec['email']}"
            if spec["role"] == Role.SPECIALIST:
                SpecialistProfile.objects.get_or_create(
                    user=user,
                    defaults={
                        "licence_number": spec["licence"],
                        "specialties": list(spec["specialties"]),
                        "jurisdictions": spec["jurisdictions"],
                    },
                )
                line += f"  ({', '.join(spec['specialties'])})"
            self.stdout.write(line)
            if spec["role"] != Role.PATIENT:
                device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
                    user=user, name="Authenticator app", confirmed=True
                )
                secret = base64.b32encode(device.bin_key).decode().rstrip("=")
                self.stdout.write(f"      TOTP secret: {secret}")
                self.stdout.write(f"      otpauth URI: {device.config_url}")
        self._demo_case()
        ClinicDetails.objects.get_or_create(pk=ClinicDetails.SINGLETON, defaults=DEMO_CLINIC)

    def _demo_case(self) -> None:
        """One submitted dermatology case of the demo patient, waiting in the dermatologist's queue."""
        patient = User.objects.get(email="patient@example.org")
        version = ConsentVersion.current()
        if version is None or Case.objects.filter(patient=patient).exists():
            return
        now = timezone.now()
        case = Case.objects.create(
            patient=patient,
            status=Status.SUBMITTED,
            specialty=Specialty.DERMATOLOGY,
            country="ES",
            red_flags_answered=True,
            reason="A mole on my back has grown over the last year.",
            first_diagnosis="Benign mole (naevus); watch and wait.",
            first_opinion_by="GP",
            submitted_at=now,
            due_at=now + timedelta(hours=72),
        )
        Question.objects.create(case=case, position=0, text="Should the mole be removed?")
        ConsentAcceptance.objects.create(
            case=case, version=version, language="en", text_sha256=consent_text_sha256(version.text_en)
        )
        CaseEvent.objects.create(case=case, old_status=Status.DRAFT, new_status=Status.SUBMITTED, actor=patient)
        self.stdout.write(f"  demo case {case.reference} is waiting in the dermatologist's queue")
