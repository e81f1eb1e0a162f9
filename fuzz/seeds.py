"""Seed corpora from the test corpus (built in code, nothing binary committed): fuzz/work/<target>/."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from fuzz.targets import CIPHERTEXT
from tests.uploads.sanitize import corpus


def seeds() -> dict[str, list[bytes]]:
    dicom = corpus.dicom_bytes()
    return {
        "image": [
            corpus.phone_jpeg(),
            corpus.encode(corpus.page((320, 240)), "PNG"),
            corpus.encode(corpus.page((64, 48)), "JPEG", quality=50),
        ],
        "pdf": [corpus.active_pdf(), corpus.active_pdf(object_streams=True), corpus.plain_pdf()],
        "dicom": [dicom, corpus.dicom_bytes("rtdose.dcm"), corpus.dicom_bytes("JPEG2000.dcm")],
        "zip": [corpus.zip_of({"DICOM/IM0001": dicom, "DICOMDIR": b"\0" * 200, "autorun.inf": b"[autorun]"})],
        "decrypt": [CIPHERTEXT],
    }


def write(root: Path) -> None:
    for target, items in seeds().items():
        folder = root / target
        folder.mkdir(parents=True, exist_ok=True)
        for data in items:
            (folder / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)


if __name__ == "__main__":
    write(Path(sys.argv[1]))
