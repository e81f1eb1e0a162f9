"""`make load` keeps working: bench/load/locustfile.py imports, every path it requests reaches the
view it means, it uploads the way the widget does, and the files it sends are ones we accept."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent

# Run in a child process: importing locust patches the standard library for gevent.
PROBE = """
import json, sys
from pathlib import Path
from bench.load import locustfile as lf

lf.FILES.prepare()
out = Path(sys.argv[1])
(out / "photo.jpg").write_bytes(lf.FILES.photo())
(out / "photo-2.jpg").write_bytes(lf.FILES.photo())
(out / "scan.pdf").write_bytes(lf.FILES.pdf())
print(json.dumps({"routes": lf.ROUTES, "names": {key: lf.route(key, case="C", upload="U") for key in lf.ROUTES}}))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: Any) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("load")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "dir": out}


def test_every_path_reaches_the_view_it_names(probe: dict[str, Any]) -> None:
    for key, (template, view_name) in probe["routes"].items():
        path = template.format(case=uuid.uuid4(), upload=uuid.uuid4())
        assert resolve(path).view_name == view_name, key


def test_requests_are_named_by_route_without_ids(probe: dict[str, Any]) -> None:
    path, name = probe["names"]["photo"]
    assert path == "/specialist/cases/C/photos/U/"
    assert name == "GET /specialist/cases/[id]/photos/[id]/"
    assert probe["names"]["upload_file"][1] == "PUT /cases/[id]/files/upload/file/"


def test_it_uploads_the_way_the_widget_does() -> None:
    widget = (ROOT / "frontend" / "src" / "upload.js").read_text()
    locustfile = (ROOT / "bench" / "load" / "locustfile.py").read_text()
    for header in ('"X-CSRFToken"', "Accept", '"X-File-Name"'):
        assert header in widget
        assert header.strip('"') in locustfile
    assert 'method: "PUT"' in widget and "formData: false" in widget
    assert (
        "data-file-url=\"{% url 'uploads:upload_file' case.pk %}\""
        in (ROOT / "templates" / "uploads" / "_upload_form.html").read_text()
    )


def test_its_files_are_accepted_and_each_is_different(probe: dict[str, Any]) -> None:
    from uploads.sanitize import Sanitized, sanitize

    folder = probe["dir"]
    photo, other, scan = ((folder / name).read_bytes() for name in ("photo.jpg", "photo-2.jpg", "scan.pdf"))
    assert photo != other
    assert 250_000 < len(photo) < 2_200_000
    for data, kind in ((photo, "image"), (scan, "pdf")):
        result = sanitize(data)
        assert isinstance(result, Sanitized) and result.kind == kind
