"""Files as the pipeline leaves them, made by running real samples through the real sanitiser."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pydicom
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from cases.models import Case
from uploads.keys import patient_key_for
from uploads.models import Upload, UploadStatus
from uploads.sanitize import Sanitized, sanitize
from uploads.services import STORED_PURPOSE, THUMB_PURPOSE, store_bytes


def dicom_sample(name: str = "CT_small.dcm", *, instance: int | None = None, series_uid: str | None = None) -> bytes:
    """One of pydicom's bundled files, optionally as another instance of a given series."""
    path = get_testdata_file(name)
    assert path, name
    data = Path(str(path)).read_bytes()
    if instance is None and series_uid is None:
        return data
    ds = pydicom.dcmread(io.BytesIO(data))
    if instance is not None:
        ds.InstanceNumber = instance
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if series_uid is not None:
        ds.SeriesInstanceUID = series_uid
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def photo_sample(
    width: int = 640, height: int = 480, colour: tuple[int, int, int] = (200, 120, 90), fmt: str = "JPEG"
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt)
    return out.getvalue()


def sanitized_upload(case: Case, data: bytes, name: str, **fields: Any) -> Upload:
    """An accepted upload holding what uploads.sanitize kept of `data`, encrypted in storage."""
    result = sanitize(data)
    assert isinstance(result, Sanitized)
    upload = Upload(
        case=case,
        patient_key=patient_key_for(case.patient),
        uploaded_by=case.patient,
        original_name=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        status=UploadStatus.ACCEPTED,
        kind=result.kind,
        mime=result.mime,
        info=result.info,
        hints=result.hints,
        stored_size=len(result.data),
        **fields,
    )
    upload.stored_wrapped_key = store_bytes(
        upload.patient_key, upload.id, STORED_PURPOSE, upload.stored_name, result.data
    )
    if result.thumbnail:
        upload.thumb_wrapped_key = store_bytes(
            upload.patient_key, upload.id, THUMB_PURPOSE, upload.thumb_name, result.thumbnail
        )
    upload.save()
    return upload


def rejected_upload(case: Case, name: str, code: str = "unsupported_type") -> Upload:
    return Upload.objects.create(
        case=case,
        patient_key=patient_key_for(case.patient),
        uploaded_by=case.patient,
        original_name=name,
        size=10,
        sha256="0" * 64,
        status=UploadStatus.REJECTED,
        reject_code=code,
    )
