"""Helpers of the queue and assignment rows, in Python because they run 50 times a page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def file_counts(case: Any) -> str:
    """ "2 photos, 1 PDF" from the counts queue.with_file_counts annotates."""
    parts = []
    if case.photos:
        parts.append(ngettext("%(n)d photo", "%(n)d photos", case.photos) % {"n": case.photos})
    if case.pdfs:
        parts.append(ngettext("%(n)d PDF", "%(n)d PDFs", case.pdfs) % {"n": case.pdfs})
    if case.dicoms:
        parts.append(ngettext("%(n)d DICOM image", "%(n)d DICOM images", case.dicoms) % {"n": case.dicoms})
    return ", ".join(parts) or _("No files")


@register.simple_tag
def due(case: Any, now: datetime, at_risk_before: datetime) -> SafeString | str:
    """The due time, marked overdue or at risk."""
    if case.due_at is None:
        return "—"
    mark = ""
    if case.due_at < now:
        mark = format_html(' <span class="tag tag--overdue">{}</span>', _("Overdue"))
    elif case.due_at < at_risk_before:
        mark = format_html(' <span class="tag tag--at-risk">{}</span>', _("At risk"))
    return format_html(
        '<time datetime="{}">{}</time>{}', date_filter(case.due_at, "c"), date_filter(case.due_at, "j M Y, H:i"), mark
    )
