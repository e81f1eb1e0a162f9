"""HTML to PDF with WeasyPrint, fetching nothing but our own assets (SECURITY.md row 19).

AssetFetcher serves files under static/reports/ and data: images, and refuses everything else
(file:// elsewhere, http(s)://, paths escaping the directory), so markup that reaches a template
can never make the renderer read a local file or call the network."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSETS_DIR = (Path(settings.BASE_DIR) / "static" / "reports").resolve()
ASSETS_URL = ASSETS_DIR.as_uri() + "/"
ASSET_TYPES = {
    ".css": "text/css",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
DATA_TYPES = {"image/png", "image/jpeg", "image/svg+xml"}


class FetchRefused(ValueError):
    """WeasyPrint asked for something that is not one of our assets."""


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """The only URL fetcher our PDFs get: bundled files under static/reports/ and data: images.

    WeasyPrint 70 takes a URLFetcher instance and calls its `fetch(url, headers)`; an exception
    makes it skip the resource (with a warning), so a refused URL is simply not there."""

    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols={"file", "data"}, allow_redirects=False, fail_on_errors=False)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            mime, body = _decode_data_uri(url)
            return URLFetcherResponse(url, body, {"Content-Type": mime})
        if scheme == "file":
            path = asset_path(url)
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": ASSET_TYPES[path.suffix]})
        raise FetchRefused("only bundled assets and data: images are fetched")


def asset_path(url: str) -> Path:
    """The file a file: URL names, if it is one of our assets; FetchRefused otherwise."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost") or parts.query:
        raise FetchRefused("not a local file URL")
    path = Path(url2pathname(unquote(parts.path))).resolve()  # resolves "..", "." and symlinks
    if ASSETS_DIR not in path.parents or path.suffix not in ASSET_TYPES or not path.is_file():
        raise FetchRefused("not one of the bundled report assets")
    return path


def _decode_data_uri(url: str) -> tuple[str, bytes]:
    header, comma, payload = url[len("data:") :].partition(",")
    params = [p.strip().lower() for p in header.split(";")]
    mime = params[0]
    if not comma or mime not in DATA_TYPES:
        raise FetchRefused("only data: images are fetched")
    raw = unquote_to_bytes(payload)
    return mime, base64.b64decode(raw, validate=False) if "base64" in params[1:] else raw


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def html_to_pdf(html: str, *, url_fetcher: URLFetcher | None = None) -> bytes:
    """The PDF of `html`, in memory; relative URLs resolve against the bundled assets.
    `url_fetcher` is for tests that watch what is fetched; it defaults to an AssetFetcher."""
    pdf = HTML(string=html, base_url=ASSETS_URL, url_fetcher=url_fetcher or AssetFetcher()).write_pdf()
    assert pdf is not None
    return bytes(pdf)
