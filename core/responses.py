"""Headers for every response that carries a file (SECURITY.md row 17): the browser never renders
it as a page of ours, never sniffs another type, runs nothing in it, and keeps no copy."""

from __future__ import annotations

from typing import TypeVar

from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

# django-csp's middleware leaves a Content-Security-Policy header that is already set alone, so
# this one, not the pages' policy, reaches the browser.
SANDBOX = "sandbox; default-src 'none'"

R = TypeVar("R", bound=HttpResponseBase)


def attachment(response: R, filename: str) -> R:
    """A download: saved under `filename`, never opened in the browser."""
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return _never_rendered(response)


def inline_image(response: R) -> R:
    """An image for an <img> tag. Only our own re-encoded JPEG/PNG is ever sent inline; opened as
    a page it is still sandboxed, never sniffed and never cached."""
    response["Content-Disposition"] = "inline"
    return _never_rendered(response)


def _never_rendered(response: R) -> R:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    response["Cache-Control"] = "no-store"
    return response
