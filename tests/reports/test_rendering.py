"""Rendering in-process: the URL fetcher (SECURITY.md row 19), markup printed as text, the
document's language, the draft watermark, key photos of this case only, and the render, failure
and sweep services (the worker runs them in tests/reports/test_rendering_worker.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetchingError, fetch

from core.pdf import ASSETS_URL, AssetFetcher, FetchRefused, data_uri
from reports import rendering
from reports.models import RenderStatus, SignedDocument
from tests.factories import CaseFactory, accepted_upload
from tests.reports import pdftools
from tests.reports.signed import XSS, case_in_review, draft_report, photo, signed_document
from uploads.models import Upload, UploadStatus

HOSTILE_URLS = [
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "http://169.254.169.254/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://example.org/tracker.png",
    "ftp://example.org/x",
    "data:text/html,<script>alert(1)</script>",
    "data:application/pdf;base64,JVBERi0=",
    ASSETS_URL + "../../secondopinion/settings.py",
    ASSETS_URL + "..%2f..%2fsecondopinion%2fsettings.py",
    ASSETS_URL + "../../static/reports/../../../etc/passwd",
    ASSETS_URL + "missing.css",
    ASSETS_URL + "report.css?x=1",
    Path(settings.BASE_DIR, "static", "css", "site.css").as_uri(),  # ours, but not a report asset
]


class RecordingFetcher(AssetFetcher):
    """The real fetcher, noting every URL WeasyPrint asks for and whether it was refused."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, bool]] = []

    def fetch(self, url: str, headers: Any = None) -> Any:
        try:
            response = super().fetch(url, headers)
        except FetchRefused:
            self.asked.append((url, False))
            raise
        self.asked.append((url, True))
        return response


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_the_fetcher_refuses_anything_but_our_assets(url: str) -> None:
    fetcher = AssetFetcher()
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)
    with pytest.raises(URLFetchingError), fetch(fetcher, url):  # as WeasyPrint calls it: a skipped resource
        pass


def test_the_fetcher_serves_the_stylesheet_and_data_images() -> None:
    fetcher = AssetFetcher()
    css = fetcher.fetch(ASSETS_URL + "report.css")
    assert css.content_type == "text/css" and b"@page" in css.read()
    png = fetcher.fetch(data_uri("image/png", b"\x89PNG fake"))
    assert (png.content_type, png.read()) == ("image/png", b"\x89PNG fake")
    svg = fetcher.fetch("data:image/svg+xml;charset=utf-8,%3Csvg%3E%3C%2Fsvg%3E")
    assert svg.read() == b"<svg></svg>"


def test_raw_markup_handed_to_weasyprint_still_fetches_nothing() -> None:
    """Defence in depth: even markup that escaped the template gets nothing from our fetcher."""
    fetcher = RecordingFetcher()
    html = (
        '<link rel="attachment" href="file:///etc/passwd"><link rel="stylesheet" href="http://169.254.169.254/">'
        '<p>x</p><img src="file:///etc/passwd"><img src="http://169.254.169.254/">'
        '<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd" width="9" height="9"/></svg>'
    )
    pdf = HTML(string=html, base_url=ASSETS_URL, url_fetcher=fetcher).write_pdf()
    assert pdf is not None
    assert fetcher.asked and all(not served for _, served in fetcher.asked)
    assert "root:x:0" not in pdftools.text(bytes(pdf))
    with pdftools.open_pdf(bytes(pdf)) as parsed:
        assert len(parsed.attachments) == 0


def test_markup_in_a_report_is_printed_as_text_and_never_fetched(db: Any, bucket: str) -> None:
    document = signed_document(photos=1, **XSS)
    fetcher = RecordingFetcher()
    pdf = rendering.render_pdf(
        document.content,
        language="en",
        url_fetcher=fetcher,
        signature=rendering.Signature(document.content_sha256, document.verification_code),
    )

    asked = [url for url, _ in fetcher.asked]
    assert not [u for u in asked if "passwd" in u or "169.254" in u]
    assert all(url.startswith(("data:image/", ASSETS_URL)) for url in asked), asked
    assert all(served for _, served in fetcher.asked)
    flat = pdftools.flat(pdf)
    for typed in XSS.values():
        assert "".join(typed.split()) in flat
    assert "root:x:0" not in flat
    html = rendering.render_html(document.content, language="en")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_spanish_pdf_has_spanish_headings_and_labels(db: Any, bucket: str) -> None:
    document = signed_document(photos=0)
    pdf = rendering.render_pdf(
        document.content,
        language="es",
        signature=rendering.Signature(document.content_sha256, document.verification_code),
    )
    text = pdftools.text(pdf)
    for spanish in (
        "Resumen",
        "Hallazgos",
        "Recomendaciones",
        "Pruebas sugeridas",
        "Limitaciones de una revisión a distancia",
        "Moderada",
        "Dermatología",
        "España",
    ):
        assert spanish in text, spanish
    assert "Summary" not in text and "Findings" not in text


def test_a_draft_is_watermarked_and_has_no_verification_code(db: Any, bucket: str) -> None:
    document = signed_document(photos=0)
    pdf = rendering.render_pdf(document.content, language="en", draft=True)
    text = pdftools.text(pdf)
    assert "DRAFT – NOT SIGNED" in text
    assert document.verification_code not in pdftools.flat(pdf)
    assert "Verification code" not in text and "SHA-256" not in text


def test_only_accepted_photos_of_this_case_are_embedded(db: Any, bucket: str) -> None:
    case = case_in_review()
    report = draft_report(case, photos=2, measurements=False)
    other_case_photo = accepted_upload(CaseFactory(), photo(9))
    rejected = accepted_upload(case, photo(8))
    Upload.objects.filter(pk=rejected.pk).update(status=UploadStatus.REJECTED)
    report.key_photos += [
        str(other_case_photo.pk),
        str(rejected.pk),
        "not-a-uuid",
        "00000000-0000-4000-8000-000000000000",
    ]
    report.save(update_fields=["key_photos"])
    from reports.services import report_sign

    document = report_sign(report=report, signer=case.specialist)
    html = rendering.render_html(document.content, language="en")
    assert html.count('src="data:image/jpeg;base64,') == 2


def test_rendering_stores_the_pdf_and_a_second_run_changes_nothing(db: Any, bucket: str) -> None:
    document = signed_document(photos=1)
    rendering.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert (document.render_status, document.render_attempts) == (RenderStatus.READY, 1)
    before = (document.rendered_at, document.pdf_sha256, bytes(document.pdf_wrapped_key or b""))

    rendering.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert (document.rendered_at, document.pdf_sha256, bytes(document.pdf_wrapped_key or b"")) == before
    assert document.render_attempts == 1


def test_a_failed_render_is_marked_failed(db: Any, bucket: str) -> None:
    document = signed_document(photos=0)
    rendering.document_render_failed(document_id=document.pk)
    document.refresh_from_db()
    assert document.render_status == RenderStatus.FAILED
    rendering.document_render(document_id=document.pk)  # a late retry leaves it alone
    document.refresh_from_db()
    assert document.render_status == RenderStatus.FAILED and not document.pdf_sha256


def test_the_sweeper_requeues_lost_documents_and_fails_exhausted_ones(db: Any, bucket: str) -> None:
    fresh = signed_document(photos=0)  # its message may still be queued
    lost = signed_document(photos=0)
    exhausted = signed_document(photos=0)
    long_ago = timezone.now() - rendering.LOST_AFTER - timedelta(minutes=1)
    SignedDocument.objects.filter(pk=lost.pk).update(signed_at=long_ago)
    SignedDocument.objects.filter(pk=exhausted.pk).update(signed_at=long_ago, render_attempts=rendering.MAX_ATTEMPTS)

    assert rendering.documents_sweep() == {"requeued": 1, "failed": 1}  # tasks run in-process here
    states = dict(SignedDocument.objects.values_list("pk", "render_status"))
    assert states == {fresh.pk: RenderStatus.PENDING, lost.pk: RenderStatus.READY, exhausted.pk: RenderStatus.FAILED}


def test_the_sweeper_runs_on_the_beat_schedule() -> None:
    from reports.tasks import sweep_documents_task
    from secondopinion.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-report-documents"]
    assert entry["task"] == sweep_documents_task.name in app.tasks
