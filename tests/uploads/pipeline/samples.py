"""What the pipeline tests send and look for: real files built in code, a multipart body built
by hand (so file names reach the server exactly as an attacker would send them), and the
bucket as the S3 server holds it."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pikepdf
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageDraw
from pydicom.data import get_testdata_file

GPS = {1: "N", 2: (40.0, 26.0, 46.0), 3: "W", 4: (79.0, 58.0, 56.0)}
KEY = re.compile(r"(raw|files|thumbs)/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _page(size: tuple[int, int]) -> Image.Image:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for y in range(20, size[1] - 20, 18):
        draw.text((12, y), "Hemoglobin 13.2 g/dL  Leukocytes 6.1", fill=(20, 20, 120))
    return img


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **params)
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (640, 480)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = GPS  # the GPS IFD
    data = encode(_page(size), "JPEG", exif=exif.tobytes(), quality=90)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "the test photo must carry GPS"
    return data


def png(size: tuple[int, int] = (320, 240)) -> bytes:
    return encode(_page(size), "PNG")


def large_png(width: int = 4000, height: int = 3000) -> bytes:
    """12 MP that takes a worker a second or two to decode, re-encode and thumbnail."""
    y, x = np.indices((height, width))
    pixels = np.stack([(x * 7 + y * 3) % 256, (x ^ y) % 256, (x * y) % 251], axis=-1).astype(np.uint8)
    return encode(Image.fromarray(pixels), "PNG", compress_level=1)


def heic() -> bytes | None:
    """A HEIC photo, or None when this pillow_heif build cannot encode."""
    try:
        import pillow_heif

        out = io.BytesIO()
        pillow_heif.from_pillow(_page((320, 240))).save(out, quality=80)
    except Exception:
        return None
    return out.getvalue()


def pdf(pages: int = 1, *, padding: int = 0) -> bytes:
    document = pikepdf.new()
    for _ in range(pages):
        document.add_blank_page()
    if padding:  # an incompressible stream, so the file spans several encryption chunks
        stream = pikepdf.Stream(document, np.random.default_rng(1).bytes(padding))
        document.Root.Padding = document.make_indirect(stream)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def dicom(name: str = "CT_small.dcm") -> bytes:
    return Path(str(get_testdata_file(name))).read_bytes()


def dicom_folder_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("CD/DICOM/IM0001", dicom("CT_small.dcm"))
        archive.writestr("CD/DICOM/IM0002", dicom("MR_small.dcm"))
        archive.writestr("CD/README.TXT", "Viewer on this CD.")
    return out.getvalue()


def dicom_zip_of_many(count: int) -> bytes:
    """A CD export of `count` CT slices (the same test slice with distinct instance UIDs)."""
    import pydicom
    from pydicom.uid import generate_uid

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for number in range(count):
            ds = pydicom.dcmread(io.BytesIO(dicom()))
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            ds.InstanceNumber = number + 1
            body = io.BytesIO()
            ds.save_as(body, enforce_file_format=True)
            archive.writestr(f"CD/DICOM/IM{number:04d}", body.getvalue())
    return out.getvalue()


# Sending


@dataclass
class Part:
    name: str
    data: bytes
    content_type: str = "application/octet-stream"
    rfc2231: bool = False  # send the name as filename*=UTF-8''..., which carries any character


def multipart(parts: list[Part], fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    boundary = f"pipeline-{uuid.uuid4().hex}"
    body = bytearray()
    for key, value in (fields or {}).items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
    for part in parts:
        filename = f"filename*=UTF-8''{quote(part.name, safe='')}" if part.rfc2231 else f'filename="{part.name}"'
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="files"; {filename}\r\n'.encode()
        body += f"Content-Type: {part.content_type}\r\n\r\n".encode() + part.data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


def upload_url(case: Any) -> str:
    return reverse("uploads:upload", args=[case.pk])


def post_files(
    client: Client,
    case: Any,
    parts: list[Part],
    *,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body, content_type = multipart(parts, fields)
    return client.post(upload_url(case), data=body, content_type=content_type, headers=headers or {})


def jpeg_part(name: str = "photo.jpg", data: bytes | None = None) -> Part:
    return Part(name, data if data is not None else jpeg_with_gps(), "image/jpeg")


# The bucket


def bucket_objects(s3: Any, bucket: str) -> dict[str, bytes]:
    objects: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            try:
                objects[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            except s3.exceptions.NoSuchKey:  # deleted between the listing and now (a worker's clean-up)
                continue
    return objects


def unfinished_multipart_uploads(s3: Any, bucket: str) -> list[str]:
    return [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def empty_bucket(s3: Any, bucket: str) -> None:
    for key in unfinished_multipart_uploads(s3, bucket):
        for u in s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=u["UploadId"])
    for key in bucket_objects(s3, bucket):
        s3.delete_object(Bucket=bucket, Key=key)
