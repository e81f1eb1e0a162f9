"""Benchmark of the report PDF (issue 5): render time of a 5-page report with a measurement chart
and 6 key photos, through reports.rendering.render_pdf (template, chart, QR code, WeasyPrint with
our asset-only URL fetcher), against plain WeasyPrint on the same HTML
(`HTML(string=html, base_url=...).write_pdf()`, default fetcher, nothing else).

- cold: the first render in a fresh Python process (imports and Django set-up timed apart);
- warm: the median (and min/max) of repeated renders in one process.

Standalone: needs no database, Redis or S3 (the photos are handed in as thumbnails, the way the
worker passes what it decrypted), and writes nothing but the results. Usage:

    .venv/bin/python bench/pdf.py [results.md]     # default bench/results/pdf.md

BENCH_PDF_ROUNDS (default 10) and BENCH_PDF_COLD (default 3 fresh processes) change the rounds.
"""

from __future__ import annotations

import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_PDF_ROUNDS", "10"))
COLD_RUNS = int(os.environ.get("BENCH_PDF_COLD", "3"))
PARAGRAPH = (
    "The lesion on the left shoulder was photographed in daylight at three visits. Its borders "
    "are regular, the pigment network is symmetric and there are no regression structures, "
    "blue-white veil or atypical vessels in the photos provided. "
)


def content() -> dict[str, Any]:
    """A snapshot shaped like reports.snapshot.build's, long enough for about five pages."""
    text = PARAGRAPH * 4 + "\n\n" + PARAGRAPH * 3
    person = {
        "name": "Dr Benchmark Signer",
        "specialties": ["dermatology"],
        "licence": "LIC-00042",
        "jurisdictions": ["ES", "PT"],
    }
    start = date(2024, 1, 1)
    return {
        "format": 1,
        "version": 2,
        "round": 1,
        "time_zone": "Europe/Madrid",
        "case": {
            "reference": "BENCH234",
            "specialty": "dermatology",
            "country": "ES",
            "patient_name": "Bench Patient",
            "submitted_at": "2025-01-10T10:00:00+00:00",
            "first_opinion": {
                "diagnosis": "Atypical naevus.",
                "treatment": "Excision.",
                "by": "GP",
                "month": 11,
                "year": 2024,
            },
        },
        "report": {
            "summary": text,
            "findings": PARAGRAPH * 4,
            "diagnosis_agreement": "refined",
            "treatment_agreement": "modified",
            "agreement_comment": PARAGRAPH * 2,
            "certainty": "moderate",
            "certainty_reason": PARAGRAPH,
            "recommendations": PARAGRAPH * 4,
            "alternatives": PARAGRAPH * 2,
            "suggested_tests": PARAGRAPH,
            "in_person": "soon",
            "in_person_reason": PARAGRAPH,
            "limitations": PARAGRAPH * 2,
        },
        "answers": [
            {"question": f"Question {i}: what does this mean for me?", "answer": PARAGRAPH} for i in range(1, 4)
        ],
        "contributors": [
            {
                **person,
                "name": "Dr Colleague",
                "specialties": ["radiology"],
                "note": PARAGRAPH,
                "noted_at": "2025-01-11T10:00:00+00:00",
            }
        ],
        "measurements": [
            {
                "site": site,
                "measured_on": (start + timedelta(days=45 * i)).isoformat(),
                "value_mm": f"{base + 0.4 * i:.2f}",
                "unit": "mm",
            }
            for site, base in (("Left shoulder", 4.0), ("Back", 6.0))
            for i in range(6)
        ],
        "key_photos": [],
        "author": person,
        "report_signed_at": "2025-01-12T10:00:00+00:00",
        "signer": person,
        "signed_at": "2025-01-14T10:00:00+00:00",
        "addenda": [
            {
                "kind": "follow_up",
                "body": PARAGRAPH,
                "signed_at": "2025-01-14T10:00:00+00:00",
                "author": person,
                "follow_ups": [{"question": "Can I wait?", "answer": PARAGRAPH}],
            }
        ],
    }


def photos() -> list[bytes]:
    """Six thumbnails like the pipeline keeps (320 px JPEG), with noise so they compress like photos."""
    import random

    from PIL import Image

    rng = random.Random(5)  # noqa: S311 - test pixels
    out = []
    for _ in range(6):
        img = Image.frombytes("RGB", (320, 240), rng.randbytes(320 * 240 * 3))
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondopinion.settings")
    os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="so-bench-pdf-"))  # no state under var/
    for name in ("DATABASE_URL", "REDIS_URL", "S3_BUCKET"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _ours() -> tuple[Any, Any]:
    from reports import rendering

    signature = rendering.Signature("0" * 64, "BNCH-2345-6789")
    snapshot, thumbs = content(), photos()
    return (
        lambda: rendering.render_pdf(snapshot, language="en", signature=signature, photos=thumbs),
        lambda: rendering.render_html(snapshot, language="en", signature=signature, photos=thumbs),
    )


def _plain(html: str) -> Any:
    from weasyprint import HTML

    from core.pdf import ASSETS_URL

    return lambda: HTML(string=html, base_url=ASSETS_URL).write_pdf()


def child(which: str) -> None:
    """One cold render in this (fresh) process; prints JSON."""
    t0 = time.perf_counter()
    _setup()
    setup_s = time.perf_counter() - t0
    render, html = _ours()
    if which == "plain":
        page = html()  # built before the clock starts: plain WeasyPrint gets the finished HTML
        job = _plain(page)
    else:
        job = render
    t1, c1 = time.perf_counter(), time.process_time()
    pdf = job()
    print(
        json.dumps(
            {
                "setup_s": setup_s,
                "render_s": time.perf_counter() - t1,
                "cpu_s": time.process_time() - c1,
                "bytes": len(pdf),
            }
        )
    )


def _cold(which: str) -> list[dict[str, float]]:
    runs = []
    for _ in range(COLD_RUNS):
        out = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--child", which],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            timeout=300,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def _warm(jobs: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU seconds per job, the jobs interleaved round by round so that both see the
    same load on the machine."""
    for job in jobs.values():
        job()  # the first one is the cold one
    times: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in jobs}
    for _ in range(ROUNDS):
        for name, job in jobs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            job()
            times[name]["cpu"].append(time.process_time() - cpu)
            times[name]["wall"].append(time.perf_counter() - wall)
    return times


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "results" / "pdf.md"
    cold_ours, cold_plain = _cold("ours"), _cold("plain")
    _setup()
    render, html = _ours()
    import pikepdf

    pdf = render()
    pages = len(pikepdf.Pdf.open(io.BytesIO(pdf)).pages)
    page = html()
    warm = _warm({"ours": render, "plain": _plain(page), "html": html})
    import weasyprint

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"

    def cold(runs: list[dict[str, float]], key: str) -> str:
        return f"{statistics.median(r[key] for r in runs) * 1000:.0f} ms"

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())

    lines = [
        "## PDF rendering (bench/pdf.py)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · Python {platform.python_version()} · WeasyPrint "
        f"{weasyprint.__version__} · {platform.machine()}, {os.cpu_count()} CPUs",
        "",
        f"A {pages}-page report ({len(pdf) // 1024} KiB) with a trend chart of 12 measurements, 6 key photos "
        "(320 px JPEG thumbnails), 3 answers, an addendum and the QR code. *Ours* is "
        "`reports.rendering.render_pdf` (template, chart, QR code, WeasyPrint with the asset-only fetcher); "
        "*plain* is `HTML(string=html, base_url=...).write_pdf()` on the same finished HTML.",
        "",
        "| | ours | plain WeasyPrint |",
        "|---|---|---|",
        f"| cold: first render in a fresh process, wall (median of {COLD_RUNS}) | {cold(cold_ours, 'render_s')} | "
        f"{cold(cold_plain, 'render_s')} |",
        f"| cold: the same, CPU time | {cold(cold_ours, 'cpu_s')} | {cold(cold_plain, 'cpu_s')} |",
        f"| cold: imports + Django set-up before it | {cold(cold_ours, 'setup_s')} | {cold(cold_plain, 'setup_s')} |",
        f"| warm: median of {ROUNDS} renders, wall | {ms(warm['ours']['wall'])} | {ms(warm['plain']['wall'])} |",
        f"| warm: the same, CPU time | {ms(warm['ours']['cpu'])} | {ms(warm['plain']['cpu'])} |",
        f"| of which building the HTML (template, chart, QR), CPU | {ms(warm['html']['cpu'])} | – |",
        "",
        f"Overhead of ours over plain WeasyPrint, warm CPU time: "
        f"{(statistics.median(warm['ours']['cpu']) / statistics.median(warm['plain']['cpu']) - 1) * 100:+.0f} % "
        f"({(statistics.median(warm['ours']['cpu']) - statistics.median(warm['plain']['cpu'])) * 1000:.0f} ms, "
        f"against {statistics.median(warm['html']['cpu']) * 1000:.0f} ms for building the HTML). "
        f"Load average while measuring: {load} (other work on the machine inflates wall times; CPU times "
        "are the steadier figures).",
        "",
    ]
    text = "\n".join(lines)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(text)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
