"""Benchmark of the specialists' list pages (issue 5): SQL queries per page and server time.

    python bench/pages.py [OUTPUT.md]        (default bench/results/pages.md)

Needs PostgreSQL (DATABASE_URL, as in var/test-services.env). Uses a database of its own,
`so_bench_pages`, dropped and created again (and dropped at the end unless BENCH_KEEP_DB=1), so
it disturbs neither the tests nor bench/run.py. Seeds 100 cases, measures, then grows to 10,000
cases with 100,000 accepted files (Upload rows only: list pages never open a file) and measures
again. Pages, each requested through Django's test client as a signed-in, MFA-verified user:
the queue (first page, and filtered), the admins' assignment list and the review workspace of a
case with 10 files. Per page: SQL queries (must be the same at both sizes), median and p95 time
over BENCH_REQUESTS requests (default 30) after 3 warm-up requests. Exits 1 when a query count
grows with the number of cases. The count leaves out the session's last-activity write, which
adds 3 queries to one request a minute whatever the page.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "pages.md"
BENCH_DB = "so_bench_pages"
SMALL, LARGE = 100, int(os.environ.get("BENCH_CASES", "10000"))
FILES_PER_CASE = 10
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "30"))
WARMUP = 3
BATCH = 2000
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[pages {time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


def _conninfo(url: str) -> dict[str, Any]:
    import environ

    cfg = environ.Env.db_url_config(url)
    return {
        k: v
        for k, v in {
            "host": cfg.get("HOST"),
            "port": cfg.get("PORT"),
            "user": cfg.get("USER"),
            "password": cfg.get("PASSWORD"),
        }.items()
        if v
    }


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _recreate_database(url: str, *, create: bool = True) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **_conninfo(url)) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def setup_django() -> str:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/pages.py: DATABASE_URL must point at PostgreSQL (source var/test-services.env)")
    original = os.environ["DATABASE_URL"]
    _recreate_database(original)
    os.environ.update(
        {
            "DATABASE_URL": _with_db(original, BENCH_DB),
            "DJANGO_SETTINGS_MODULE": "secondopinion.settings",
            "DEBUG": "false",
            "DEPLOYMENT": "development",
            "LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    log(f"migrating {BENCH_DB}")
    call_command("migrate", interactive=False, verbosity=0)
    return original


class Seeder:
    """Bulk rows: cases in the specialist's queue (and some that are not), a consent, a question
    and FILES_PER_CASE accepted files each."""

    def __init__(self) -> None:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.models import Role, SpecialistProfile, User
        from cases.models import ConsentVersion
        from uploads.keys import patient_key_for

        self.rng = random.Random(5)
        consent = ConsentVersion.current()
        assert consent is not None, "the consent data migration did not run"
        self.consent = consent
        self.specialist = User.objects.create_user(
            "specialist@bench.invalid", "x", full_name="Dr Bench", role=Role.SPECIALIST, email_verified=True
        )
        SpecialistProfile.objects.create(
            user=self.specialist,
            licence_number="B-1",
            specialties=["dermatology", "oncology"],
            jurisdictions=["ES", "PT"],
        )
        self.colleague = User.objects.create_user(
            "colleague@bench.invalid", "x", full_name="Dr Other", role=Role.SPECIALIST, email_verified=True
        )
        SpecialistProfile.objects.create(
            user=self.colleague, licence_number="B-2", specialties=["cardiology"], jurisdictions=["ES"]
        )
        self.admin = User.objects.create_user(
            "admin@bench.invalid", "x", full_name="Admin", role=Role.ADMIN, email_verified=True
        )
        self.devices = {
            u.pk: TOTPDevice.objects.create(user=u, name="bench", confirmed=True) for u in (self.specialist, self.admin)
        }
        self.patients = [
            User.objects.create_user(f"patient{i}@bench.invalid", "x", full_name=f"Patient {i}", email_verified=True)
            for i in range(50)
        ]
        self.keys = {p.pk: patient_key_for(p) for p in self.patients}
        self.count = 0

    def add(self, n: int, *, specialist: Any = None, status: str | None = None) -> list[Any]:
        from django.db import connection

        from cases.models import Case, Status
        from uploads.models import Upload

        now = datetime.now(UTC)
        cases = []
        for _ in range(n):
            self.count += 1
            taken = specialist is not None or self.rng.random() < 0.2
            cases.append(
                Case(
                    patient=self.patients[self.count % len(self.patients)],
                    status=status
                    or (Status.IN_REVIEW if taken else self.rng.choice([Status.SUBMITTED, Status.TRIAGE])),
                    specialist=specialist or (self.colleague if taken else None),
                    specialty=self.rng.choices(["dermatology", "oncology", "cardiology", "not_sure"], [6, 2, 1, 1])[0],
                    country=self.rng.choices(["ES", "PT", "MX"], [8, 1, 1])[0],
                    red_flags_answered=True,
                    reason="Bench reason.",
                    first_diagnosis="Bench diagnosis.",
                    submitted_at=now,
                    due_at=now + timedelta(minutes=self.rng.randint(-2 * 1440, 5 * 1440)),
                )
            )
        Case.objects.bulk_create(cases, batch_size=BATCH)
        # The dependent rows in SQL: the ORM's bulk_create spends minutes in Python on 100,000 rows.
        ids = [c.pk for c in cases]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH c AS (SELECT id, patient_id, reference FROM cases_case WHERE id = ANY(%s))
                INSERT INTO cases_consentacceptance (case_id, version_id, text_sha256, language, accepted_at,
                                                     user_agent)
                SELECT c.id, %s, repeat('0', 64), 'en', now(), '' FROM c""",
                [ids, self.consent.pk],
            )
            cursor.execute(
                """
                WITH c AS (SELECT id, patient_id, reference FROM cases_case WHERE id = ANY(%s))
                INSERT INTO cases_question (case_id, position, text)
                SELECT c.id, 0, 'Bench question for ' || c.reference || repeat(' lorem ipsum', 20) FROM c""",
                [ids],
            )
            cursor.execute(
                """
                WITH c AS (SELECT id, patient_id, reference FROM cases_case WHERE id = ANY(%s))
                INSERT INTO uploads_upload (id, case_id, patient_key_id, uploaded_by_id, original_name,
                    declared_type, size, sha256, status, reject_code, created_at, attempts, kind, mime, hints, info)
                SELECT gen_random_uuid(), c.id, k.id, c.patient_id, 'file-' || g, '', 1000, repeat('0', 64),
                    'accepted', '', now(), 0,
                    (ARRAY['image', 'image', 'image', 'image', 'image', 'image', 'pdf', 'pdf', 'pdf', 'dicom'])[g],
                    'application/octet-stream', '[]', '{}'
                FROM c
                JOIN uploads_patientkey k ON k.patient_id = c.patient_id AND k.destroyed_at IS NULL
                CROSS JOIN generate_series(1, %s) g""",
                [ids, FILES_PER_CASE],
            )
        assert Upload.objects.filter(case__in=cases[:1]).count() == FILES_PER_CASE, "table layout changed"
        return cases


def client_for(seeder: Seeder, user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = seeder.devices[user.pk].persistent_id
    session.save()
    return client


def measure(client: Any, url: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        assert client.get(url).status_code == 200, url
    # The session's last-activity stamp is written at most once a minute (3 queries): of two
    # requests in a row, one does not write it.
    captured = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, url
        captured.append(list(ctx.captured_queries))  # now: the next request clears the log
    least = min(captured, key=len)
    queries, sql_ms = len(least), sum(float(q["time"]) for q in least) * 1000
    times, cpu = [], []
    for _ in range(REQUESTS):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {
        "queries": queries,
        "median": statistics.median(times),
        "p95": p95,
        "cpu": statistics.median(cpu),
        "sql": sql_ms,
    }


def run() -> tuple[str, bool]:
    from django.urls import reverse

    from cases.models import Case

    seeder = Seeder()
    log(f"seeding {SMALL} cases")
    seeder.add(SMALL - 10)
    workspace_case = seeder.add(1, specialist=seeder.specialist, status="in_review")[0]
    seeder.add(9, specialist=seeder.specialist, status="in_review")
    specialist, admin = client_for(seeder, seeder.specialist), client_for(seeder, seeder.admin)
    pages = [
        ("Queue, first page", specialist, reverse("reports:queue")),
        (
            "Queue, filtered (oncology, due within 7 days)",
            specialist,
            reverse("reports:queue") + "?specialty=oncology&due=week",
        ),
        ("Queue, page 20", specialist, reverse("reports:queue") + "?page=20"),
        ("Assignment list (admin)", admin, reverse("reports:assignment_list")),
        (
            f"Review workspace ({FILES_PER_CASE} files)",
            specialist,
            reverse("reports:workspace", args=[workspace_case.pk]),
        ),
    ]
    results: dict[str, dict[int, dict[str, Any]]] = {name: {} for name, _, _ in pages}
    for size in (SMALL, LARGE):
        if size > seeder.count:
            log(f"seeding up to {size} cases ({size * FILES_PER_CASE} files)")
            seeder.add(size - seeder.count)
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        waiting = {
            "queue": Case.objects.claimable_by(seeder.specialist).count(),
            "assign": Case.objects.unassigned().count(),
        }
        log(f"{waiting['queue']} cases in the specialist's queue, {waiting['assign']} unassigned")
        for name, client, url in pages:
            results[name][size] = measure(client, url)
            results[name][size]["waiting"] = waiting["assign" if "Assignment" in name else "queue"]
            log(f"{size:>6} cases  {name}: {results[name][size]}")

    ok = all(r[SMALL]["queries"] == r[LARGE]["queries"] for r in results.values())
    lines = [
        "## Pages: queue, assignment list, review workspace (issue 5)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/pages.py` on PostgreSQL, through Django's "
        f"test client (no network, no gunicorn): {REQUESTS} requests per page after {WARMUP} warm-up requests. "
        f"{LARGE:,} cases with {LARGE * FILES_PER_CASE:,} accepted files (Upload rows), each case with a consent "
        "and a question; about 70 % of them in the specialist's queue. Times include template rendering and the "
        "audit event each page writes.",
        "",
        f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end of the run (the "
        "wall times include waiting for a CPU; the Python CPU time of the web process does not).",
        "",
        "| page | cases | cases waiting | SQL queries | SQL ms (one request) | median ms | p95 ms "
        "| median Python CPU ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, by_size in results.items():
        for size, r in by_size.items():
            rows = "—" if name.startswith("Review") else f"{r['waiting']:,}"
            lines.append(
                f"| {name} | {size:,} | {rows} | {r['queries']} | {r['sql']:.1f} | {r['median']:.1f} | {r['p95']:.1f} | {r['cpu']:.1f} |"
            )
    lines += [
        "",
        "Queries per page equal at {} and {} cases: **{}**.".format(f"{SMALL:,}", f"{LARGE:,}", "yes" if ok else "NO"),
        "",
    ]
    return "\n".join(lines), ok


def main() -> int:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    original = setup_django()
    try:
        report, ok = run()
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP_DB") != "1":
            _recreate_database(original, create=False)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)
    print(report)
    log(f"wrote {output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
