from __future__ import annotations

from io import BytesIO

import pydicom
import pytest
from PIL import Image

from tests.uploads.sanitize import corpus
from uploads.sanitize import Rejected, Sanitized, sanitize


def _dicom(data: bytes, **kwargs: int) -> Sanitized:
    result = sanitize(data, **kwargs)
    assert isinstance(result, Sanitized)
    return result


def test_it_zeroes_a_polyglot_preamble_and_keeps_the_dataset() -> None:
    original = corpus.dicom_bytes()
    polyglot = b"MZ" + b"\x90" * 126 + original[128:]  # CVE-2019-11687: also a PE header
    result = _dicom(polyglot)
    assert (result.kind, result.mime) == ("dicom", "application/dicom")
    assert result.data[:128] == bytes(128)
    assert result.data[128:132] == b"DICM"
    before = pydicom.dcmread(BytesIO(original))
    after = pydicom.dcmread(BytesIO(result.data))
    assert after.SOPInstanceUID == before.SOPInstanceUID
    assert after.PatientName == before.PatientName  # identifiers stay: the specialist needs them
    assert after.PixelData == before.PixelData


def test_it_reports_technical_facts_only() -> None:
    info = _dicom(corpus.dicom_bytes()).info
    assert info["modality"] == "CT"
    assert info["series_uid"] and info["study_uid"]
    assert (info["rows"], info["columns"], info["frames"]) == (128, 128, 1)
    assert not {"patient", "name", "birth", "PatientName"} & {k.lower() for k in info}


def test_it_makes_a_thumbnail() -> None:
    thumb = Image.open(BytesIO(_dicom(corpus.dicom_bytes()).thumbnail or b""))
    assert thumb.format == "JPEG"
    assert max(thumb.size) <= 320
    assert thumb.getextrema()[1] > 0  # not a black square


def test_it_thumbnails_the_middle_frame_of_a_multiframe_object() -> None:
    result = _dicom(corpus.dicom_bytes("rtdose.dcm"))
    assert result.info["frames"] == 15
    assert result.thumbnail


def test_it_keeps_a_file_it_cannot_thumbnail() -> None:
    result = _dicom(corpus.dicom_bytes("JPEGLSNearLossless_08.dcm"))  # JPEG-LS: no decoder installed
    assert result.thumbnail is None
    assert result.data[:128] == bytes(128)


def test_it_rejects_uncompressed_pixel_data_that_is_cut_short() -> None:
    with pytest.raises(Rejected, match="dicom_corrupt"):
        sanitize(corpus.dicom_bytes("MR_truncated.dcm"))


def test_it_caps_decoded_pixel_memory() -> None:
    with pytest.raises(Rejected, match="image_too_large"):
        sanitize(corpus.dicom_bytes(), max_pixels=128 * 128 - 1)


def test_it_rejects_a_header_claiming_absurd_frames() -> None:
    ds = pydicom.dcmread(BytesIO(corpus.dicom_bytes()))
    ds.NumberOfFrames = 2_000_000
    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    with pytest.raises(Rejected, match="image_too_large"):
        sanitize(buf.getvalue())


@pytest.mark.filterwarnings("ignore:End of file reached:UserWarning")
def test_it_rejects_a_mangled_dataset() -> None:
    data = bytearray(corpus.dicom_bytes())
    data[140:400] = b"\xff" * 260  # file meta group trashed
    with pytest.raises(Rejected, match="dicom_corrupt"):
        sanitize(bytes(data))
