"""Accounts and cases for the load test, made through the app's own services and models.

Called by bench/load/run.py inside its Django process, on a fresh database. Names are generated
("Load Patient 07"); nothing here is anyone's data.

- 50 patients, each with one dermatology case (Spain) with a question and the current consent:
  20 in review, 2 for each specialist, with a complete draft report (the first of the two is
  signed during the run); 15 submitted and waiting in the queue; 15 drafts. Every case accepts
  uploads (any open state does). The 35 sent cases have 3 accepted photos and 1 PDF each.
- 10 dermatologists licensed in Spain, each with a confirmed TOTP device.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

PASSWORD = "load-test-password-2026"
PATIENTS = 50
SPECIALISTS = 10
IN_REVIEW = 2 * SPECIALISTS
SUBMITTED = 15
PHOTOS_PER_CASE = 3
SPECIALTY = "dermatology"
COUNTRY = "ES"


@dataclass
class SeedFile:
    """A sanitised file (what a worker keeps) to store again for each seeded upload."""

    name: str
    size: int
    sha256: str
    result: Any  # uploads.sanitize.Sanitized


def _seed_files() -> tuple[SeedFile, SeedFile]:
    from PIL import Image

    from uploads.sanitize import Sanitized, sanitize

    photo = io.BytesIO()
    Image.effect_noise((800, 600), 40).convert("RGB").save(photo, "JPEG", quality=85)
    pdf = io.BytesIO()
    Image.new("L", (850, 1100), 240).save(pdf, "PDF", resolution=100)
    files = []
    for name, data in (("photo.jpg", photo.getvalue()), ("letter.pdf", pdf.getvalue())):
        result = sanitize(data)
        assert isinstance(result, Sanitized)
        files.append(SeedFile(name, len(data), hashlib.sha256(data).hexdigest(), result))
    return files[0], files[1]


def _accepted_upload(case: Any, seed: SeedFile, name: str) -> Any:
    """An upload as the pipeline leaves it: sanitised copy (and thumbnail) stored, row accepted."""
    from django.utils import timezone

    from uploads.keys import patient_key_for
    from uploads.models import Upload, UploadStatus
    from uploads.services import STORED_PURPOSE, THUMB_PURPOSE, store_bytes

    result = seed.result
    upload = Upload(
        case=case,
        patient_key=patient_key_for(case.patient),
        uploaded_by=case.patient,
        original_name=name,
        declared_type=result.mime,
        size=seed.size,
        sha256=seed.sha256,
        status=UploadStatus.ACCEPTED,
        kind=result.kind,
        mime=result.mime,
        hints=result.hints,
        info=result.info,
        stored_size=len(result.data),
        processed_at=timezone.now(),
    )
    upload.stored_wrapped_key = store_bytes(
        upload.patient_key, upload.id, STORED_PURPOSE, upload.stored_name, result.data
    )
    if result.thumbnail:
        upload.thumb_wrapped_key = store_bytes(
            upload.patient_key, upload.id, THUMB_PURPOSE, upload.thumb_name, result.thumbnail
        )
    upload.save(force_insert=True)
    return upload


def _user(email: str, full_name: str, role: str, password_hash: str) -> Any:
    """An account with the seed's password (hashed once for all: Argon2 is slow on purpose)."""
    from accounts.models import User

    user = User.objects.create_user(email, None, full_name=full_name, role=role, email_verified=True)
    user.password = password_hash
    user.save(update_fields=["password"])
    return user


def _specialists(password_hash: str) -> list[dict[str, Any]]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Role, SpecialistProfile

    out = []
    for n in range(1, SPECIALISTS + 1):
        user = _user(f"load-specialist-{n:02d}@example.org", f"Load Specialist {n:02d}", Role.SPECIALIST, password_hash)
        SpecialistProfile.objects.create(
            user=user, licence_number=f"LOAD-{n:04d}", specialties=[SPECIALTY], jurisdictions=[COUNTRY]
        )
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        out.append(
            {
                "user": user,
                "number": n - 1,
                "email": user.email,
                "password": PASSWORD,
                "totp_key": device.key,
                "cases": [],
            }
        )
    return out


def _complete_draft(case: Any, specialist: Any, photo_ids: list[str]) -> None:
    from reports.services import report_draft_for, report_save_draft

    report = report_draft_for(case=case, author=specialist)
    fields = {
        "summary": "Load test summary.",
        "findings": "Load test findings.",
        "diagnosis_agreement": "confirmed",
        "treatment_agreement": "confirmed",
        "certainty": "high",
        "certainty_reason": "Load test.",
        "recommendations": "Load test recommendations.",
        "in_person": "no",
        "limitations": "No physical examination.",
        "key_photos": photo_ids[:1],
    }
    answers = {q.pk: "Load test answer." for q in case.questions.all()}
    report_save_draft(actor=specialist, report=report, fields=fields, answers=answers)


def seed() -> dict[str, list[dict[str, Any]]]:
    """Make the accounts and cases; returns what the locustfile needs (LOAD_ACCOUNTS)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role
    from cases.models import Case, ConsentVersion, Question
    from cases.services import case_claim, case_create, case_submit, consent_accept

    version = ConsentVersion.current()
    assert version is not None, "the consent migration did not run"
    photo, letter = _seed_files()
    password_hash = make_password(PASSWORD)
    specialists = _specialists(password_hash)
    patients = []
    for n in range(PATIENTS):
        patient = _user(
            f"load-patient-{n + 1:02d}@example.org", f"Load Patient {n + 1:02d}", Role.PATIENT, password_hash
        )
        case = case_create(patient=patient)
        Case.objects.filter(pk=case.pk).update(
            specialty=SPECIALTY,
            country=COUNTRY,
            red_flags_answered=True,
            reason="Load test case.",
            first_diagnosis="Benign mole.",
            first_opinion_by="GP",
        )
        case.refresh_from_db()
        Question.objects.create(case=case, position=0, text="Is the first diagnosis right?")
        consent_accept(actor=patient, case=case, version=version, language="en")
        photos: list[str] = []
        if n < IN_REVIEW + SUBMITTED:
            photos = [str(_accepted_upload(case, photo, f"photo-{i + 1}.jpg").pk) for i in range(PHOTOS_PER_CASE)]
            _accepted_upload(case, letter, "letter.pdf")
            case_submit(actor=patient, case=case)
        if n < IN_REVIEW:
            lead = specialists[n % SPECIALISTS]
            case.refresh_from_db()
            case_claim(case=case, specialist=lead["user"])
            case.refresh_from_db()
            _complete_draft(case, lead["user"], photos)
            lead["cases"].append({"case": str(case.pk), "photos": photos, "sign": n < SPECIALISTS})
        patients.append({"email": patient.email, "password": PASSWORD, "case": str(case.pk)})
    for s in specialists:
        del s["user"]
    return {"patients": patients, "specialists": specialists}
