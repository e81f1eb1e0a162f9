"""Read PDFs the way a reader would, without writing them to disk: poppler through pipes."""

from __future__ import annotations

import io
import subprocess

import pikepdf


def text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode("utf-8")


def flat(pdf: bytes) -> str:
    """The text with all whitespace removed (long values may wrap)."""
    return "".join(text(pdf).split())


def first_page_png(pdf: bytes) -> bytes:
    return subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", "-"],
        input=pdf,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def open_pdf(pdf: bytes) -> pikepdf.Pdf:
    return pikepdf.Pdf.open(io.BytesIO(pdf))


def image_count(pdf: bytes) -> int:
    with open_pdf(pdf) as document:
        return sum(len(page.get_images()) for page in document.pages)
