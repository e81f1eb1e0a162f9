"""Do known and unknown e-mail addresses take the same time? (SECURITY.md row 38)

    python bench/timing.py [OUTPUT.md]        (default bench/results/timing.md)

Seen before: registering an address that already had an account answered in ~16 ms, a new one in
~214 ms (the new one's password was hashed), so the time told who is a patient. Now both paths
hash the password, write an audit event and an e-mail to send (accounts/services.py).

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL, as in var/test-services.env). Uses a database
of its own, `so_bench_timing`, made again each run and dropped at the end, the production password
hasher (Argon2id with Django's parameters) and the real broker (tasks are queued, not run: a
worker sends e-mails later in production too; the queue is emptied at the end). Through Django's
test client, BENCH_TRIES (20) registrations of new addresses alternate with 20 of an address that
has an account, and the same for password-reset requests. Exits 1 when the medians of a pair
differ by 20 % or more.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import pages  # bench/pages.py, beside this script

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "timing.md"
TRIES = int(os.environ.get("BENCH_TRIES", "20"))
LIMIT = 0.20
PASSWORD = "a long and unguessable passphrase 2026"


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _timed(client: object, url: str, data: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.post(url, data)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, (url, response.status_code)
    return elapsed


def main() -> int:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    pages.BENCH_DB = "so_bench_timing"
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        sys.exit("bench/timing.py: REDIS_URL must point at Redis (source var/test-services.env)")
    os.environ["REDIS_URL"] = redis_url.rsplit("/", 1)[0] + "/11"  # a queue of its own
    original = pages.setup_django()
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from secondopinion.celery import app

    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    app.conf.task_always_eager = False
    User.objects.create_user("known@bench.invalid", PASSWORD, full_name="Known Patient", email_verified=True)
    client = Client()
    form = {"full_name": "Bench Patient", "language": "en", "password1": PASSWORD, "password2": PASSWORD}
    samples: dict[str, list[float]] = {
        k: [] for k in ("register new", "register known", "reset unknown", "reset known")
    }
    for i in range(-2, TRIES):  # two warm-up rounds, not counted
        rounds = {
            "register new": ("/accounts/register/", {**form, "email": f"new{i + 2}@bench.invalid"}),
            "register known": ("/accounts/register/", {**form, "email": "known@bench.invalid"}),
            "reset unknown": ("/accounts/password-reset/", {"email": f"nobody{i + 2}@bench.invalid"}),
            "reset known": ("/accounts/password-reset/", {"email": "known@bench.invalid"}),
        }
        for name, (url, data) in rounds.items():
            elapsed = _timed(client, url, data)
            if i >= 0:
                samples[name].append(elapsed)
    app.control.purge()
    from django.db import connections

    connections.close_all()
    os.environ["DATABASE_URL"] = original
    pages._recreate_database(original, create=False)

    lines = [
        "",
        "## Known and unknown e-mail addresses (bench/timing.py)",
        "",
        f"Median and p90 of {TRIES} requests each through Django's test client, the two kinds interleaved; "
        "Argon2id as in production, PostgreSQL, tasks queued in Redis. Target: medians within 20 %.",
        "",
        "| Request | median (ms) | p90 (ms) |",
        "|---|---:|---:|",
    ]
    for name, values in samples.items():
        p90 = statistics.quantiles(values, n=10)[-1] * 1000
        lines.append(f"| {name} | {_median_ms(values):.1f} | {p90:.1f} |")
    status = 0
    lines.append("")
    for a, b in (("register new", "register known"), ("reset unknown", "reset known")):
        ma, mb = _median_ms(samples[a]), _median_ms(samples[b])
        diff = abs(ma - mb) / min(ma, mb)
        ok = diff < LIMIT
        status |= not ok
        lines.append(
            f"- {'PASS' if ok else 'FAIL'}: {a} vs {b}: medians {ma:.1f} / {mb:.1f} ms, "
            f"differ by {diff:.0%} (target < {LIMIT:.0%})."
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
