from __future__ import annotations

from datetime import date
from typing import Any

import factory
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, SpecialistProfile, Specialty, User
from cases.models import Case

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Test Person {n}")
    role = Role.PATIENT
    email_verified = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


class PatientFactory(UserFactory):
    role = Role.PATIENT
    birth_date = date(1970, 5, 17)
    sex = "female"


class SpecialistFactory(UserFactory):
    role = Role.SPECIALIST
    profile = factory.RelatedFactory("tests.factories.SpecialistProfileFactory", factory_related_name="user")


class SpecialistProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SpecialistProfile

    licence_number = factory.Sequence(lambda n: f"LIC-{n:05d}")
    specialties = factory.LazyFunction(lambda: [Specialty.DERMATOLOGY])
    jurisdictions = factory.LazyFunction(lambda: ["ES"])


class AdminFactory(UserFactory):
    role = Role.ADMIN


def add_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def totp_code(device: TOTPDevice, offset: int = 0) -> str:
    """The code an authenticator app shows now (offset in 30-second steps)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def next_totp_code(device: TOTPDevice) -> str:
    """A code the device will still accept after earlier ones were used.

    django-otp refuses a step at or before the last one used and accepts one step either side
    of now (with the drift it learnt), so pick the first unused step in that window, waiting for
    the clock if the window holds none yet.
    """
    import time

    from django_otp.oath import TOTP

    device.refresh_from_db()
    while True:
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        now = totp.t()
        step = max(now - 1, (device.last_t or -1) + 1)
        if step <= now + 1:
            totp.time = totp.time + (step - now) * device.step
            return f"{totp.token():0{device.digits}d}"
        time.sleep(1)


def login(client: Client, user: User, *, verified: bool = True) -> Client:
    """Sign in; for users with a device, `verified` marks the second factor as done."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if verified and device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    patient = factory.SubFactory(PatientFactory)
    specialty = "dermatology"
    red_flags_answered = True
    reason = "I am not sure about the diagnosis."
    first_diagnosis = "Benign mole."
    country = "ES"


def tiny_jpeg(width: int = 40, height: int = 30) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def accepted_upload(case: Case, data: bytes | None = None, name: str = "photo.jpg") -> Any:
    """An upload as the pipeline leaves it: encrypted copy and thumbnail in storage, row accepted."""
    import hashlib

    from uploads.keys import patient_key_for
    from uploads.models import Upload, UploadStatus
    from uploads.services import STORED_PURPOSE, THUMB_PURPOSE, store_bytes

    data = data or tiny_jpeg()
    upload = Upload(
        case=case,
        patient_key=patient_key_for(case.patient),
        uploaded_by=case.patient,
        original_name=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        status=UploadStatus.ACCEPTED,
        kind="image",
        mime="image/jpeg",
        stored_size=len(data),
    )
    upload.stored_wrapped_key = store_bytes(upload.patient_key, upload.id, STORED_PURPOSE, upload.stored_name, data)
    upload.thumb_wrapped_key = store_bytes(upload.patient_key, upload.id, THUMB_PURPOSE, upload.thumb_name, data)
    upload.save()
    return upload


def publish_consent_v1() -> Any:
    """The consent the data migration publishes (transactional tests flush it away)."""
    import importlib

    from cases.models import ConsentVersion

    migration = importlib.import_module("cases.migrations.0002_consent_v1")
    version, _ = ConsentVersion.objects.get_or_create(
        version=1, defaults={"text_en": migration.TEXT_EN, "text_es": migration.TEXT_ES}
    )
    return version
