"""Load test with chaos (issue 7, items 4 and 5). Run by `make load` as `python -m bench.load.run`.

Needs the services of scripts/test-services.sh (PostgreSQL and the moto S3 server) and their
variables in the environment. Everything runs on 127.0.0.1, against things of its own: the
database `so_load` (dropped and created again for each run; dropped at the end unless
LOAD_KEEP_DB=1), the bucket `so-load` on the S3 server (emptied for each run, removed at the end)
and a redis-server of its own on a free port (`--appendonly yes`, as in docker-compose.yml), so
that the chaos run can stop and start it without touching anyone else's Redis.

Three runs of LOAD_SECONDS (default 180) each, on a freshly seeded database (bench/load/seed.py):
gunicorn with gunicorn.conf.py, Celery beat, and N Celery workers (`--concurrency 1
--prefetch-multiplier 1`), under locust's 50 patients and 10 specialists (bench/load/locustfile.py):

  a. 1 worker;  b. 2 workers;  c. chaos: 2 workers, one killed (SIGKILL to its process group) at
  a third of the run and started again 15 s later, then Redis stopped (SIGTERM: it writes its
  append-only file and exits) at 61 % of the run and started again 5 s later on the same port and
  directory.

After each run it waits (at most LOAD_DRAIN_SECONDS, default 180) until every upload is accepted or
rejected and no report PDF is pending, with beat's sweepers running, then runs
`manage.py check_invariants --grace 0` when this tree has it. It records locust's statistics per
page, a log of every request (for the 5xx timeline), upload-to-accepted latency from the database,
and RSS and CPU time of every process every 2 s; writes bench/results/load.md and its section of
bench/RESULTS.md. Exits 1 when a run without chaos had a failed request, the chaos run had a 5xx
(or a request without an answer) outside the outage windows, something was left dangling, the
invariant check failed, or 2 workers did not beat 1 on uploads (throughput or latency).
LOAD_RUNS (e.g. "1", "2", "chaos" or "1,2") picks runs for a quick try; the comparison and the
results files need the three.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import platform
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import seed

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
LOAD_MD = ROOT / "bench" / "results" / "load.md"
SECTION_START, SECTION_END = "<!-- load:start -->", "<!-- load:end -->"

SECONDS = int(os.environ.get("LOAD_SECONDS", "180"))
DRAIN_SECONDS = int(os.environ.get("LOAD_DRAIN_SECONDS", "180"))
KEEP_DB = os.environ.get("LOAD_KEEP_DB") == "1"
KEEP_LOGS = os.environ.get("LOAD_KEEP_LOGS") == "1"
RUNS = [r.strip() for r in os.environ.get("LOAD_RUNS", "1,2,chaos").split(",") if r.strip()]
DB_NAME = "so_load"
BUCKET = "so-load"
USERS, SPAWN_RATE = seed.PATIENTS + seed.SPECIALISTS, 10
SAMPLE_SECONDS = 2.0
BURST_PHOTOS = int(os.environ.get("LOAD_BURST_PHOTOS", "4"))  # read by the locustfile too
BUDGET_SECONDS = 1080  # the whole `make load` (its `timeout` is 1140 s)
GRACE_SECONDS = 10  # after a component is back, requests already waiting on it may still fail
KILL_AT, WORKER_DOWN_SECONDS = 1 / 3, 15
REDIS_AT, REDIS_DOWN_SECONDS = 110 / 180, 5
# The recovery timings the lead's settings read (seconds); short, so a chaos run recovers within the wait.
RECOVERY = {"WORK_CLAIM_TIMEOUT": "45", "WORK_LOST_AFTER": "20", "SWEEP_INTERVAL": "15"}

STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[load {time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


# --- processes ------------------------------------------------------------------------------------


class Process:
    """A child in a process group of its own: stopping or killing it takes its children too."""

    started: list[Process] = []  # every one, so that main() can stop whatever a failure left running

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], logfile: Path) -> None:
        self.name, self.logfile = name, logfile
        self._log = open(logfile, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self._log_start = logfile.stat().st_size
        self.proc = subprocess.Popen(  # noqa: S603 - our own commands
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        Process.started.append(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        """What this process wrote (not earlier processes of the same name)."""
        with open(self.logfile, "rb") as f:
            f.seek(self._log_start)
            return f.read().decode(errors="replace")

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: no {text!r} within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.2)

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._signal_group(signal.SIGKILL)  # leftovers (a pool child) once the leader is gone
        self._log.close()

    @classmethod
    def stop_all(cls) -> None:
        for process in reversed(cls.started):
            try:
                process.stop(timeout=10)
            except Exception as e:  # noqa: BLE001 - stop the others all the same
                print(f"load: stopping {process.name}: {e}", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


# --- environment, database, bucket, redis ------------------------------------------------------------


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{path}"


def load_env(redis_port: int) -> dict[str, str]:
    missing = [n for n in ("DATABASE_URL", "S3_ENDPOINT_URL") if not os.environ.get(n)]
    if missing:
        sys.exit(
            f"load: {', '.join(missing)} not set; run `make load` (or source var/test-services.env "
            "after scripts/test-services.sh start)"
        )
    for name in ("S3_ENDPOINT_URL", "DATABASE_URL"):
        host = urlsplit(os.environ[name]).hostname or "127.0.0.1"  # no host: the local socket
        if host not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"load: {name} is not on loopback ({host}); refusing to load-test against it")
    env = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "CLAMD_SOCKET", "SENTRY_DSN")}
    env.update(
        {
            "DATABASE_URL": _with_path(os.environ["DATABASE_URL"], f"/{DB_NAME}"),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "S3_BUCKET": BUCKET,
            "S3_ACCESS_KEY": os.environ.get("S3_ACCESS_KEY", "testing"),
            "S3_SECRET_KEY": os.environ.get("S3_SECRET_KEY", "testing"),
            "S3_REGION": os.environ.get("S3_REGION", "us-east-1"),
            "DEPLOYMENT": "development",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "plain",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_SETTINGS_MODULE": "secondopinion.settings",
            "PYTHONUNBUFFERED": "1",
            **RECOVERY,
        }
    )
    return env


def _pg_conninfo(url: str) -> dict[str, Any]:
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


def recreate_database(env: dict[str, str], *, create: bool = True) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(dbname="postgres", autocommit=True, **_pg_conninfo(env["DATABASE_URL"])) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def s3_client(env: dict[str, str]) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        region_name=env["S3_REGION"],
        aws_access_key_id=env["S3_ACCESS_KEY"],
        aws_secret_access_key=env["S3_SECRET_KEY"],
    )


def empty_bucket(s3: Any, *, remove: bool = False) -> None:
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=BUCKET)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})
    if remove:
        s3.delete_bucket(Bucket=BUCKET)


class Redis:
    """The load test's own redis-server: same port and directory across restarts."""

    def __init__(self, port: int, directory: Path, env: dict[str, str], logdir: Path) -> None:
        self.port, self.directory, self.env, self.logdir = port, directory, env, logdir
        self.process: Process | None = None

    def start(self) -> None:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.process = Process(
            "redis",
            [
                redis_server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                str(self.directory),
                "--daemonize",
                "no",
            ],
            self.env,
            self.logdir / "redis.log",
        )
        deadline = time.monotonic() + 20
        while not self.ping():
            if time.monotonic() > deadline or not self.process.alive():
                raise RuntimeError(f"redis-server did not start:\n{self.process.tail()}")
            time.sleep(0.1)

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:  # noqa: BLE001 - not up (yet)
            return False

    def stop(self) -> None:
        """SIGTERM: Redis finishes its append-only file and exits."""
        if self.process is not None:
            self.process.stop()

    def queued(self) -> int:
        return int(self.client().llen("celery"))


# --- one run ------------------------------------------------------------------------------------------


@dataclass
class Sample:
    t: float  # seconds since the run started
    label: str
    pid: int
    rss_kib: int
    cpu_s: float


@dataclass
class ChaosEvent:
    t: float
    what: str


@dataclass
class RunResult:
    name: str
    workers: int
    chaos: bool
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    stats: list[dict[str, str]] = field(default_factory=list)  # locust's per-page rows + Aggregated
    failures: list[dict[str, str]] = field(default_factory=list)
    requests: list[list[Any]] = field(default_factory=list)  # [end time, name, status, ms, error]
    samples: list[Sample] = field(default_factory=list)
    machine_busy: float = 0.0  # fraction of all CPUs busy during the run
    load_max: float = 0.0
    load_end: tuple[float, ...] = ()
    uploads: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    drained: bool = False
    drain_seconds: float = 0.0
    dangling: dict[str, int] = field(default_factory=dict)
    invariants: str = "not run"
    invariants_ok: bool | None = None
    events: list[ChaosEvent] = field(default_factory=list)
    windows: list[tuple[float, float, str]] = field(default_factory=list)  # (from, to, what), run seconds
    in_flight: dict[str, Any] = field(default_factory=dict)
    locust_exit: int = 0
    gunicorn_workers: int = 0
    gunicorn_threads: int = 0
    web_share: list[int] = field(default_factory=list)  # requests per gunicorn worker, most first
    web_timeouts: int = 0  # gunicorn killed a worker stuck on a request (the client got no answer)
    web_recycled: int = 0  # workers restarted after max_requests (gunicorn.conf.py)

    def steady(self, after: float = 30.0) -> list[float]:
        """Response times (ms) of requests that ended after the first `after` seconds (sign-ins done)."""
        t0 = self.started_at.timestamp()
        return [r[3] for r in self.requests if r[0] - t0 >= after]

    @property
    def aggregated(self) -> dict[str, str]:
        return next((r for r in self.stats if r["Name"] == "Aggregated"), {})

    @property
    def request_count(self) -> int:
        return int(self.aggregated.get("Request Count", 0))

    @property
    def failure_count(self) -> int:
        return int(self.aggregated.get("Failure Count", 0))

    @property
    def rps(self) -> float:
        return self.request_count / self.seconds if self.seconds else 0.0

    def bad(self) -> list[tuple[float, str, int, str]]:
        """Requests answered 5xx or not at all: (seconds into the run, name, status, error)."""
        t0 = self.started_at.timestamp()
        return [(r[0] - t0, r[1], r[2], r[4]) for r in self.requests if r[2] >= 500 or r[2] == 0]

    def outside_windows(self) -> list[tuple[float, str, int, str]]:
        # A request is inside a window if it was under way during it: it ended after the window
        # opened (allowing for its own duration) and before it closed.
        durations = {(r[0], r[1]): r[3] / 1000 for r in self.requests}
        out = []
        for t, name, status, error in self.bad():
            start = t - durations.get((t + self.started_at.timestamp(), name), 0.0)
            if not any(w0 <= t and start <= w1 for w0, w1, _ in self.windows):
                out.append((t, name, status, error))
        return out


class Sampler(threading.Thread):
    """RSS and CPU time of every process of the run, and the machine's CPU, every 2 s."""

    def __init__(
        self, result: RunResult, processes: dict[str, Process | None], extra: Callable[[], dict[str, int | None]]
    ) -> None:
        super().__init__(daemon=True)
        self.result, self.processes, self.extra = result, processes, extra
        self._halt = threading.Event()
        self._t0 = time.monotonic()
        self._cpu0 = machine_cpu()

    def labels(self) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        for name, process in list(self.processes.items()):
            if process is None or not process.alive():
                continue
            found.append(
                (f"{name}" + (" master" if name == "gunicorn" else " main" if "worker" in name else ""), process.pid)
            )
            for child in children(process.pid):
                kind = "worker" if name == "gunicorn" else "pool child"
                found.append((f"{name} {kind}", child))
        found += [(name, pid) for name, pid in self.extra().items() if pid]
        return found

    def run(self) -> None:
        while not self._halt.is_set():
            t = time.monotonic() - self._t0
            for label, pid in self.labels():
                rss, cpu = rss_kib(pid), cpu_s(pid)
                if rss is not None and cpu is not None:
                    self.result.samples.append(Sample(t, label, pid, rss, cpu))
            self.result.load_max = max(self.result.load_max, os.getloadavg()[0])
            self._halt.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        busy0, total0 = self._cpu0
        busy1, total1 = machine_cpu()
        self.result.machine_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
        self.result.load_end = os.getloadavg()


class Stack:
    """gunicorn, beat and the Celery workers of one run."""

    def __init__(self, env: dict[str, str], logdir: Path, tag: str) -> None:
        self.env, self.logdir, self.tag = env, logdir, tag
        self.port = free_port()
        self.processes: dict[str, Process | None] = {}
        self.access_log = logdir / f"access-{tag}.log"

    def requests_per_web_worker(self) -> list[int]:
        """Requests each gunicorn worker served (from the access log), most first."""
        counts: dict[str, int] = {}
        with contextlib.suppress(FileNotFoundError):
            for pid in re.findall(r" pid=<?(\d+)>?$", self.access_log.read_text(), flags=re.MULTILINE):
                counts[pid] = counts.get(pid, 0) + 1
        return sorted(counts.values(), reverse=True)

    def start_web(self) -> None:
        web = Process(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "secondopinion.wsgi:application",
                "-b",
                f"127.0.0.1:{self.port}",
                "--no-control-socket",
                # Status and worker pid only (the config keeps no access log: paths can carry tokens), to
                # see how requests spread over the workers.
                "--access-logfile",
                str(self.access_log),
                "--access-logformat",
                "%(t)s %(s)s pid=%(p)s",
            ],
            self.env,
            self.logdir / f"gunicorn-{self.tag}.log",
        )
        self.processes["gunicorn"] = web
        import http.client

        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/accounts/login/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or not web.alive():
                raise RuntimeError(f"gunicorn did not answer:\n{web.tail()}")
            time.sleep(0.3)

    def start_worker(self, n: int) -> Process:
        worker = Process(
            f"celery worker {n}",
            [
                str(BIN / "celery"),
                "-A",
                "secondopinion",
                "worker",
                "--concurrency",
                "1",
                "--prefetch-multiplier",
                "1",
                "-n",
                f"load{n}@%h",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
            ],
            self.env,
            self.logdir / f"worker{n}-{self.tag}.log",
        )
        self.processes[f"celery worker {n}"] = worker
        worker.wait_for(" ready.", timeout=60)
        return worker

    def start_beat(self, tmp: Path) -> None:
        beat = Process(
            "celery beat",
            [
                str(BIN / "celery"),
                "-A",
                "secondopinion",
                "beat",
                "-l",
                "info",
                "-s",
                str(tmp / f"beat-{self.tag}"),
            ],
            self.env,
            self.logdir / f"beat-{self.tag}.log",
        )
        self.processes["celery beat"] = beat
        beat.wait_for("beat: Starting", timeout=60)

    def stop(self) -> None:
        for process in self.processes.values():
            if process is not None:
                process.stop()


def _busy(worker: Process) -> bool:
    """Whether the worker is running a task: its log's last "task started" has no "task finished" yet
    (secondopinion.observability logs both for every task)."""
    out = worker.output()
    return out.rfind("task started") > out.rfind("task finished")


def _in_flight() -> dict[str, Any]:
    """What workers hold at this moment (claimed, not finished)."""
    from django.db import connection

    from reports.models import RenderStatus, SignedDocument
    from uploads.models import Upload, UploadStatus

    try:
        return {
            "uploads": [
                str(pk) for pk in Upload.objects.filter(status=UploadStatus.SCANNING).values_list("pk", flat=True)
            ],
            "documents": [
                str(pk)
                for pk in SignedDocument.objects.filter(
                    render_status=RenderStatus.PENDING, render_claimed_at__isnull=False
                ).values_list("pk", flat=True)
            ],
        }
    finally:
        connection.close()


class Chaos(threading.Thread):
    """Kill a worker and restart it; stop Redis and start it again. Times are from the run's start."""

    def __init__(self, result: RunResult, stack: Stack, redis: Redis, t0: float) -> None:
        super().__init__(daemon=True)
        self.result, self.stack, self.redis, self.t0 = result, stack, redis, t0
        self.error: BaseException | None = None
        self._cancel = threading.Event()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def event(self, what: str) -> float:
        t = self.now()
        self.result.events.append(ChaosEvent(t, what))
        log(f"chaos t+{t:.1f}s: {what}")
        return t

    def sleep_until(self, t: float) -> bool:
        return not self._cancel.wait(max(0.0, t - self.now()))

    def run(self) -> None:
        try:
            self._run()
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            self.error = e

    def _run(self) -> None:
        if not self.sleep_until(SECONDS * KILL_AT):
            return
        victim = self.stack.processes["celery worker 1"]
        assert victim is not None
        # Kill it in the middle of a task if one comes within 10 s: that is the work that must not be lost.
        deadline = self.now() + 10
        while self.now() < deadline and not _busy(victim):
            time.sleep(0.05)
        self.result.in_flight = _in_flight()
        victim.kill()
        down = self.event(
            f"celery worker 1 killed (SIGKILL to its process group, pid {victim.pid}); "
            f"in flight then: {len(self.result.in_flight['uploads'])} upload(s), "
            f"{len(self.result.in_flight['documents'])} report render(s), on either worker"
        )
        if not self.sleep_until(down + WORKER_DOWN_SECONDS):
            return
        self.event("celery worker 1 starting again")
        worker = self.stack.start_worker(1)
        up = self.event(f"celery worker 1 ready again (pid {worker.pid})")
        self.result.windows.append((down, up + GRACE_SECONDS, "worker 1 down"))
        if not self.sleep_until(SECONDS * REDIS_AT):
            return
        self.redis.stop()
        down = self.event("Redis stopped (SIGTERM: append-only file written, then exit)")
        if not self.sleep_until(down + REDIS_DOWN_SECONDS):
            return
        self.redis.start()
        pid = self.redis.process.pid if self.redis.process else "?"
        up = self.event(f"Redis answering again on the same port and directory (pid {pid})")
        self.result.windows.append((down, up + GRACE_SECONDS, "Redis down"))

    def cancel(self) -> None:
        self._cancel.set()
        self.join(timeout=90)


def _final_counts() -> dict[str, int]:
    from reports.models import RenderStatus, SignedDocument
    from uploads.models import Upload, UploadStatus

    return {
        "uploads not final": Upload.objects.exclude(status__in=[UploadStatus.ACCEPTED, UploadStatus.REJECTED]).count(),
        "report PDFs pending": SignedDocument.objects.filter(render_status=RenderStatus.PENDING).count(),
    }


def drain(result: RunResult, stack: Stack, limit: float) -> None:
    """Wait until nothing is left to do (beat's sweepers recover lost work meanwhile), at most `limit` s."""
    started = time.monotonic()
    while True:
        counts = _final_counts()
        if not any(counts.values()):
            result.drained = True
            break
        if time.monotonic() - started > limit:
            break
        for name, process in stack.processes.items():
            if process is not None and not process.alive():
                raise RuntimeError(f"{name} exited while draining:\n{process.tail()}")
        time.sleep(1)
    result.drain_seconds = time.monotonic() - started
    result.dangling = counts
    log(f"drain: {'done' if result.drained else 'NOT done'} after {result.drain_seconds:.0f} s {counts}")


def check_invariants(result: RunResult, env: dict[str, str]) -> None:
    from django.core.management import get_commands

    if "check_invariants" not in get_commands():
        result.invariants = "not run (this tree has no `manage.py check_invariants` yet)"
        return
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "check_invariants", "--grace", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result.invariants_ok = done.returncode == 0
    result.invariants = (done.stdout + done.stderr).strip() or f"exit {done.returncode}"
    log(f"check_invariants: exit {done.returncode}")


def _seconds(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


QUEUE_SETTLED = 5  # files received and not yet final: below this the workers have caught up


def _queue(rows: list[dict[str, Any]], started_at: datetime) -> dict[str, float]:
    """Files received but not yet final, second by second: its peak, and when it fell back below
    QUEUE_SETTLED after that (the patients' first photos make a burst at the start)."""
    changes: dict[int, int] = {}
    for r in rows:
        created = int((r["created_at"] - started_at).total_seconds())
        changes[created] = changes.get(created, 0) + 1
        if r["processed_at"]:
            done = int((r["processed_at"] - started_at).total_seconds())
            changes[done] = changes.get(done, 0) - 1
    level, peak, peak_at, settled_at = 0, 0, 0, -1.0
    for second in range(0, max(changes, default=0) + 1):
        level += changes.get(second, 0)
        if level > peak:
            peak, peak_at, settled_at = level, second, -1.0
        elif settled_at < 0 and peak and level < QUEUE_SETTLED:
            settled_at = second
    return {"queue peak": peak, "queue peak at": peak_at, "queue settled at": settled_at}


def _busiest_minute(done: list[float]) -> int:
    """Most files finished within any 60 s (the workers' throughput while they have a queue)."""
    best, first = 0, 0
    for last, t in enumerate(done):
        while t - done[first] >= 60:
            first += 1
        best = max(best, last - first + 1)
    return best


def collect_db(result: RunResult, ended_at: datetime) -> None:
    from django.db.models import Count

    from reports.models import SignedDocument
    from uploads.models import Upload, UploadStatus

    run = Upload.objects.filter(parent__isnull=True, created_at__gte=result.started_at, created_at__lte=ended_at)
    rows: list[dict[str, Any]] = [
        dict(r) for r in run.values("kind", "status", "created_at", "claimed_at", "processed_at", "attempts", "size")
    ]
    accepted = [r for r in rows if r["status"] == UploadStatus.ACCEPTED and r["processed_at"] is not None]
    latency = [(r["processed_at"] - r["created_at"]).total_seconds() for r in accepted]
    service = [(r["processed_at"] - r["claimed_at"]).total_seconds() for r in accepted if r["claimed_at"]]
    in_run = [r for r in accepted if r["processed_at"] <= ended_at]
    minutes = result.seconds / 60
    queue = _queue(rows, result.started_at)
    result.uploads = {
        "received": len(rows),
        "by status": dict(run.values_list("status").annotate(n=Count("id")).order_by("status")),
        "photos": sum(1 for r in rows if r["kind"] == "image"),
        "pdfs": sum(1 for r in rows if r["kind"] == "pdf"),
        "mib": sum(r["size"] for r in rows) / 1024 / 1024,
        "received per min": len(rows) / minutes if minutes else 0.0,
        "accepted per min": len(in_run) / minutes if minutes else 0.0,
        "backlog at end": len(rows) - sum(1 for r in rows if r["processed_at"] and r["processed_at"] <= ended_at),
        "latency": latency,
        "service": service,
        "retried": sum(1 for r in rows if r["attempts"] > 1),
        "busiest minute": _busiest_minute(
            sorted((r["processed_at"] - result.started_at).total_seconds() for r in rows if r["processed_at"])
        ),
        **queue,
    }
    docs = list(
        SignedDocument.objects.filter(signed_at__gte=result.started_at).values(
            "render_status", "signed_at", "rendered_at", "render_attempts"
        )
    )
    result.documents = {
        "signed": len(docs),
        "by status": {
            s: sum(1 for d in docs if d["render_status"] == s) for s in sorted({d["render_status"] for d in docs})
        },
        "latency": [(d["rendered_at"] - d["signed_at"]).total_seconds() for d in docs if d["rendered_at"]],
        "retried": sum(1 for d in docs if d["render_attempts"] > 1),
    }
    if result.in_flight:

        def at(when: datetime | None) -> str:
            return f", at t+{(when - result.started_at).total_seconds():.0f} s" if when else ""

        result.in_flight["fate"] = [
            f"upload {f['status']} after {f['attempts']} attempt(s){at(f['processed_at'])}"
            for f in Upload.objects.filter(pk__in=result.in_flight.get("uploads", [])).values(
                "status", "attempts", "processed_at"
            )
        ] + [
            f"report PDF {f['render_status']} after {f['render_attempts']} attempt(s){at(f['rendered_at'])}"
            for f in SignedDocument.objects.filter(pk__in=result.in_flight.get("documents", [])).values(
                "render_status", "render_attempts", "rendered_at"
            )
        ]


def read_locust(result: RunResult, prefix: Path, request_log: Path) -> None:
    with open(f"{prefix}_stats.csv", newline="") as f:
        result.stats = list(csv.DictReader(f))
    with contextlib.suppress(FileNotFoundError), open(f"{prefix}_failures.csv", newline="") as f:
        result.failures = list(csv.DictReader(f))
    if request_log.exists():
        result.requests = [json.loads(line) for line in request_log.read_text().splitlines() if line.strip()]


def one_run(
    name: str,
    workers: int,
    chaos: bool,
    env: dict[str, str],
    redis: Redis,
    s3: Any,
    tmp: Path,
    logdir: Path,
    runs_after: int,
) -> RunResult:
    from django.core.management import call_command

    tag = name.replace(" ", "-")
    log(f"=== run {name}: {workers} worker(s){', chaos' if chaos else ''} ===")
    recreate_database(env)
    empty_bucket(s3)
    redis.client().flushall()
    call_command("migrate", interactive=False, verbosity=0)
    seeded = time.monotonic()
    accounts = seed.seed()
    accounts_file = tmp / f"accounts-{tag}.json"
    accounts_file.write_text(json.dumps(accounts))
    accounts_file.chmod(0o600)
    log(
        f"seeded {len(accounts['patients'])} patients, {len(accounts['specialists'])} specialists in "
        f"{time.monotonic() - seeded:.0f} s"
    )

    stack = Stack(env, logdir, tag)
    result = RunResult(name, workers, chaos)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    result.gunicorn_workers, result.gunicorn_threads = int(config["workers"]), int(config["threads"])
    sampler: Sampler | None = None
    chaos_thread: Chaos | None = None
    try:
        stack.start_web()
        stack.start_beat(tmp)
        for n in range(1, workers + 1):
            stack.start_worker(n)
        deadline = time.monotonic() + 60  # the seed's e-mails: the run starts on an empty queue
        while redis.queued() and time.monotonic() < deadline:
            time.sleep(0.5)

        prefix, request_log = tmp / f"locust-{tag}", tmp / f"requests-{tag}.jsonl"
        locust_env = {**env, "LOAD_ACCOUNTS": str(accounts_file), "LOAD_REQUEST_LOG": str(request_log)}
        result.started_at = datetime.now(UTC)
        t0 = time.monotonic()
        locust = Process(
            "locust",
            [
                str(BIN / "locust"),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "-u",
                str(USERS),
                "-r",
                str(SPAWN_RATE),
                "-t",
                f"{SECONDS}s",
                "--stop-timeout",
                "15",
                "--csv",
                str(prefix),
                "--only-summary",
                "--host",
                f"http://127.0.0.1:{stack.port}",
                "--loglevel",
                "WARNING",
            ],
            locust_env,
            logdir / f"locust-{tag}.log",
        )
        moto = _pid_listening(urlsplit(env["S3_ENDPOINT_URL"]).port)
        sampler = Sampler(
            result,
            stack.processes,
            lambda: {
                "redis": redis.process.pid if redis.process and redis.process.alive() else None,
                "locust": locust.pid if locust.alive() else None,
                "moto_server (shared S3)": moto,
            },
        )
        sampler.start()
        if chaos:
            chaos_thread = Chaos(result, stack, redis, t0)
            chaos_thread.start()
        while locust.alive():
            if time.monotonic() - t0 > SECONDS + 120:
                locust.stop()
                raise RuntimeError(f"locust did not stop after {SECONDS} s:\n{locust.tail()}")
            time.sleep(1)
        result.seconds = time.monotonic() - t0
        ended_at = datetime.now(UTC)
        result.locust_exit = locust.proc.returncode
        locust.stop()
        if chaos_thread is not None:
            chaos_thread.cancel()
            if chaos_thread.error is not None:
                raise chaos_thread.error
        sampler.stop()
        sampler = None
        # Keep the whole within BUDGET_SECONDS: each run still to come needs about SECONDS + 90 s.
        left = BUDGET_SECONDS - (time.monotonic() - STARTED) - runs_after * (SECONDS + 90)
        drain_limit = max(30.0, min(float(DRAIN_SECONDS), left))
        log(
            f"locust done in {result.seconds:.0f} s (exit {result.locust_exit}); waiting for the queue "
            f"(at most {drain_limit:.0f} s)"
        )
        read_locust(result, prefix, request_log)
        result.web_share = stack.requests_per_web_worker()
        with open(logdir / f"rss-{tag}.csv", "w") as f:  # for a closer look (LOAD_KEEP_LOGS=1)
            f.write("t,label,pid,rss_kib,cpu_s\n")
            f.writelines(f"{x.t:.1f},{x.label},{x.pid},{x.rss_kib},{x.cpu_s:.2f}\n" for x in result.samples)
        web = stack.processes["gunicorn"]
        if web is not None:
            result.web_timeouts = web.output().count("WORKER TIMEOUT")
            result.web_recycled = web.output().count("Autorestarting worker")
        drain(result, stack, drain_limit)
        check_invariants(result, env)
        collect_db(result, ended_at)
    except BaseException:
        for process in stack.processes.values():
            if process is not None:
                print(f"--- {process.name} (last lines) ---\n{process.tail()}", file=sys.stderr)
        raise
    finally:
        if chaos_thread is not None:
            chaos_thread.cancel()
        if sampler is not None:
            with contextlib.suppress(Exception):
                sampler.stop()
        stack.stop()
    summarise(result)
    return result


def _pid_listening(port: int | None) -> int | None:
    """The process listening on 127.0.0.1:port (the shared S3 server), for its RSS; None if unknown."""
    if port is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments
            ["ss", "-Hltnp", f"sport = :{port}"],  # noqa: S607 - fixed arguments
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"pid=(\d+)", out)
    return int(match.group(1)) if match else None


def summarise(result: RunResult) -> None:
    up = result.uploads
    log(
        f"{result.name}: {result.request_count} requests ({result.rps:.1f}/s), {result.failure_count} failed; "
        f"uploads {up.get('received', 0)} received, {up.get('accepted per min', 0):.1f} accepted/min, "
        f"upload-to-accepted p50 {_seconds(up.get('latency', []), 0.5):.2f} s p95 "
        f"{_seconds(up.get('latency', []), 0.95):.2f} s; CPU busy {result.machine_busy:.0%}"
    )


# --- report -------------------------------------------------------------------------------------------

# What the runs showed when this test was written (2026-11-22), and what was measured apart to explain it.
NOTES = [
    "### Notes",
    "",
    "- Uploads are CPU work in a worker (read, decrypt, decode and re-encode the photo or clean the PDF, "
    "encrypt, store): about 0.2 s a file here. The patients' first photos arrive faster than one worker "
    "validates them, so a queue builds at the start; the busiest minute shows what the workers can do while "
    "they have a queue, and a second worker clears it sooner. After that one worker keeps up with what 50 "
    "patients send through the web on these 2 CPUs, but files wait behind each other and behind report "
    "renders (about 1 s each), which shows in upload-to-accepted p95; accepted per minute over the whole "
    "run is what the patients sent.",
    "- The sign-in burst at the start (60 accounts within about 6 s) is the slowest part for the web: each "
    "password check is Argon2 with Django's defaults (100 MiB, 8 lanes), which also lifts a gunicorn "
    "worker's RSS peak well above its steady size for a moment.",
    "- gunicorn's threaded workers keep the keep-alive connections they accepted, so requests do not spread "
    'evenly over the workers (see "Busiest gunicorn worker\'s share"); nothing failed because of it.',
    "- Memory: the processes warm up for a few minutes, then stay flat. A 15-minute run of the 2-worker "
    "case (LOAD_SECONDS=900 LOAD_RUNS=2), median RSS per 2-minute window: Celery pool children 225, 241, 245, "
    "245, 247, 246, 246, 247 MiB and 215, 243, 247, 247, 247, 247, 247, 243 MiB; gunicorn workers 205 to 218 "
    "MiB, each replaced after max_requests (10 times in the 15 minutes); beat and the workers' main processes "
    "unchanged. Measured apart, in one process: the upload path alone stays flat (400 validations through "
    "`upload_process`: 189 MiB throughout); the first report render loads WeasyPrint, fonts and matplotlib "
    "(about +45 MiB). So memory is judged from each process's second minute on. moto_server grows with every "
    "object stored: it is the test S3 server, which keeps objects in memory.",
    "- Found while preparing the chaos run, and fixed: with Redis down, a request whose work had been "
    "committed (signing a report, submitting a case, anything that sends an e-mail) answered 500, because "
    "queueing the render or the e-mail after the commit raised. Those hooks are now robust, like the "
    "upload's: the render is queued again by the sweeper; the e-mail is logged as not sent (there is no "
    "outbox to send it later).",
    "",
]


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"


def recovery_in_effect() -> str:
    """Whether this tree's settings read the recovery timings set above."""
    from django.conf import settings

    from uploads import services

    sweep = float(settings.CELERY_BEAT_SCHEDULE["sweep-uploads"]["schedule"])  # type: ignore[arg-type]
    claim = services.CLAIM_TIMEOUT.total_seconds()
    lost = services.LOST_AFTER.total_seconds()
    if (sweep, claim, lost) == tuple(
        float(RECOVERY[k]) for k in ("SWEEP_INTERVAL", "WORK_CLAIM_TIMEOUT", "WORK_LOST_AFTER")
    ):
        return "in effect"
    return (
        f"**not in effect in this tree**: it still uses a claim timeout of {claim:.0f} s, re-queues unclaimed "
        f"uploads after {lost:.0f} s and sweeps every {sweep:.0f} s, so work lost in the chaos run may "
        f"outlast the {DRAIN_SECONDS} s wait"
    )


@dataclass
class ProcessMemory:
    label: str
    pid: int
    start: float  # MiB
    minute: float
    two_minutes: float
    end: float
    peak: float
    cpu: float  # seconds used while sampled
    span: float  # seconds sampled

    @property
    def growth(self) -> float:
        """From its second minute (warmed up: see NOTES) to the end."""
        return self.end - self.two_minutes

    @property
    def kind(self) -> str:
        """Processes that do the same work: "gunicorn worker", "celery pool child", ..."""
        return re.sub(r"celery worker \d+", "celery worker", self.label)


def slack(mib: float) -> float:
    return max(16.0, 0.10 * mib)


def not_flat(rows: list[ProcessMemory]) -> list[ProcessMemory]:
    """Processes of the app whose memory grew after warming up: more than 16 MiB (or 10 %) from their
    second minute to the end, and ending above what the busiest of their kind (which warms up first)
    had reached by its second minute. Processes sampled for less than 150 s are not judged."""
    plateau: dict[str, float] = {}
    for m in rows:
        plateau[m.kind] = max(plateau.get(m.kind, 0.0), m.two_minutes)
    return [
        m
        for m in rows
        if m.span >= 150
        and not m.label.startswith(("moto", "locust"))
        and m.growth > slack(m.two_minutes)
        and m.end > plateau[m.kind] + slack(plateau[m.kind])
    ]


def memory(result: RunResult) -> list[ProcessMemory]:
    by_process: dict[tuple[str, int], list[Sample]] = {}
    for sample in result.samples:
        by_process.setdefault((sample.label, sample.pid), []).append(sample)
    rows = []
    for (label, pid), samples in by_process.items():
        minute = next((s for s in samples if s.t >= samples[0].t + 60), samples[-1])  # its own first minute
        two = next((s for s in samples if s.t >= samples[0].t + 120), samples[-1])
        rows.append(
            ProcessMemory(
                label,
                pid,
                samples[0].rss_kib / 1024,
                minute.rss_kib / 1024,
                two.rss_kib / 1024,
                samples[-1].rss_kib / 1024,
                max(s.rss_kib for s in samples) / 1024,
                samples[-1].cpu_s - samples[0].cpu_s,
                samples[-1].t - samples[0].t,
            )
        )
    order = ["gunicorn master", "gunicorn worker", "celery worker", "celery beat", "redis", "locust", "moto"]
    return sorted(
        rows, key=lambda r: (next((i for i, o in enumerate(order) if r.label.startswith(o)), 99), r.label, r.pid)
    )


def _ms(row: dict[str, str], column: str) -> str:
    value = row.get(column, "")
    return value if value not in ("", "N/A") else "-"


def _pct(values: list[float], q: float) -> str:
    return f"{_seconds(values, q):.2f}" if values else "-"


def run_section(r: RunResult) -> list[str]:
    up, docs = r.uploads, r.documents
    lines = [
        f"### Run: {r.name}",
        "",
        f"{r.workers} Celery worker(s); {r.seconds:.0f} s of load from {r.started_at:%H:%M:%S} UTC; "
        f"{r.request_count} requests, **{r.rps:.1f} requests/s**, {r.failure_count} failed "
        f"(error rate {r.failure_count / max(r.request_count, 1):.2%}). Machine CPU busy {r.machine_busy:.0%} "
        f"of {os.cpu_count()} CPUs; load average peak {r.load_max:.1f}, at the end "
        f"{' '.join(f'{x:.1f}' for x in r.load_end)}.",
        "",
        "| Request | Count | Failed | Req/s | p50 ms | p95 ms | p99 ms | Max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r.stats:
        name = "**All**" if row["Name"] == "Aggregated" else f"`{row['Name']}`"
        lines.append(
            f"| {name} | {row['Request Count']} | {row['Failure Count']} | "
            f"{float(row['Requests/s']):.2f} | {_ms(row, '50%')} | {_ms(row, '95%')} | {_ms(row, '99%')} | "
            f"{float(row['Max Response Time']):.0f} |"
        )
    for failure in r.failures:
        lines.append(
            f"- Failed: `{failure['Method']} {failure['Name']}` x{failure['Occurrences']}: {failure['Error'][:200]}"
        )
    lat, service = up.get("latency", []), up.get("service", [])
    statuses = ", ".join(f"{n} {s}" for s, n in up.get("by status", {}).items())
    lines += [
        "",
        f"- Uploads: {up.get('received', 0)} received during the run ({up.get('photos', 0)} photos, "
        f"{up.get('pdfs', 0)} PDFs, {up.get('mib', 0):.0f} MiB; {up.get('received per min', 0):.1f}/min); "
        f"final: {statuses or 'none'}. Accepted while the load ran: **{up.get('accepted per min', 0):.1f}/min**; "
        f"still waiting when it stopped: {up.get('backlog at end', 0)}. Taken more than once: {up.get('retried', 0)}.",
        f"- Upload-to-accepted (`processed_at - created_at`, from the database): {len(lat)} files, "
        f"**p50 {_pct(lat, 0.5)} s, p95 {_pct(lat, 0.95)} s**, max {_pct(lat, 1.0)} s. Worker time per file "
        f"(`processed_at - claimed_at`): p50 {_pct(service, 0.5)} s, p95 {_pct(service, 0.95)} s.",
        f"- Report PDFs signed during the run: {docs.get('signed', 0)} "
        f"({', '.join(f'{n} {s}' for s, n in docs.get('by status', {}).items()) or '-'}); sign-to-PDF "
        f"p50 {_pct(docs.get('latency', []), 0.5)} s, max {_pct(docs.get('latency', []), 1.0)} s; "
        f"rendered more than once: {docs.get('retried', 0)}.",
        f"- Afterwards: {'everything final' if r.drained else '**not everything final**'} after "
        f"{r.drain_seconds:.0f} s{'' if r.drained else ': ' + ', '.join(f'{n} {k}' for k, n in r.dangling.items())}.",
        "- Invariant check (`manage.py check_invariants --grace 0`): "
        + (r.invariants if r.invariants_ok is None else ("ok" if r.invariants_ok else "**FAILED**")),
    ]
    if r.invariants_ok is not None:
        lines += ["", "```", *r.invariants.splitlines()[:40], "```"]
    lines += [
        "",
        f"Memory (VmRSS, MiB) and CPU time of each process, sampled every {SAMPLE_SECONDS:.0f} s during the run "
        f"(gunicorn: {r.gunicorn_workers} workers x {r.gunicorn_threads} threads, as gunicorn.conf.py sets them "
        "for this machine):",
        "",
        "| Process | pid | start | 1 min | 2 min | end | peak | end - 2 min | CPU s | CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = memory(r)
    for m in rows:
        lines.append(
            f"| {m.label} | {m.pid} | {m.start:.0f} | {m.minute:.0f} | {m.two_minutes:.0f} | {m.end:.0f} | "
            f"{m.peak:.0f} | "
            f"{m.growth:+.0f} | {m.cpu:.0f} | {m.cpu / m.span if m.span else 0:.0%} |"
        )
    busy = r.machine_busy * r.seconds * (os.cpu_count() or 1)
    ours = sum(m.cpu for m in rows)
    lines += [
        "",
        f"CPU % is of one CPU. All CPUs together were busy for {busy:.0f} CPU-seconds during the run: "
        f"{ours:.0f} in the processes above, {max(busy - ours, 0):.0f} elsewhere (PostgreSQL, which serves every "
        "database on the machine, and any other work running meanwhile). Requests per gunicorn worker: "
        + (", ".join(str(n) for n in r.web_share) or "-")
        + " (a worker keeps the keep-alive connections it "
        f"accepted, whatever its threads are doing); workers restarted after max_requests: {r.web_recycled}; "
        f"worker timeouts: {r.web_timeouts}.",
    ]
    if r.chaos:
        lines += chaos_section(r)
    lines.append("")
    return lines


def chaos_section(r: RunResult) -> list[str]:
    lines = ["", "Chaos (times from the start of the load):", ""]
    lines += [f"- t+{e.t:.1f} s: {e.what}" for e in r.events]
    lines += [
        f"- Outage window: {what}, t+{w0:.1f} s to t+{w1:.1f} s (until it was back, plus {GRACE_SECONDS} s)"
        for w0, w1, what in r.windows
    ]
    fate = r.in_flight.get("fate", [])
    if fate:
        lines.append(f"- Work under way when the worker was killed (on either worker): {'; '.join(fate)}.")
    bad = r.bad()
    outside = r.outside_windows()
    per_second: dict[int, list[str]] = {}
    for t, name, status, error in bad:
        per_second.setdefault(int(t), []).append(f"{status or error} {name}")
    lines.append(
        f"- Requests answered 5xx or not at all: {len(bad)}, of which **{len(outside)} outside the outage windows**."
    )
    if per_second:
        lines += ["", "| Second | 5xx / no answer | Requests |", "|---:|---:|---|"]
        for second, items in sorted(per_second.items()):
            counted: dict[str, int] = {}
            for item in items:
                counted[item] = counted.get(item, 0) + 1
            lines.append(
                f"| t+{second} s | {len(items)} | " + "; ".join(f"{k} x{n}" for k, n in sorted(counted.items())) + " |"
            )
    return lines


def comparison(results: list[RunResult]) -> tuple[list[str], bool]:
    by_name = {r.name: r for r in results}
    one, two = by_name.get("1 worker"), by_name.get("2 workers")
    cols = [r for r in (one, two, by_name.get("chaos")) if r is not None]
    lines = [
        "### 1 worker, 2 workers, chaos",
        "",
        "| | " + " | ".join(r.name for r in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("Requests/s", [f"{r.rps:.1f}" for r in cols])
    row("Failed requests", [f"{r.failure_count} ({r.failure_count / max(r.request_count, 1):.2%})" for r in cols])
    row(
        "All requests p50 / p95 / p99 ms",
        [f"{_ms(r.aggregated, '50%')} / {_ms(r.aggregated, '95%')} / {_ms(r.aggregated, '99%')}" for r in cols],
    )
    row(
        "After the first 30 s (sign-ins done) p50 / p95 / p99 ms",
        [" / ".join(f"{_seconds(r.steady(), q):.0f}" for q in (0.5, 0.95, 0.99)) for r in cols],
    )
    row(
        "Busiest gunicorn worker's share of requests",
        [f"{r.web_share[0] / sum(r.web_share):.0%}" if r.web_share else "-" for r in cols],
    )
    row("Uploads received/min", [f"{r.uploads.get('received per min', 0):.1f}" for r in cols])
    row("Uploads accepted/min while loaded", [f"{r.uploads.get('accepted per min', 0):.1f}" for r in cols])
    row(
        "Upload-to-accepted p50 / p95 s",
        [f"{_pct(r.uploads.get('latency', []), 0.5)} / {_pct(r.uploads.get('latency', []), 0.95)}" for r in cols],
    )
    row("Files validated in the busiest minute", [str(r.uploads.get("busiest minute", 0)) for r in cols])
    row(
        f"Upload queue peak (at) / back under {QUEUE_SETTLED} at",
        [
            f"{r.uploads.get('queue peak', 0)} (t+{r.uploads.get('queue peak at', 0):.0f} s) / "
            + (
                f"t+{r.uploads['queue settled at']:.0f} s"
                if r.uploads.get("queue settled at", -1) >= 0
                else "not during the run"
            )
            for r in cols
        ],
    )
    row("Uploads waiting when the load stopped", [str(r.uploads.get("backlog at end", 0)) for r in cols])
    row("Worker time per file p50 s", [_pct(r.uploads.get("service", []), 0.5) for r in cols])
    row("Machine CPU busy", [f"{r.machine_busy:.0%}" for r in cols])
    row("Load average peak", [f"{r.load_max:.1f}" for r in cols])
    faster = False
    if one and two:
        t1, t2 = one.uploads.get("busiest minute", 0), two.uploads.get("busiest minute", 0)
        l1, l2 = one.uploads.get("latency", []), two.uploads.get("latency", [])
        more = t1 > 0 and t2 >= 1.10 * t1
        quicker = bool(l1 and l2) and _seconds(l2, 0.5) < _seconds(l1, 0.5) and _seconds(l2, 0.95) < _seconds(l1, 0.95)
        faster = more or quicker
        lines += [
            "",
            f"2 workers vs 1: files validated in the busiest minute x{t2 / t1 if t1 else 0:.2f} "
            f"({t1} -> {t2}), upload-to-accepted p50 {_pct(l1, 0.5)} -> {_pct(l2, 0.5)} s, p95 "
            f"{_pct(l1, 0.95)} -> {_pct(l2, 0.95)} s: "
            + ("**faster**" if faster else "**not faster**")
            + " (faster = at least 10 % more files in the busiest minute, or both p50 and p95 lower).",
        ]
    return lines, faster


def report(results: list[RunResult], load_before: tuple[float, float, float], total_s: float) -> tuple[str, list[str]]:
    problems = []
    for r in results:
        if not r.chaos and (r.failure_count or r.bad()):
            problems.append(f"{r.name}: {r.failure_count} failed request(s)")
        if r.web_timeouts:
            problems.append(f"{r.name}: gunicorn timed out {r.web_timeouts} worker(s) stuck on a request")
        if r.chaos and r.outside_windows():
            problems.append(
                f"{r.name}: {len(r.outside_windows())} 5xx/unanswered request(s) outside the outage windows"
            )
        if not r.drained:
            problems.append(f"{r.name}: not everything final {DRAIN_SECONDS} s after the load: {r.dangling}")
        if r.invariants_ok is False:
            problems.append(f"{r.name}: the invariant check found something")
    compare, faster = comparison(results)
    if {"1 worker", "2 workers"} <= {r.name for r in results} and not faster:
        problems.append("2 workers were not faster than 1 on uploads")
    grew = [
        f"{r.name}: {m.label} ({m.pid}) {m.minute:.0f} -> {m.end:.0f} MiB" for r in results for m in not_flat(memory(r))
    ]
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    lines = [
        "## Load test (`make load`, issue 7)",
        "",
        f"Generated by `make load` (bench/load/run.py) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the whole run "
        f"took {total_s / 60:.1f} min. Do not edit by hand: the next run replaces this section.",
        "",
        f"- Machine: {os.cpu_count()} CPUs ({cpu.group(1).strip() if cpu else platform.machine()}), shared by "
        "everything below: gunicorn, the workers, beat, PostgreSQL, Redis, the S3 server and locust itself. Load "
        f"average before: {' '.join(f'{x:.2f}' for x in load_before)}"
        + ("  (**other work was running: figures are noisy**)" if load_before[0] > 0.5 else ""),
        f"- Python {platform.python_version()}, Django {_version('Django')}, gunicorn {_version('gunicorn')}, "
        f"Celery {_version('celery')}, locust {_version('locust')}, moto {_version('moto')}, "
        f"redis-server {_redis_version()}.",
        "- Everything on 127.0.0.1: gunicorn with gunicorn.conf.py (sync workers with threads, as many as it sets "
        "for this machine), N Celery workers `--concurrency 1 --prefetch-multiplier 1`, Celery beat, PostgreSQL, "
        "the moto S3 server and a redis-server of the run's own (`--appendonly yes`). DEBUG off, e-mail to "
        "Django's locmem backend, no malware scanner (CLAMD_SOCKET unset).",
        f"- Locust (bench/load/locustfile.py): {seed.PATIENTS} patients and {seed.SPECIALISTS} specialists, each "
        f"signed in to an account of its own, {SPAWN_RATE} started per second, {SECONDS} s per run, 1 to 3 s of "
        f"think time. Each patient first sends the photos they came with ({BURST_PHOTOS} one after another, as the "
        "widget does with several files: a burst that queues work for the workers at the start), then opens "
        "their home page, case page and file list, polls the status JSON and sends "
        "photos (1600x1200 JPEG with noise, 0.3 to 1.9 MB, every one different) and small PDFs (one scanned "
        "page) as the upload widget does, polling every 2 s while each file is checked (5 times at most). "
        "A request on a kept-alive connection that the server closed at that moment is sent once more, as "
        "browsers do (an answer, 5xx included, never is). "
        "Specialists pass TOTP, open their home page, the queue, their cases' workspaces (with thumbnails), "
        "photos and report pages, and each signs one report (step-up with a fresh code; the first from 30 s on, "
        "the next 10 s later, and so on), which queues a PDF render.",
        f"- Seed (bench/load/seed.py), fresh for each run: every patient has one open case with consent: "
        f"{seed.IN_REVIEW} in review (2 per specialist, with a complete draft), {seed.SUBMITTED} in the queue, the "
        f"rest drafts; the sent cases have {seed.PHOTOS_PER_CASE} accepted photos and a PDF. Upload limits are "
        "the defaults (2,000 files and 4 GiB per case), not raised: a patient sends at most 60 files per run "
        "(LOAD_MAX_UPLOADS_PER_PATIENT), so no limit is reached.",
        f"- Recovery timings for the load (environment): WORK_CLAIM_TIMEOUT={RECOVERY['WORK_CLAIM_TIMEOUT']} s, "
        f"WORK_LOST_AFTER={RECOVERY['WORK_LOST_AFTER']} s, SWEEP_INTERVAL={RECOVERY['SWEEP_INTERVAL']} s: "
        f"{recovery_in_effect()}.",
        "",
        "### Checks",
        "",
        *(f"- FAIL: {p}" for p in problems),
        *(
            [
                "- PASS: no failed request in the runs without chaos; no 5xx outside the outage windows in the chaos "
                "run; everything final afterwards; 2 workers faster than 1 on uploads."
            ]
            if not problems
            else []
        ),
        "- Memory after warming up (2 minutes): "
        + (
            "flat: no process of the app ended more than 16 MiB (or 10 %) above where it stood after its "
            "second minute, or, if it did, above where the busiest process of its kind stood then (a less busy "
            "worker warms up later)"
            if not grew
            else "**grew** for " + "; ".join(grew)
        )
        + ".",
        "",
        *compare,
        "",
        *NOTES,
    ]
    for r in results:
        lines += run_section(r)
    return "\n".join(lines), problems


def _redis_version() -> str:
    redis_server = shutil.which("redis-server")
    if not redis_server:
        return "-"
    out = subprocess.run([redis_server, "--version"], capture_output=True, text=True, timeout=10).stdout  # noqa: S603
    match = re.search(r"v=(\S+)", out)
    return match.group(1) if match else "-"


def write_results(text: str) -> None:
    LOAD_MD.parent.mkdir(parents=True, exist_ok=True)
    LOAD_MD.write_text(text + "\n")
    section = f"{SECTION_START}\n{text}\n{SECTION_END}"
    current = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    if SECTION_START in current and SECTION_END in current:
        before, rest = current.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1]
        new = before + section + after
    else:
        new = current.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS_MD.write_text(new)


# --- main ------------------------------------------------------------------------------------------------

PLAN = {"1": ("1 worker", 1, False), "2": ("2 workers", 2, False), "chaos": ("chaos", 2, True)}


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout` and Ctrl+C still clean up below
    unknown = [r for r in RUNS if r not in PLAN]
    if unknown:
        sys.exit(f"load: unknown run(s) {unknown}; LOAD_RUNS takes {', '.join(PLAN)}")
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="so-load-"))
    logdir, redis_dir = tmp / "logs", tmp / "redis"
    logdir.mkdir()
    redis_dir.mkdir()
    env = load_env(free_port())
    redis = Redis(int(urlsplit(env["REDIS_URL"]).port or 0), redis_dir, env, logdir)
    s3 = None
    ok = False
    try:
        redis.start()
        os.environ.update(env)  # this process seeds and reads the results with the same settings
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        s3 = s3_client(env)
        log(
            f"redis-server on 127.0.0.1:{redis.port}, database {DB_NAME}, bucket {BUCKET}; recovery timings "
            f"{recovery_in_effect()}"
        )
        results = [one_run(*PLAN[r], env, redis, s3, tmp, logdir, len(RUNS) - i - 1) for i, r in enumerate(RUNS)]
        text, problems = report(results, load_before, time.monotonic() - STARTED)
        print(text)
        if [r for r in RUNS] == list(PLAN):
            write_results(text)
            log(f"wrote {LOAD_MD.relative_to(ROOT)} and its section of {RESULTS_MD.relative_to(ROOT)}")
        else:
            log("not all three runs (LOAD_RUNS): results files left as they were")
        for problem in problems:
            print(f"load: FAIL: {problem}", file=sys.stderr)
        ok = not problems
    finally:
        Process.stop_all()  # redis too
        try:
            if not KEEP_DB:
                recreate_database(env, create=False)
            if s3 is not None and not KEEP_DB:
                empty_bucket(s3, remove=True)
        except Exception as e:  # noqa: BLE001 - clean-up must not hide the real error
            print(f"load: clean-up: {e}", file=sys.stderr)
        if ok and not KEEP_LOGS:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"load: logs kept in {logdir} (delete it when done: it holds the seeded accounts)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
