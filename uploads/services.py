"""Upload workflows: record what the handler stored, validate it in a worker, serve it back."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from accounts.models import PatientKey
from cases.models import Case
from cases.models import Status as CaseStatus
from core import storage
from core.claims import Claims
from core.crypto import DecryptionError, StreamEncryptor, decrypt_stream
from uploads.handler import RAW_PURPOSE, ReceivedFile
from uploads.keys import new_data_key, unwrap_data_key
from uploads.limits import Limits
from uploads.models import Upload, UploadStatus

if TYPE_CHECKING:
    from accounts.models import User
    from uploads.sanitize import Sanitized

log = logging.getLogger(__name__)
STORED_PURPOSE = "stored"
THUMB_PURPOSE = "thumb"
CLAIM_TIMEOUT = timedelta(seconds=settings.WORK_CLAIM_TIMEOUT)  # a claimed upload not finished by then is taken again
LOST_AFTER = timedelta(seconds=settings.WORK_LOST_AFTER)  # a received upload nobody claimed: its message was lost
MAX_ATTEMPTS = 5

# What the patient sees for each rejection: the reason, then what to do.
REJECTIONS: dict[str, tuple[Any, Any]] = {
    # What it is, for files of a type we don't accept (uploads.filetypes.refused_kind).
    "word_document": (
        _("This is a Word document. We cannot accept Word files."),
        _("Save it as PDF (in Word: File, Save as, PDF) and send the PDF."),
    ),
    "spreadsheet": (
        _("This is a spreadsheet (Excel or similar). We cannot accept spreadsheets."),
        _("Save it as PDF (File, Save as, PDF) and send the PDF."),
    ),
    "presentation": (
        _("This is a presentation (PowerPoint or similar). We cannot accept presentations."),
        _("Save it as PDF (File, Save as, PDF) and send the PDF."),
    ),
    "office_document": (
        _("This is a Microsoft Office document (Word, Excel or PowerPoint). We cannot accept Office files."),
        _("Save it as PDF (File, Save as, PDF) and send the PDF."),
    ),
    "other_image": (
        _("This is an image in a format we cannot accept (such as GIF, TIFF, BMP or WebP)."),
        _("Save it as JPEG or PNG, or take a screenshot of it, and send that."),
    ),
    "video": (
        _("This is a video. We cannot accept videos."),
        _("Take photos instead and send those. If the specialist needs the video, they will ask you."),
    ),
    "audio": (
        _("This is a sound recording. We cannot accept sound recordings."),
        _("Write what matters in your answers or in a message instead."),
    ),
    "web_page": (
        _("This is a web page or a web graphic (HTML or SVG). We cannot accept web pages."),
        _("Open it in your browser, print it to PDF and send the PDF."),
    ),
    "text": (
        _("This is a plain text file. We cannot accept text files."),
        _("Save it as PDF and send the PDF, or copy the text into a message."),
    ),
    "program": (
        _("This is a program, not a photo, document or scan."),
        _("Do not open it. Send photos as JPEG, PNG or HEIC, documents as PDF and scans as DICOM."),
    ),
    "other_archive": (
        _("This is a compressed file (such as RAR, 7z or gzip) that we cannot open."),
        _("Send the files themselves, or a ZIP of the imaging folder."),
    ),
    "unsupported_type": (
        _("This file is not a photo, PDF or DICOM file that we can open."),
        _("Send photos as JPEG, PNG or HEIC, documents as PDF and scans as DICOM."),
    ),
    "dicomdir": (
        _("This is the index of an imaging CD (DICOMDIR), not an image, so we do not keep it."),
        _("You do not need to do anything: the images it lists are sent as files of their own."),
    ),
    "empty": (_("The file is empty."), _("Check the file on your device and send it again.")),
    "image_too_large": (
        _("The image is too large to open safely."),
        _("Send a smaller version, for example a phone photo."),
    ),
    "image_corrupt": (
        _("The image is damaged or incomplete."),
        _("Take the photo again or export it again, then send it."),
    ),
    "pdf_encrypted": (
        _("The PDF needs a password to open."),
        _("Open it, save a copy without a password (or print it to a new PDF) and send that."),
    ),
    "pdf_corrupt": (
        _("The PDF is damaged and cannot be opened."),
        _("Download or scan the document again and send it."),
    ),
    "pdf_active_content": (
        _("The PDF contains active content we cannot remove."),
        _("Print it to a new PDF and send that."),
    ),
    "dicom_corrupt": (
        _("The imaging file is damaged or is not DICOM."),
        _("Copy the files again from the CD or USB stick."),
    ),
    "zip_bomb": (
        _("The ZIP file expands to far more than it should."),
        _("Send the folder of images itself instead of a ZIP."),
    ),
    "zip_unsafe_path": (
        _("The ZIP file contains unsafe file paths."),
        _("Send the folder of images itself instead of a ZIP."),
    ),
    "zip_corrupt": (_("The ZIP file is damaged."), _("Make the ZIP again, or send the folder of images itself.")),
    "zip_encrypted": (_("The ZIP file is protected with a password."), _("Send the folder of images itself.")),
    "zip_no_dicom": (
        _("The ZIP file contains no imaging (DICOM) files."),
        _("Send photos and documents one by one, not in a ZIP: a ZIP is only for a folder of imaging files."),
    ),
    "malware": (_("The file contains malware."), _("Do not open it. Ask whoever gave it to you for a clean copy.")),
    "tampered": (_("The file was damaged while it was being stored."), _("Send it again.")),
    "failed": (_("We could not check this file."), _("Send it again. If it happens again, contact us.")),
}


def limits_for(case: Case) -> Limits:
    counted = Upload.objects.filter(case=case).counted()
    total = counted.aggregate(total=Sum("size"))["total"] or 0
    return Limits.for_case(existing_files=counted.count(), existing_bytes=total)


@transaction.atomic
def upload_receive(*, actor: User, case: Case, patient_key: PatientKey, received: list[ReceivedFile]) -> list[Upload]:
    """Record files the handler has stored (encrypted) and queue their validation."""
    from uploads.tasks import validate_upload_task

    uploads = []
    for f in received:
        upload = Upload.objects.create(
            id=f.object_id,
            case=case,
            patient_key=patient_key,
            uploaded_by=actor,
            original_name=f.name or "file",
            declared_type=f.content_type or "",
            size=f.size or 0,
            sha256=f.sha256,
            raw_wrapped_key=f.wrapped_key,
        )
        audit.record(
            actor=actor,
            event_type="upload.create",
            action=audit.Action.CREATE,
            entity_type="Upload",
            entity_id=str(upload.pk),
            case_id=case.pk,
            patient_id=case.patient_id,
            detail={"size": f.size},
        )
        # robust: a broker outage must not lose the upload; the sweeper queues it again later.
        transaction.on_commit(lambda pk=str(upload.pk): validate_upload_task.delay(pk), robust=True)  # type: ignore[misc]
        uploads.append(upload)
    return uploads


# Validation work: a received upload waits; a worker holds it while scanning (core/claims.py).
WORK = Claims(
    model=Upload,
    waiting=Q(status=UploadStatus.RECEIVED),
    held=Q(status=UploadStatus.SCANNING),
    queued_at="created_at",
    timeout=CLAIM_TIMEOUT,
    lost_after=LOST_AFTER,
    max_attempts=MAX_ATTEMPTS,
    on_claim={"status": UploadStatus.SCANNING},
)


def _claim(upload_id: uuid.UUID | str) -> Upload | None:
    """Take the upload for this worker: a conditional UPDATE, so two workers never both do it."""
    return Upload.objects.select_related("patient_key", "case").get(pk=upload_id) if WORK.claim(upload_id) else None


def _read_raw(upload: Upload) -> bytes:
    key = unwrap_data_key(upload.patient_key, upload.id, RAW_PURPOSE, bytes(upload.raw_wrapped_key or b""))
    data = b"".join(decrypt_stream(key, upload.id, RAW_PURPOSE, storage.read(upload.raw_name)))
    if hashlib.sha256(data).hexdigest() != upload.sha256:
        raise ValueError("stored bytes do not match what was received")
    return data


def store_bytes(patient_key: PatientKey, object_id: uuid.UUID, purpose: str, name: str, data: bytes) -> bytes:
    """Encrypt `data` under a fresh data key and write it; returns the wrapped key."""
    key, wrapped = new_data_key(patient_key, object_id, purpose)
    encryptor = StreamEncryptor(key, object_id, purpose)
    writer = storage.open_writer(name)
    try:
        for start in range(0, len(data), storage.PART_SIZE):
            writer.write(encryptor.update(data[start : start + storage.PART_SIZE]))
        writer.write(encryptor.finalize())
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return wrapped


def _keep(upload: Upload, result: Sanitized) -> dict[str, Any]:
    """Store the sanitised copy (and thumbnail) of `upload`; the fields to save on its row."""
    fields: dict[str, Any] = {
        "kind": result.kind,
        "mime": result.mime,
        "hints": result.hints,
        "info": result.info,
        "stored_size": len(result.data),
        "stored_wrapped_key": store_bytes(
            upload.patient_key, upload.id, STORED_PURPOSE, upload.stored_name, result.data
        ),
        "thumb_wrapped_key": None,
    }
    if result.thumbnail:
        fields["thumb_wrapped_key"] = store_bytes(
            upload.patient_key, upload.id, THUMB_PURPOSE, upload.thumb_name, result.thumbnail
        )
    return fields


def upload_process(*, upload_id: uuid.UUID | str) -> None:
    """Validate one upload and keep only its sanitised copy. Safe to run twice or after a crash:
    object names are fixed per upload, so a re-run overwrites rather than duplicates."""
    upload = _claim(upload_id)
    if upload is None:
        return
    try:
        _validate(upload)
    except Exception:
        # Let the retry (or the sweeper) take it again at once instead of after CLAIM_TIMEOUT.
        Upload.objects.filter(pk=upload.pk, status=UploadStatus.SCANNING).update(status=UploadStatus.RECEIVED)
        raise


def _validate(upload: Upload) -> None:
    from uploads import clamd
    from uploads.sanitize import Rejected, sanitize

    try:
        data = _read_raw(upload)
        if clamd.scan(data):
            raise Rejected("malware")
        result = sanitize(data)
    except Rejected as e:
        _finish(upload, {"status": UploadStatus.REJECTED, "reject_code": e.code}, members=[])
        return
    except (DecryptionError, ValueError):  # our own stored bytes failed their integrity check
        _finish(upload, {"status": UploadStatus.REJECTED, "reject_code": "tampered"}, members=[])
        return
    results = result if isinstance(result, list) else [result]
    if isinstance(result, list):  # a ZIP of DICOM: each member becomes an upload of its own
        members = [_member(upload, i, r) for i, r in enumerate(results)]
        fields = {
            "status": UploadStatus.ACCEPTED,
            "kind": "archive",
            "mime": "application/zip",
            "hints": result.hints,
            "info": result.info,
        }
    else:
        members = []
        fields = {"status": UploadStatus.ACCEPTED, **_keep(upload, result)}
    _finish(upload, fields, members=members)


def _member(parent: Upload, index: int, result: Sanitized) -> Upload:
    member = Upload(
        id=uuid.uuid5(parent.id, str(index)),
        case=parent.case,
        patient_key=parent.patient_key,
        uploaded_by=parent.uploaded_by,
        parent=parent,
        original_name=f"{parent.original_name} #{index + 1}",
        size=len(result.data),
        sha256=hashlib.sha256(result.data).hexdigest(),
        status=UploadStatus.ACCEPTED,
        processed_at=timezone.now(),
    )
    for name, value in _keep(member, result).items():
        setattr(member, name, value)
    return member


def _finish(upload: Upload, fields: dict[str, Any], *, members: list[Upload]) -> None:
    with transaction.atomic():
        Upload.objects.filter(pk=upload.pk).update(processed_at=timezone.now(), raw_wrapped_key=None, **fields)
        Upload.objects.filter(parent=upload).delete()  # a re-run replaces members
        Upload.objects.bulk_create(members)
        audit.record(
            event_type="upload.validate",
            action=audit.Action.EXECUTE,
            entity_type="Upload",
            entity_id=str(upload.pk),
            case_id=upload.case_id,
            patient_id=upload.case.patient_id,
            outcome=audit.Outcome.SUCCESS if fields["status"] == UploadStatus.ACCEPTED else audit.Outcome.MINOR_FAILURE,
            detail={"status": fields["status"], "code": fields.get("reject_code", "")},
        )
        transaction.on_commit(lambda: storage.delete(upload.raw_name))


# Until the specialist starts the review the patient may take back any file; after that only a
# rejected one (nothing of it is kept), so the specialist never loses a file they have looked at.
# A second round (after a report) counts as started: the first specialist saw the files.
BEFORE_REVIEW = {CaseStatus.DRAFT, CaseStatus.SUBMITTED, CaseStatus.TRIAGE, CaseStatus.ASSIGNED}


class NotRemovable(Exception):
    """The file stays; `reason` says why, in words for the patient."""

    def __init__(self, reason: Any) -> None:
        super().__init__(str(reason))
        self.reason = reason


def _removal_refused(upload: Upload, case: Case) -> Any:
    """Why the patient may not remove `upload` now, or None if they may."""
    if upload.parent_id is not None:  # a DICOM file taken from a ZIP goes with its ZIP
        return _("Remove the ZIP file this image came from.")
    if upload.status == UploadStatus.SCANNING:  # a worker holds it: its copies are being written
        return _("This file is being checked. Wait a moment, then remove it.")
    if upload.status == UploadStatus.REJECTED:
        return None
    if case.status not in BEFORE_REVIEW or case.round > 1:
        return _("The specialist has started looking at your files, so this file can no longer be removed.")
    if case.on_legal_hold:
        return _("This file cannot be removed now. Contact us if it was sent by mistake.")
    return None


def upload_removable(upload: Upload) -> bool:
    """Whether the file list offers to remove `upload`."""
    return _removal_refused(upload, upload.case) is None


def upload_remove(*, actor: User, upload: Upload) -> None:
    """Remove a file the patient sent, with every object stored for it (the ZIP's imaging files
    too). The rows go in one transaction with the audit event, under a lock on the case so the
    review cannot start meanwhile, and only if no worker has claimed the file since; the objects
    go once that has committed (as after validation, `_finish`), so a failure can leave only
    orphans, which the storage check finds, never a row without its file."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=upload.case_id)
        current = Upload.objects.filter(pk=upload.pk).first()
        if current is None:  # removed already (a second press)
            return
        if (reason := _removal_refused(current, case)) is not None:
            raise NotRemovable(reason)
        removed = [current, *Upload.objects.filter(parent=current).only("id")]
        if not Upload.objects.filter(pk=current.pk, status=current.status).delete()[0]:
            raise NotRemovable(_("This file is being checked. Wait a moment, then remove it."))
        audit.record(
            actor=actor,
            event_type="upload.delete",
            action=audit.Action.DELETE,
            entity_type="Upload",
            entity_id=str(current.pk),
            case_id=case.pk,
            patient_id=case.patient_id,
            detail={"status": current.status, "kind": current.kind, "size": current.size, "files": len(removed)},
        )
        names = [name for u in removed for name in (u.raw_name, u.stored_name, u.thumb_name)]
        transaction.on_commit(functools.partial(_delete_objects, names), robust=True)


def _delete_objects(names: list[str]) -> None:
    for name in names:  # a missing object is fine: only the kept copies of some uploads exist
        storage.delete(name)


def upload_fail(*, upload_id: uuid.UUID | str) -> None:
    """After the last retry: tell the patient, keep nothing."""
    upload = Upload.objects.select_related("case").get(pk=upload_id)
    if not upload.is_final:
        _finish(upload, {"status": UploadStatus.REJECTED, "reject_code": "failed"}, members=[])


def uploads_sweep() -> dict[str, int]:
    """Recover lost work: re-queue uploads whose task message was lost or whose worker died."""
    from uploads.tasks import validate_upload_task

    requeued = 0
    for pk in WORK.stuck():
        validate_upload_task.delay(str(pk))
        requeued += 1
    failed = 0
    for pk in WORK.exhausted():
        upload_fail(upload_id=pk)
        failed += 1
    return {"requeued": requeued, "failed": failed}


def open_object(upload: Upload, *, thumbnail: bool = False) -> Iterator[bytes]:
    """Decrypt the kept copy (or its thumbnail) chunk by chunk."""
    purpose, name, wrapped = (
        (THUMB_PURPOSE, upload.thumb_name, upload.thumb_wrapped_key)
        if thumbnail
        else (STORED_PURPOSE, upload.stored_name, upload.stored_wrapped_key)
    )
    key = unwrap_data_key(upload.patient_key, upload.id, purpose, bytes(wrapped or b""))
    return decrypt_stream(key, upload.id, purpose, storage.read(name))


def _series_uid(upload: Upload) -> str:
    if upload.status == UploadStatus.ACCEPTED and upload.kind == "dicom" and isinstance(upload.info, dict):
        return str(upload.info.get("series_uid") or "")
    return ""


def _rows(uploads: list[Upload]) -> list[Upload | Series]:
    """The file list's rows: each upload, except that the DICOM files of a series that has two or
    more become one Series row, where the first of them was."""
    by_series: dict[str, list[Upload]] = {}
    for upload in uploads:
        if uid := _series_uid(upload):
            by_series.setdefault(uid, []).append(upload)
    rows: list[Upload | Series] = []
    shown: set[str] = set()
    for upload in uploads:
        uid = _series_uid(upload)
        members = by_series.get(uid, [])
        if len(members) < 2:
            rows.append(upload)
        elif uid not in shown:
            shown.add(uid)
            members.sort(key=lambda m: (int(m.info.get("instance_number") or 0), m.created_at, m.original_name))
            rows.append(Series(uid, members))
    return rows


def file_list_context(case: Case) -> dict[str, Any]:
    """What templates/uploads/_file_list.html needs: the files the patient sent, with status, and
    the rows to show them in (a DICOM series is one row)."""
    uploads = list(Upload.objects.filter(case=case, parent__isnull=True).prefetch_related("members"))
    for upload in uploads:
        upload.case = case  # for upload_removable, without a query per row
    return {
        "uploads": uploads,
        "removable": {u.pk for u in uploads if upload_removable(u)},
        "rows": _rows(uploads),
        "rejections": REJECTIONS,
        "processing": any(not u.is_final for u in uploads),
    }


def accepted_kinds(case: Case) -> set[str]:
    """Kinds ("image", "pdf", "dicom") of the case's accepted files."""
    return set(
        Upload.objects.filter(case=case, status=UploadStatus.ACCEPTED)
        .exclude(kind="archive")
        .values_list("kind", flat=True)
    )


def receipt_files(case: Case) -> list[dict[str, Any]]:
    """Each file the patient sent, as the receipt lists it: name, size, SHA-256, status."""
    return [
        {"name": u.original_name, "size": u.size, "sha256": u.sha256, "status": u.status}
        for u in Upload.objects.filter(case=case, parent__isnull=True).order_by("created_at", "original_name")
    ]


class _Sink:
    """A write-only file for zipfile that hands out what was written (zipfile streams to it)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        parts, self.parts = self.parts, []
        yield from parts


def zip_stream(members: Iterable[tuple[str, Callable[[], Iterable[bytes]]]]) -> Iterator[bytes]:
    """A ZIP of (name, opener) members, written as it streams out: each opener is called in turn
    and its chunks (decrypted in memory) go straight through, so memory stays flat and nothing
    is written to disk. Names must already be safe (see `safe_name`)."""
    import zipfile

    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        for name, opener in members:
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in opener():
                    member.write(chunk)
                    yield from sink.drain()
            yield from sink.drain()
    yield from sink.drain()


EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
    "application/dicom": (".dcm", ".dicom"),
}
_UNSAFE = re.compile(r"[^\w.()+,-]+")
_CONVERTED = {"heic", "heif", "hif"}  # kept as JPEG: the name's extension is replaced, not kept


def kept_name(name: str, mime: str) -> str:
    """The name of the copy we keep: "IMG_0042.HEIC" is a JPEG now, so "IMG_0042.jpg"; a name
    without the extension of what we keep gets it added."""
    expected = EXTENSIONS.get(mime)
    stem, dot, ext = name.rpartition(".")
    if not expected or (dot and f".{ext.lower()}" in expected):
        return name
    if dot and stem and ext.lower() in _CONVERTED:
        return stem + expected[0]
    return name + expected[0]


def safe_name(name: str, mime: str = "") -> str:
    """A file name that is only a name: no directories, control or direction characters, or
    characters other systems refuse; at most 100 characters; ending in the extension of what we
    keep (a HEIC photo is kept as JPEG)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] not in "CZ" or c == " ")
    name = kept_name(_UNSAFE.sub("_", name).strip("._ ") or "file", mime)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    return f"{stem[:90]}.{ext[:9]}" if ext else stem[:100]


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name` with -2, -3... before the extension if it is taken; recorded as taken."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, number = name, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem}-{number}.{ext}" if ext else f"{stem}-{number}"
    taken.add(candidate.lower())
    return candidate


def kept_files(cases: Iterable[Case]) -> QuerySet[Upload]:
    """Every accepted file of the cases whose copy we keep (DICOM members of a ZIP included)."""
    return (
        Upload.objects.filter(case__in=cases, status=UploadStatus.ACCEPTED)
        .exclude(kind="archive")
        .select_related("patient_key")
        .order_by("created_at", "original_name", "id")
    )


def backup_zip(case: Case) -> Iterator[bytes]:
    """Every accepted file of the case, decrypted into a ZIP as it streams out (memory stays flat)."""
    taken: set[str] = set()
    return zip_stream(
        (unique_name(safe_name(upload.original_name, upload.mime), taken), functools.partial(open_object, upload))
        for upload in kept_files([case])
    )


# The review workspace: files grouped for a specialist, photos for <img> tags, DICOM frames.

INLINE_IMAGE_TYPES = {"image/jpeg", "image/png"}  # what the sanitiser writes (HEIC is kept as JPEG)
FRAME_MAX_PIXELS = 25_000_000  # one rendered frame; the sanitiser already refused larger ones


class FrameUnavailable(Exception):
    """The frame does not exist, or no decoder here handles the file's compression."""


class Series:
    """The DICOM files of one series (SeriesInstanceUID), in instance order: one row of the file
    list, one viewer in the review workspace."""

    is_series = True

    def __init__(self, uid: str, instances: list[Upload]) -> None:
        self.uid, self.instances = uid, instances

    @property
    def members(self) -> list[Upload]:
        return self.instances

    @property
    def size(self) -> int:
        return sum(m.size for m in self.instances)

    @property
    def created_at(self) -> Any:
        return min(m.created_at for m in self.instances)

    @property
    def representative(self) -> Upload | None:
        return self.preview

    @property
    def modality(self) -> str:
        return str(self.instances[0].info.get("modality", ""))

    @property
    def images(self) -> int:
        return sum(frame_count(u) for u in self.instances)

    @property
    def first(self) -> Upload:
        return self.instances[0]

    @property
    def preview(self) -> Upload | None:
        """The instance whose thumbnail stands for the series: the middle one that has one."""
        with_thumb = [u for u in self.instances if u.thumb_wrapped_key]
        return with_thumb[len(with_thumb) // 2] if with_thumb else None


def is_inline_image(upload: Upload) -> bool:
    """Only our own re-encoded photos may be shown by the browser (an <img>, never a page)."""
    return (
        upload.status == UploadStatus.ACCEPTED
        and upload.kind == "image"
        and upload.mime in INLINE_IMAGE_TYPES
        and bool(upload.stored_wrapped_key)
    )


def frame_count(upload: Upload) -> int:
    return int(upload.info.get("frames") or 0) if upload.kind == "dicom" else 0


def _instance_order(upload: Upload) -> tuple[int, Any, str]:
    return (int(upload.info.get("instance_number") or 0), upload.created_at, upload.original_name)


def dicom_series(uploads: list[Upload]) -> list[Series]:
    """Accepted DICOM files grouped by series; a file without a series UID is a series alone."""
    grouped: dict[str, list[Upload]] = {}
    for u in uploads:
        if u.status == UploadStatus.ACCEPTED and u.kind == "dicom":
            grouped.setdefault(str(u.info.get("series_uid") or u.pk), []).append(u)
    return [Series(uid, sorted(members, key=_instance_order)) for uid, members in grouped.items()]


def review_files(case: Case) -> dict[str, Any]:
    """The case's files as the review workspace shows them, from one query."""
    uploads = list(Upload.objects.filter(case=case).order_by("created_at", "original_name"))
    accepted = [u for u in uploads if u.status == UploadStatus.ACCEPTED]
    return {
        "photos": [u for u in accepted if is_inline_image(u)],
        "documents": [u for u in accepted if u.kind == "pdf"],
        "series": dicom_series(accepted),
        "not_accepted": [u for u in uploads if u.parent_id is None and u.status != UploadStatus.ACCEPTED],
        "rejections": REJECTIONS,
    }


def series_of(upload: Upload) -> Series:
    """The series `upload` belongs to, with the other files of its case in that series."""
    uid = upload.info.get("series_uid")
    if not uid:
        return Series(str(upload.pk), [upload])
    members = Upload.objects.filter(
        case_id=upload.case_id, status=UploadStatus.ACCEPTED, kind="dicom", info__series_uid=uid
    )
    return dicom_series(list(members))[0]


def series_images(series: Series) -> list[tuple[Upload, int]]:
    """Every image of the series in viewing order: (file, frame index), multi-frame files in turn."""
    return [(u, index) for u in series.instances for index in range(frame_count(u))]


def dicom_frame_png(upload: Upload, index: int) -> bytes:
    """One frame of a kept DICOM file as an 8-bit PNG. The file is decrypted into memory (never
    to disk; at most the DICOM upload limit) and only the frame asked for is decoded: pydicom
    reads that frame's bytes from the buffer rather than copying all the pixel data."""
    import io

    import pydicom
    from PIL import Image
    from pydicom.pixels import pixel_array

    rows, columns = int(upload.info.get("rows") or 0), int(upload.info.get("columns") or 0)
    if (
        upload.status != UploadStatus.ACCEPTED
        or not 0 <= index < frame_count(upload)
        or rows * columns > FRAME_MAX_PIXELS
    ):
        raise FrameUnavailable(upload.pk)
    buffer = io.BytesIO(b"".join(open_object(upload)))
    try:
        ds = pydicom.dcmread(buffer, stop_before_pixels=True)  # the LUT and window attributes
        buffer.seek(0)
        pixels = _display_pixels(pixel_array(buffer, index=index), ds)
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, format="PNG")
    except Exception as e:  # a compression no decoder here handles, or odd LUTs/shapes
        raise FrameUnavailable(upload.pk) from e
    return out.getvalue()


def _display_pixels(arr: Any, ds: Any) -> Any:
    """8-bit grey or RGB pixels as a viewer would show them: modality LUT, then the file's
    window (the same for every frame, so stepping through a series keeps its brightness)."""
    import numpy as np
    from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut

    from uploads.sanitize import to_8bit

    photometric = str(ds.get("PhotometricInterpretation", ""))
    if photometric == "PALETTE COLOR":
        return to_8bit(apply_color_lut(arr, ds))
    if not photometric.startswith("MONOCHROME"):
        return arr if arr.dtype == np.uint8 else to_8bit(arr)
    arr = apply_modality_lut(arr, ds)
    window = _window(ds)
    if window:
        low, high = window
        pixels = (np.clip((arr - low) / (high - low), 0.0, 1.0) * 255).astype(np.uint8)
    else:
        pixels = to_8bit(apply_voi_lut(arr, ds))
    return 255 - pixels if photometric == "MONOCHROME1" else pixels  # 0 is white in MONOCHROME1


def _window(ds: Any) -> tuple[float, float] | None:
    """The first window (centre, width) of the file as (low, high), if it has a usable one."""
    from pydicom.multival import MultiValue

    try:
        center, width = ds.WindowCenter, ds.WindowWidth
        center = float(center[0] if isinstance(center, MultiValue | list) else center)
        width = float(width[0] if isinstance(width, MultiValue | list) else width)
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return (center - width / 2, center + width / 2) if width > 1 else None
