"""A patient exports everything of theirs: a streamed ZIP (files, answers.json, report PDFs,
README) and a FHIR R4 Bundle; after a fresh factor; audited; never another patient's data."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.stepup import SESSION_KEY
from audit.models import AuditEvent
from cases.models import Case, CaseEvent, Medication, Message, Status, Surgery, TimelineEntry
from reports import rendering
from reports.models import RenderStatus, SignedDocument
from tests.cases.helpers import accept_consent
from tests.factories import CaseFactory, PatientFactory, accepted_upload, login, publish_consent_v1, tiny_jpeg
from tests.reports.samples import dicom_sample, sanitized_upload
from tests.reports.signed import case_in_review, signed_document
from uploads.models import Upload
from uploads.services import open_object

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pipeline_keyring")]  # the ring a worker shares

# Patient B's data is made distinctive so the whole export can be searched for it.
B_MARK = "ZEBRA-B-ONLY"


def stepped_up(user: User) -> Client:
    client = login(Client(), user)
    session = client.session
    session[SESSION_KEY] = time.time()
    session.save()
    return client


def _fill_case(case: Case, mark: str) -> None:
    """Every kind of intake answer, a message and a status move, each carrying `mark`."""
    case.reason, case.allergies = f"{mark} reason", f"{mark} allergy"
    case.save()
    Surgery.objects.create(case=case, what=f"{mark} surgery", year=2020)
    Medication.objects.create(case=case, name=f"{mark} medicine", dose="1 a day")
    TimelineEntry.objects.create(case=case, what=f"{mark} event", year=2023, month=5)
    Message.objects.create(case=case, author=case.patient, body=f"{mark} message")
    CaseEvent.objects.create(
        case=case, old_status=Status.DRAFT, new_status=Status.SUBMITTED, actor=case.patient, reason="submitted"
    )


@pytest.fixture
def world(bucket: str) -> dict[str, Any]:
    """Patient A with a draft and a reported case (photo, DICOM, ZIP member, rendered report, a
    second report still rendering); patient B with a case of their own, full of B_MARK."""
    publish_consent_v1()
    reported = case_in_review(questions=2)
    patient = reported.patient
    _fill_case(reported, "alpha")
    accept_consent(reported)
    photo = accepted_upload(reported, tiny_jpeg(), "../../etc/passwd\u202egpj.exe")
    dicom = sanitized_upload(reported, dicom_sample(), "ct.dcm")
    archive = Upload.objects.create(
        case=reported,
        patient_key=photo.patient_key,
        original_name="cd.zip",
        size=10,
        sha256="0" * 64,
        status="accepted",
        kind="archive",
        mime="application/zip",
    )
    member = accepted_upload(reported, tiny_jpeg(50, 50), "photo.jpg")  # same name as another file: made unique
    member.parent = archive
    member.save(update_fields=["parent"])
    twin = accepted_upload(reported, tiny_jpeg(60, 40), "photo.jpg")
    document = signed_document(reported, photos=1)
    rendering.document_render(document_id=document.pk)
    document.refresh_from_db()
    draft = CaseFactory(patient=patient, reason="alpha draft reason")
    pending_case = case_in_review(patient=patient)
    pending = signed_document(pending_case, photos=0, measurements=False)

    other = case_in_review(
        patient=PatientFactory(full_name=f"{B_MARK} Person", email="zebra-b@example.org"),
        specialist=reported.specialist,
        questions=0,
    )
    _fill_case(other, B_MARK)
    b_photo = accepted_upload(other, tiny_jpeg(33, 33), f"{B_MARK}.jpg")
    b_document = signed_document(other, photos=0, summary=f"{B_MARK} summary")
    rendering.document_render(document_id=b_document.pk)
    b_document.refresh_from_db()
    return {
        "patient": patient,
        "reported": reported,
        "draft": draft,
        "photo": photo,
        "dicom": dicom,
        "member": member,
        "twin": twin,
        "document": document,
        "pending": pending,
        "b_patient": other.patient,
        "b_photo": b_photo,
        "b_document": b_document,
    }


def _zip(world: dict[str, Any]) -> tuple[bytes, Any]:
    response = stepped_up(world["patient"]).get(reverse("lifecycle:export_zip"))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    return data, response


def _decrypted(obj: Upload | SignedDocument) -> bytes:
    if isinstance(obj, SignedDocument):
        return b"".join(rendering.open_document(obj))
    return b"".join(open_object(obj))


def test_the_zip_holds_every_kept_file_answers_reports_and_a_readme(world: dict[str, Any]) -> None:
    data, response = _zip(world)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    ref = world["reported"].reference
    files = sorted(n for n in names if n.startswith(f"files/{ref}/"))
    assert files == sorted(
        [
            f"files/{ref}/passwdgpj.exe.jpg",
            f"files/{ref}/ct.dcm",
            f"files/{ref}/photo.jpg",
            f"files/{ref}/photo-2.jpg",
            f"files/{ref}/photo-0.jpg",
        ]
    )  # the last: a key photo
    answers = json.loads(archive.read("answers.json"))
    paths = {f["sha256_as_sent"]: f["path"] for case in answers["cases"] for f in case["files"]}
    for key in ("photo", "dicom", "member", "twin"):
        upload = world[key]
        assert archive.read(paths[upload.sha256]) == _decrypted(upload), key
    document = world["document"]
    pdf = archive.read(f"reports/{ref}-v1.pdf")
    assert pdf == _decrypted(document) and hashlib.sha256(pdf).hexdigest() == document.pdf_sha256
    assert not any(world["pending"].report.case.reference in n for n in names if n.startswith("reports/"))
    assert b"answers.json" in archive.read("README.txt")
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store, private"  # private: added for signed-in users


def test_answers_json_holds_every_case_including_drafts(world: dict[str, Any]) -> None:
    data, _ = _zip(world)
    answers = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("answers.json"))
    assert answers["format"] == 1
    assert answers["patient"]["email"] == world["patient"].email
    by_ref = {c["reference"]: c for c in answers["cases"]}
    assert set(by_ref) == {
        world["reported"].reference,
        world["draft"].reference,
        world["pending"].report.case.reference,
    }
    assert by_ref[world["draft"].reference]["status"] == "draft"
    assert by_ref[world["draft"].reference]["intake"]["reason"] == "alpha draft reason"
    case = by_ref[world["reported"].reference]
    assert case["intake"]["allergies"] == "alpha allergy"
    assert case["questions"] == ["Question 1: is this serious?", "Question 2: is this serious?"]
    assert case["surgeries"] == [{"what": "alpha surgery", "centre": "", "year": 2020, "month": None, "day": None}]
    assert case["medications"][0]["name"] == "alpha medicine"
    assert case["timeline"][0]["what"] == "alpha event"
    assert [m["value_mm"] for m in case["measurements"]] == ["4.00", "4.50", "5.20"]
    assert case["consents"][0]["version"] == 1 and case["consents"][0]["withdrawn_at"] is None
    assert case["messages"] == [
        {"from": "you", "kind": "message", "sent_at": case["messages"][0]["sent_at"], "body": "alpha message"}
    ]
    assert case["status_history"][0]["to"] == "submitted"
    report = case["reports"][0]
    assert report["summary"] == world["document"].report.summary
    assert report["documents"][0]["pdf"] == f"reports/{world['reported'].reference}-v1.pdf"
    pending = by_ref[world["pending"].report.case.reference]["reports"][0]["documents"][0]
    assert (pending["pdf"], pending["pdf_status"]) == (None, RenderStatus.PENDING)


def test_another_patients_data_never_appears(world: dict[str, Any]) -> None:
    data, _ = _zip(world)
    archive = zipfile.ZipFile(io.BytesIO(data))
    everything = data + b"".join(archive.read(n) for n in archive.namelist())
    fhir = b"".join(stepped_up(world["patient"]).get(reverse("lifecycle:export_fhir")).streaming_content)
    b_photo = _decrypted(world["b_photo"])
    b_pdf = _decrypted(world["b_document"])
    for blob in (everything, fhir):
        for needle in (
            B_MARK.encode(),
            b"zebra-b@example.org",
            str(world["b_patient"].pk).encode(),
            b_photo,
            b_pdf[:2000],
            base64.b64encode(b_pdf)[:2000],
            str(world["b_photo"].pk).encode(),
            str(world["b_document"].report.case.pk).encode(),
            world["b_document"].report.case.reference.encode(),
        ):
            assert needle not in blob


def test_the_fhir_bundle_parses_and_links_its_resources(world: dict[str, Any]) -> None:
    from fhir.resources.R4B.bundle import Bundle

    response = stepped_up(world["patient"]).get(reverse("lifecycle:export_fhir"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"].startswith("attachment;")
    raw = b"".join(response.streaming_content)
    bundle = Bundle.model_validate_json(raw)
    assert bundle.type == "collection"
    by_type: dict[str, list[Any]] = {}
    for entry in bundle.entry:
        assert entry.fullUrl.startswith("urn:uuid:")
        by_type.setdefault(entry.resource.get_resource_type(), []).append(entry)
    counts = {kind: len(entries) for kind, entries in by_type.items()}
    assert counts == {
        "Patient": 1,
        "ServiceRequest": 3,
        "Consent": 1,
        "DocumentReference": 5,
        "Observation": 3,
        "DiagnosticReport": 2,
    }
    urls = {e.fullUrl for e in bundle.entry}
    patient_url = by_type["Patient"][0].fullUrl
    for entry in bundle.entry[1:]:
        resource = entry.resource
        subject = getattr(resource, "subject", None) or getattr(resource, "patient", None)
        assert subject.reference == patient_url
        for based_on in getattr(resource, "basedOn", None) or []:
            assert based_on.reference in urls
    requests = {e.resource.identifier[0].value: e.resource for e in by_type["ServiceRequest"]}
    assert requests[world["draft"].reference].status == "draft"
    assert requests[world["reported"].reference].status == "active"
    assert requests[world["reported"].reference].reasonCode[0].text == "alpha reason"
    assert [n.text for n in requests[world["reported"].reference].note] == [
        "Question 1: is this serious?",
        "Question 2: is this serious?",
    ]
    observation = by_type["Observation"][0].resource
    assert observation.valueQuantity.code == "mm" and observation.valueQuantity.system == "http://unitsofmeasure.org"
    assert observation.valueQuantity.value == Decimal("4.00") and observation.bodySite.text == "Left shoulder"
    assert str(observation.effectiveDateTime) == str(date(2024, 1, 1))
    photo = next(
        e.resource
        for e in by_type["DocumentReference"]
        if e.resource.identifier[0].value.endswith(world["dicom"].sha256)
    )
    assert photo.content[0].attachment.contentType == "application/dicom"
    assert photo.content[0].attachment.data is None
    reports = [e.resource for e in by_type["DiagnosticReport"]]
    rendered = next(r for r in reports if r.presentedForm)
    assert rendered.presentedForm[0].data == _decrypted(world["document"])  # fhir.resources decodes base64
    on_the_wire = [
        e["resource"]["presentedForm"][0]["data"] for e in json.loads(raw)["entry"] if "presentedForm" in e["resource"]
    ]
    assert [base64.b64decode(d) for d in on_the_wire] == [_decrypted(world["document"])]
    assert rendered.conclusion == world["document"].report.summary
    assert sum(1 for r in reports if not r.presentedForm) == 1  # the one still rendering


@pytest.mark.parametrize("name", ["lifecycle:export_zip", "lifecycle:export_fhir"])
def test_downloads_need_a_fresh_factor(world: dict[str, Any], name: str) -> None:
    client = login(Client(), world["patient"])
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:step_up"))
    session = client.session
    session[SESSION_KEY] = time.time() - 3600
    session.save()
    assert client.get(reverse(name)).status_code == 302
    assert not AuditEvent.objects.filter(event_type__startswith="export.").exists()


def test_the_step_up_page_leads_back_to_the_download(world: dict[str, Any]) -> None:
    from tests.factories import PASSWORD

    client = login(Client(), world["patient"])
    step_up = client.get(reverse("lifecycle:export_zip"))["Location"]
    response = client.post(step_up, {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("lifecycle:export_zip")


@pytest.mark.parametrize(
    ("name", "event_type"), [("lifecycle:export_zip", "export.zip"), ("lifecycle:export_fhir", "export.fhir")]
)
def test_each_export_is_audited_with_counts_only(world: dict[str, Any], name: str, event_type: str) -> None:
    response = stepped_up(world["patient"]).get(reverse(name))
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(event_type=event_type)
    assert event.actor == world["patient"] and str(event.patient_id) == str(world["patient"].pk)
    assert event.detail == {"cases": 3, "files": 5, "reports": 1}


def test_the_export_page_explains_both_downloads(world: dict[str, Any]) -> None:
    response = login(Client(), world["patient"]).get(reverse("lifecycle:export"))
    assert response.status_code == 200
    content = response.content.decode()
    assert reverse("lifecycle:export_zip") in content and reverse("lifecycle:export_fhir") in content
    assert "answers.json" in content
    security = login(Client(), world["patient"]).get(reverse("accounts:security")).content.decode()
    assert reverse("lifecycle:export") in security


def test_a_patient_without_cases_gets_an_empty_but_valid_export(bucket: str) -> None:
    patient = PatientFactory()
    response = stepped_up(patient).get(reverse("lifecycle:export_zip"))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["README.txt", "answers.json"]
    assert json.loads(archive.read("answers.json"))["cases"] == []


@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("../../x", "image/jpeg", "x.jpg"),
        ("C:\\Users\\me\\scan.pdf", "application/pdf", "scan.pdf"),
        ("a\x00b\r\nc.pdf", "application/pdf", "abc.pdf"),
        ("invoice\u202efdp.exe", "application/pdf", "invoicefdp.exe.pdf"),
        ("scan.heic", "image/jpeg", "scan.jpg"),  # a converted HEIC is a JPEG: named as one
        ("..", "application/pdf", "file.pdf"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 90 + ".pdf"),
        ("informe médico.pdf", "application/pdf", "informe_médico.pdf"),
    ],
)
def test_names_in_the_zip_are_only_names(name: str, mime: str, expected: str) -> None:
    from uploads.services import safe_name

    assert safe_name(name, mime) == expected


def test_names_in_the_zip_are_unique_whatever_the_case() -> None:
    from uploads.services import unique_name

    taken: set[str] = set()
    assert [unique_name(n, taken) for n in ("photo.jpg", "Photo.jpg", "photo.jpg", "notes")] == [
        "photo.jpg",
        "Photo-2.jpg",
        "photo-3.jpg",
        "notes",
    ]
