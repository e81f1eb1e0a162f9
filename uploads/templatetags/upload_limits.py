"""The per-type upload limits for the upload widget (templates/uploads/_upload_form.html), which
refuses a file over its type's limit before sending it; the server enforces the same limits."""

from __future__ import annotations

from django import template

from uploads.limits import MB, Limits

register = template.Library()


@register.simple_tag
def upload_limit(kind: str) -> int:
    """The limit in bytes for one file of `kind`: "photo", "pdf", "dicom" or "archive"."""
    limits = Limits.for_case(existing_files=0, existing_bytes=0)
    return int(getattr(limits, kind))


@register.simple_tag
def upload_limit_mb(kind: str) -> int:
    """The same limit in MB, for the hint that says it."""
    return upload_limit(kind) // MB
