"""Benchmarks for the upload path and for validation (issue 4). Run by `make bench`.

Needs the services of scripts/test-services.sh (PostgreSQL, Redis, the moto S3 server) and their
variables in the environment. Everything runs on loopback against a database of its own
(`so_bench`, dropped and created again) and Redis db 8; the S3 bucket is shared, so every object
the benchmark writes is deleted again.

1. Upload: 10 MiB, 128 MiB and 1 GiB files of random bytes (JPEG magic, so the photo limit
   applies; validation is not running and would reject them) sent through the real endpoint of a
   real gunicorn (1 worker, 1 thread) the way the upload widget sends them: one PUT per file, the
   file as the streamed body. Measured: request wall time, the worker's peak RSS and the CPU time
   of worker, S3 server and client, against plain boto3 `upload_file` (default TransferConfig) of
   the same file to the same server in the same run; plus, for reference, the 1 GiB file through
   the plain form's multipart POST (the path without JavaScript).
2. Validation: 12 MP photos and a 300-file DICOM series are uploaded with no worker running,
   then 1 and then 2 Celery workers (each `--concurrency 1`) are started and timed until every
   file is final.

Writes bench/RESULTS.md (overwritten) and prints it; exits 1 when a target is missed. Sizes and
rounds can be lowered for a quick try: BENCH_BIG_MB, BENCH_MID_MB, BENCH_BIG_ROUNDS, BENCH_PHOTOS,
BENCH_DICOM_FILES.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv running this script (a worktree has none of its own)
RESULTS = ROOT / "bench" / "RESULTS.md"

MIB = 1024 * 1024
SMALL_MB = int(os.environ.get("BENCH_SMALL_MB", "10"))
BIG_MB = int(os.environ.get("BENCH_BIG_MB", "1024"))
MID_MB = int(os.environ.get("BENCH_MID_MB", "128"))  # enough parts to fill the writer's pipeline
BIG_ROUNDS = int(os.environ.get("BENCH_BIG_ROUNDS", "3"))
SMALL_ROUNDS = 3
PHOTOS = int(os.environ.get("BENCH_PHOTOS", "8"))
DICOM_FILES = int(os.environ.get("BENCH_DICOM_FILES", "300"))
FILES_PER_REQUEST = 50  # below Django's DATA_UPLOAD_MAX_NUMBER_FILES (100)
RSS_FLAT_MIB = 32  # "does not grow with file size": slack on top of the writer's designed buffer
THROUGHPUT_TARGET = 0.8
BENCH_DB = "so_bench"
BENCH_REDIS_DB = 8
BUDGET_SECONDS = 540  # the whole run; `make bench` also wraps it in `timeout`
PASSWORD = "demo-password-2026"  # seed_demo's
PATIENT = "patient@example.org"

STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


def check_budget(what: str) -> None:
    if time.monotonic() - STARTED > BUDGET_SECONDS:
        raise TimeoutError(f"time budget of {BUDGET_SECONDS} s used up before {what}")


# --- environment --------------------------------------------------------------------------------


def _replace_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def bench_env() -> dict[str, str]:
    missing = [n for n in ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT_URL", "S3_BUCKET") if not os.environ.get(n)]
    if missing:
        sys.exit(
            f"bench: {', '.join(missing)} not set; run through `make bench` "
            "(or source var/test-services.env after scripts/test-services.sh start)"
        )
    for name in ("S3_ENDPOINT_URL", "REDIS_URL"):
        host = urlsplit(os.environ[name]).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"bench: {name} is not on loopback ({host}); refusing to benchmark against it")
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": _replace_path(os.environ["DATABASE_URL"], f"/{BENCH_DB}"),
            # Tasks are only queued: no worker runs during the upload benchmark.
            "REDIS_URL": _replace_path(os.environ["REDIS_URL"], f"/{BENCH_REDIS_DB}"),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "UPLOAD_MAX_PHOTO_MB": str(max(2048, BIG_MB * 2)),
            "UPLOAD_MAX_CASE_MB": str(max(4096, BIG_MB * 4)),
            "DEBUG": "false",
            "DEPLOYMENT": "development",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "secondopinion.settings",
        }
    )
    env.pop("CLAMD_SOCKET", None)  # no scanner: the benchmark measures our code
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- processes ----------------------------------------------------------------------------------


class Service:
    """A child process in a process group of its own, so stopping it takes its children too."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name = name
        self.logfile = logdir / f"{name}.log"
        self._log = open(self.logfile, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603 - our own commands
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        # Leftover children (e.g. a Celery pool process) once the leader is gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def pid_of_cmdline(*needles: str) -> int | None:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                args = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            text = [a.decode(errors="replace") for a in args]
            if all(any(n in a for a in text) for n in needles):
                return int(entry)
    return None


def proc_status_kib(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (its threads included, its children not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples VmRSS of some processes every 50 ms; keeps the peak of each."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = {k: v for k, v in pids.items() if v}
        self.peak_kib: dict[str, int] = {}
        self.start_kib = {k: proc_status_kib(v, "VmRSS") or 0 for k, v in self.pids.items()}
        self.cpu_s: dict[str, float] = {}  # CPU seconds each process used while sampling
        self._cpu_start = {k: cpu_seconds(v) for k, v in self.pids.items()}
        self._cpu_start["client"] = time.process_time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                rss = proc_status_kib(pid, "VmRSS")
                if rss is not None and rss > self.peak_kib.get(name, 0):
                    self.peak_kib[name] = rss
            self._stop.wait(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu_s = {k: cpu_seconds(v) - self._cpu_start[k] for k, v in self.pids.items()}
        self.cpu_s["client"] = time.process_time() - self._cpu_start["client"]
        self._stop.set()
        self._thread.join()

    def peak_mib(self, name: str) -> float:
        return max(self.peak_kib.get(name, 0), self.start_kib.get(name, 0)) / 1024

    def start_mib(self, name: str) -> float:
        return self.start_kib.get(name, 0) / 1024


# --- HTTP client ----------------------------------------------------------------------------------


@dataclass
class Part:
    filename: str
    content_type: str
    path: Path | None = None
    data: bytes | None = None

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path is not None else len(self.data or b"")

    def chunks(self) -> Iterator[bytes]:
        if self.path is not None:
            with open(self.path, "rb") as f:
                while chunk := f.read(MIB):
                    yield chunk
        else:
            yield self.data or b""


class MultipartBody:
    """A multipart/form-data body produced piece by piece (the client never holds a whole file)."""

    def __init__(self, parts: list[Part], field_name: str = "files") -> None:
        self.boundary = "----bench" + uuid.uuid4().hex
        self.parts, self.field_name = parts, field_name

    def _head(self, part: Part) -> bytes:
        return (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{self.field_name}"; '
            f'filename="{part.filename}"\r\nContent-Type: {part.content_type}\r\n\r\n'
        ).encode()

    @property
    def tail(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return sum(len(self._head(p)) + p.size + 2 for p in self.parts) + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        for part in self.parts:
            yield self._head(part)
            yield from part.chunks()
            yield b"\r\n"
        yield self.tail


class Site:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)

    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _remember(self, response: http.client.HTTPResponse) -> None:
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            if "max-age=0" in rest.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = rest.split(";", 1)[0]

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        conn = self._conn()
        try:
            all_headers = {"Cookie": self._cookie_header(), **(headers or {})}
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            self._remember(response)
            return response.status, data, dict(response.headers)
        finally:
            conn.close()

    def wait_ready(self, service: Service, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not service.alive():
                raise RuntimeError(f"gunicorn exited:\n{service.tail()}")
            try:
                status, _, _ = self.request("GET", "/accounts/login/")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{service.tail()}")

    def login(self, email: str, password: str) -> None:
        self.cookies.clear()
        status, page, _ = self.request("GET", "/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not match:
            raise RuntimeError(f"login page: HTTP {status}, no CSRF token")
        from urllib.parse import urlencode

        form = urlencode({"username": email, "password": password, "csrfmiddlewaretoken": match.group(1).decode()})
        status, _, headers = self.request(
            "POST",
            "/accounts/login/",
            body=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "so_session" not in self.cookies:
            raise RuntimeError(f"login failed: HTTP {status} {headers.get('Location', '')}")

    def upload(self, case_id: Any, parts: list[Part]) -> tuple[float, dict[str, Any]]:
        """POST the files to the real upload endpoint; (seconds, JSON answer)."""
        body = MultipartBody(parts)
        headers = {
            "Content-Type": body.content_type,
            "Content-Length": str(len(body)),
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Accept": "application/json",
        }
        started = time.perf_counter()
        status, data, _ = self.request("POST", f"/cases/{case_id}/files/upload/", body=iter(body), headers=headers)
        seconds = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"upload: HTTP {status}: {data[:500]!r}")
        answer = json.loads(data)
        if answer.get("problems") or len(answer.get("files", [])) != len(parts):
            raise RuntimeError(f"upload: unexpected answer {answer}")
        return seconds, answer

    def upload_raw(self, case_id: Any, part: Part) -> tuple[float, dict[str, Any]]:
        """PUT one file as the request body, as the upload widget does; (seconds, JSON answer)."""
        from urllib.parse import quote

        headers = {
            "Content-Type": part.content_type,
            "Content-Length": str(part.size),
            "X-File-Name": quote(part.filename),
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Accept": "application/json",
        }
        started = time.perf_counter()
        status, data, _ = self.request(
            "PUT", f"/cases/{case_id}/files/upload/file/", body=part.chunks(), headers=headers
        )
        seconds = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"upload: HTTP {status}: {data[:500]!r}")
        answer = json.loads(data)
        if answer.get("problems") or len(answer.get("files", [])) != 1:
            raise RuntimeError(f"upload: unexpected answer {answer}")
        return seconds, answer


# --- test data --------------------------------------------------------------------------------------


def random_file(path: Path, size: int) -> Path:
    """Random bytes (nothing compresses) behind a JPEG start-of-image, so the photo limit applies."""
    with open(path, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0")
        left = size - 4
        while left > 0:
            n = min(left, MIB)
            f.write(os.urandom(n))
            left -= n
    return path


def photo_12mp() -> bytes:
    """A 4000x3000 JPEG with gradients and noise, roughly what a phone produces."""
    from PIL import Image

    w, h = 4000, 3000
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((w, h)),
            Image.radial_gradient("L").resize((w, h)),
            Image.linear_gradient("L").rotate(90).resize((w, h)),
        ),
    )
    noise = Image.merge("RGB", tuple(Image.effect_noise((w, h), 48) for _ in range(3)))
    image = Image.blend(base, noise, 0.35)
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"  # Make
    exif[0x0110] = "Model 12"  # Model
    exif[0x0112] = 6  # Orientation: rotated, so the sanitiser has to apply it
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def dicom_series(count: int) -> list[bytes]:
    """`count` slices of one series made from pydicom's CT_small.dcm (128x128, 16 bit)."""
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    path = get_testdata_file("CT_small.dcm")  # shipped with pydicom, no download
    assert isinstance(path, str), "pydicom's CT_small.dcm is missing"
    series, study = generate_uid(), generate_uid()
    files = []
    for number in range(1, count + 1):
        ds = pydicom.dcmread(path)
        uid = generate_uid()
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.SeriesInstanceUID, ds.StudyInstanceUID = series, study
        ds.InstanceNumber = number
        out = io.BytesIO()
        ds.save_as(out, enforce_file_format=True)
        files.append(out.getvalue())
    return files


# --- Django (in this process: set-up, and reading the results) ---------------------------------------


def setup_database(env: dict[str, str]) -> None:
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(env["DATABASE_URL"])
    conninfo = {
        k: v
        for k, v in {
            "host": cfg.get("HOST"),
            "port": cfg.get("PORT"),
            "user": cfg.get("USER"),
            "password": cfg.get("PASSWORD"),
        }.items()
        if v
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "UPLOAD_MAX_PHOTO_MB",
        "UPLOAD_MAX_CASE_MB",
        "DEBUG",
        "LOG_LEVEL",
        "CELERY_TASK_ALWAYS_EAGER",
        "DJANGO_SETTINGS_MODULE",
        "DEPLOYMENT",
        "CONN_MAX_AGE",
    ):
        os.environ[name] = env[name]
    os.environ.pop("CLAMD_SOCKET", None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())


def drop_database(env: dict[str, str]) -> None:
    import environ
    import psycopg
    from django.db import connections

    connections.close_all()
    cfg = environ.Env.db_url_config(env["DATABASE_URL"])
    conninfo = {
        k: v
        for k, v in {
            "host": cfg.get("HOST"),
            "port": cfg.get("PORT"),
            "user": cfg.get("USER"),
            "password": cfg.get("PASSWORD"),
        }.items()
        if v
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def new_case() -> Any:
    from accounts.models import User
    from cases.models import Case

    patient = User.objects.get(email=PATIENT)
    return Case.objects.create(
        patient=patient,
        specialty="dermatology",
        red_flags_answered=True,
        reason="Benchmark.",
        first_diagnosis="Benchmark.",
    )


def flush_queue(env: dict[str, str]) -> None:
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()


def s3_client() -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT_URL"],
        region_name=os.environ.get("S3_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("S3_ACCESS_KEY", "testing"),
        aws_secret_access_key=os.environ.get("S3_SECRET_KEY", "testing"),
    )


def delete_objects(s3: Any, names: list[str]) -> None:
    bucket = os.environ["S3_BUCKET"]
    for start in range(0, len(names), 1000):
        batch = names[start : start + 1000]
        if batch:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": n} for n in batch], "Quiet": True})


# --- 1. upload --------------------------------------------------------------------------------------------


@dataclass
class UploadRun:
    what: str  # "ours" (the widget's PUT) | "form" (the plain form's multipart POST) | "boto3"
    size: int
    seconds: float
    rss_start_mib: float = 0.0
    rss_peak_mib: float = 0.0
    moto_peak_mib: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)  # "web", "moto", "client"

    @property
    def mib_s(self) -> float:
        return self.size / MIB / self.seconds


@dataclass
class UploadResults:
    runs: list[UploadRun] = field(default_factory=list)
    worker_hwm_mib: float = 0.0
    warmup_rss_mib: float = 0.0

    def of(self, what: str, size: int) -> list[UploadRun]:
        return [r for r in self.runs if r.what == what and r.size == size]

    def best(self, what: str, size: int) -> UploadRun:
        return max(self.of(what, size), key=lambda r: r.mib_s)


def _cpu_text(run: UploadRun) -> str:
    return " / ".join(f"{run.cpu_s[k]:.1f}" if k in run.cpu_s else "-" for k in ("web", "moto", "client"))


def _overlap(run: UploadRun) -> float:
    """CPU seconds of all processes per wall second: about 1 when the work is done one step after another."""
    return sum(run.cpu_s.values()) / run.seconds


def bench_upload(site: Site, worker_pid: int, moto_pid: int | None, tmp: Path, s3: Any) -> UploadResults:
    from uploads.models import Upload, UploadStatus

    results = UploadResults()
    bucket = os.environ["S3_BUCKET"]
    case = new_case()
    warm = random_file(tmp / "warm.jpg", MIB)
    small = random_file(tmp / "small.jpg", SMALL_MB * MIB)
    mid = random_file(tmp / "mid.jpg", MID_MB * MIB)
    log(f"writing {BIG_MB} MiB of random bytes")
    big = random_file(tmp / "big.jpg", BIG_MB * MIB)

    def ours(path: Path, record: bool, what: str = "ours") -> None:
        part = Part(path.name, "image/jpeg", path=path)
        with RssSampler({"web": worker_pid, "moto": moto_pid}) as rss:
            seconds, answer = site.upload_raw(case.pk, part) if what == "ours" else site.upload(case.pk, [part])
        ids = [f["id"] for f in answer["files"]]
        delete_objects(s3, [f"raw/{i}" for i in ids])
        Upload.objects.filter(pk__in=ids).update(status=UploadStatus.REJECTED, reject_code="failed")  # off quota
        if record:
            run = UploadRun(
                what,
                path.stat().st_size,
                seconds,
                rss.start_mib("web"),
                rss.peak_mib("web"),
                rss.peak_mib("moto"),
                rss.cpu_s,
            )
            results.runs.append(run)
            log(
                f"{what:5s} {run.size // MIB:5d} MiB: {run.seconds:6.2f} s  {run.mib_s:6.1f} MiB/s  "
                f"web RSS {run.rss_start_mib:.0f} -> peak {run.rss_peak_mib:.0f} MiB  moto peak {run.moto_peak_mib:.0f} MiB"
                f"  CPU s {_cpu_text(run)}"
            )

    def plain(path: Path, record: bool, what: str = "boto3") -> None:
        key = f"bench/{what}-{uuid.uuid4()}"
        with RssSampler({"moto": moto_pid}) as rss:
            started = time.perf_counter()
            s3.upload_file(str(path), bucket, key)  # default TransferConfig
            seconds = time.perf_counter() - started
        s3.delete_object(Bucket=bucket, Key=key)
        if record:
            run = UploadRun(what, path.stat().st_size, seconds, moto_peak_mib=rss.peak_mib("moto"), cpu_s=rss.cpu_s)
            results.runs.append(run)
            log(
                f"{what:5s} {run.size // MIB:5d} MiB: {run.seconds:6.2f} s  {run.mib_s:6.1f} MiB/s  "
                f"moto peak {run.moto_peak_mib:.0f} MiB  CPU s {_cpu_text(run)}"
            )

    # Warm-up: the first request imports and connects; neither side is measured.
    for _ in range(2):
        ours(warm, record=False)
        plain(warm, record=False)
    results.warmup_rss_mib = (proc_status_kib(worker_pid, "VmRSS") or 0) / 1024
    for _ in range(SMALL_ROUNDS):
        ours(small, record=True)
        plain(small, record=True)
    ours(mid, record=True)
    plain(mid, record=True)
    for _ in range(BIG_ROUNDS):
        check_budget("the big upload")
        ours(big, record=True)
        plain(big, record=True)
    # Reference, not a target: the plain form's multipart POST (browsers without JavaScript).
    ours(big, record=True, what="form")
    results.worker_hwm_mib = (proc_status_kib(worker_pid, "VmHWM") or 0) / 1024
    for path in (warm, small, mid, big):
        path.unlink()
    return results


# --- 2. validation ----------------------------------------------------------------------------------------


@dataclass
class ValidationRun:
    kind: str
    workers: int
    files: int
    wall_s: float  # from starting the workers until every file was final
    window_s: float  # first claim to last finish
    per_file: list[float]
    statuses: dict[str, int]

    @property
    def files_per_s(self) -> float:
        return self.files / self.window_s if self.window_s else 0.0

    @property
    def median_s(self) -> float:
        return statistics.median(self.per_file) if self.per_file else 0.0

    @property
    def p95_s(self) -> float:
        ordered = sorted(self.per_file)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0


def bench_validation(
    site: Site, env: dict[str, str], logdir: Path, s3: Any, kind: str, workers: int, files: list[tuple[str, str, bytes]]
) -> ValidationRun:
    from uploads.models import Upload, UploadStatus

    check_budget(f"validation of {kind} with {workers} worker(s)")
    flush_queue(env)
    case = new_case()
    ids: list[str] = []
    for start in range(0, len(files), FILES_PER_REQUEST):
        batch = files[start : start + FILES_PER_REQUEST]
        _, answer = site.upload(case.pk, [Part(name, ctype, data=data) for name, ctype, data in batch])
        ids += [f["id"] for f in answer["files"]]
    final = [UploadStatus.ACCEPTED, UploadStatus.REJECTED]
    if Upload.objects.filter(pk__in=ids).exclude(status=UploadStatus.RECEIVED).exists():
        raise RuntimeError("files were processed before any worker ran (eager tasks?)")
    log(f"{kind}: {len(ids)} files received, starting {workers} worker(s)")
    started = time.monotonic()
    started_at = datetime.now(UTC)
    services = [
        Service(
            f"celery-{kind}-{workers}-{n}",
            [
                str(BIN / "celery"),
                "-A",
                "secondopinion",
                "worker",
                "--concurrency",
                "1",
                "-l",
                "warning",
                "-n",
                f"bench{n}-{uuid.uuid4().hex[:6]}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            env,
            logdir,
        )
        for n in range(1, workers + 1)
    ]
    try:
        deadline = time.monotonic() + 240
        while Upload.objects.filter(pk__in=ids).exclude(status__in=final).exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"validation of {kind} did not finish in 240 s")
            check_budget(f"the end of validation of {kind}")
            for s in services:
                if not s.alive():
                    raise RuntimeError(f"{s.name} exited:\n{s.tail()}")
            time.sleep(0.1)
        wall = time.monotonic() - started
    finally:
        for s in services:
            s.stop()
    rows = list(Upload.objects.filter(pk__in=ids).values("id", "status", "reject_code", "claimed_at", "processed_at"))
    statuses: dict[str, int] = {}
    for r in rows:
        label = r["status"] + (f" ({r['reject_code']})" if r["reject_code"] else "")
        statuses[label] = statuses.get(label, 0) + 1
    claimed = [r["claimed_at"] for r in rows if r["claimed_at"]]
    done = [r["processed_at"] for r in rows if r["processed_at"]]
    window = (max(done) - min(claimed)).total_seconds() if claimed and done else 0.0
    per_file = [
        (r["processed_at"] - r["claimed_at"]).total_seconds() for r in rows if r["claimed_at"] and r["processed_at"]
    ]
    if claimed and min(claimed) < started_at:
        raise RuntimeError("a file was claimed before the workers started")
    names = [f"{prefix}/{i}" for i in ids for prefix in ("raw", "files", "thumbs")]
    delete_objects(s3, names)
    run = ValidationRun(kind, workers, len(ids), wall, window, per_file, statuses)
    log(
        f"{kind} x{run.files} with {workers} worker(s): {run.files_per_s:.2f} files/s "
        f"(window {run.window_s:.1f} s, wall {run.wall_s:.1f} s), median {run.median_s * 1000:.0f} ms/file, "
        f"{statuses}"
    )
    return run


# What the endpoint path does and why (issue 4); measured with py-spy on gunicorn and moto_server.
PATH_NOTES = [
    "",
    "### Where the time went, and what was changed",
    "",
    "- Before these changes (this file at commit 92e8187, multipart POST, 4 parts in flight): 0.49x "
    "(111.0 vs 225.5 MiB/s; CPU per GiB: web 3.4 s, moto 8.7 s, against moto 5.5 s and uploader 1.5 s for boto3).",
    "- Profiled with py-spy (gunicorn worker and moto_server, 512 MiB upload). Before: 31% of the web "
    "worker's samples were botocore hashing every part with SHA-256 for the SigV4 signature (botocore always "
    "does this over plain HTTP), 28% our SHA-256 of the plaintext (the receipt's hash), the rest AES-GCM, "
    "CRC32, Django's multipart parser, and copies. "
    + (
        "This CPU has SHA extensions (`sha_ni`)."
        if "sha_ni" in Path("/proc/cpuinfo").read_text()
        else "This CPU has no SHA extensions (no `sha_ni`): SHA-256 runs at a few hundred MiB/s, so each pass "
        "over 1 GiB costs seconds."
    ),
    "- The S3 writer's client no longer signs the part bodies (`payload_signing_enabled=False`, as botocore "
    "already does by itself over HTTPS for uploads with a checksum). Every stored chunk is AES-GCM sealed, so "
    "a changed body fails at decryption, and each part still carries its CRC32 for the server to check. "
    "boto3 `upload_file` in this benchmark keeps its defaults, so it still hashes every part for its signature: "
    "the baseline is unchanged.",
    "- The widget sends each file as the body of one PUT (`uploads:upload_file`): the body is read from "
    "wsgi.input in 1 MiB pieces straight into the same handler (limits, 413, quota, CSRF header, access check, "
    "audit), with no multipart parser. The plain form's multipart POST stays for browsers without JavaScript.",
    "- Fewer copies per byte: whole 64 KiB chunks are sealed straight from the received piece (no staging "
    "buffer), pieces are joined once per part, and a part goes to botocore as a bytearray, which it sends in "
    "one `sendall` and checksums in place (a bytes body is wrapped in a BytesIO and sent 16 KiB at a time, "
    "512 sends per part, each taking the GIL again).",
    "- What moto does per part is the same for both paths (CRC32 declared the same way, MD5 for the ETag, "
    "spilling each part to a temporary file, then joining the parts at completion): its CPU per GiB is about "
    "the same for the endpoint and for boto3.",
]


# --- report ------------------------------------------------------------------------------------------------


def writer_buffer() -> tuple[int, int]:
    """(parts in flight, part size) of core.storage's S3 writer, whatever the current code says."""
    from core import storage

    return int(getattr(storage, "PARTS_IN_FLIGHT", 1)), int(storage.PART_SIZE)


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"


def machine() -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text()
    total_kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))  # type: ignore[union-attr]
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    return {
        "nproc": str(os.cpu_count()),
        "ram": f"{total_kib / 1024 / 1024:.1f} GiB",
        "cpu": model.group(1).strip() if model else platform.machine(),
        "kernel": platform.release(),
    }


def server_versions() -> dict[str, str]:
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        out["PostgreSQL"] = cursor.fetchone()[0].split()[0]
    try:
        import redis

        out["Redis"] = str(redis.Redis.from_url(os.environ["REDIS_URL"]).info("server")["redis_version"])
    except Exception:  # noqa: BLE001 - informational only
        out["Redis"] = "?"
    return out


def report(
    up: UploadResults,
    validation: list[ValidationRun],
    photo_bytes: int,
    dicom_bytes: int,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    servers: dict[str, str],
    total_s: float,
) -> tuple[str, bool]:
    m = machine()
    small, big = SMALL_MB * MIB, BIG_MB * MIB
    ours_big, boto_big = up.best("ours", big), up.best("boto3", big)
    ours_small, boto_small = up.best("ours", small), up.best("boto3", small)
    ratio = ours_big.mib_s / boto_big.mib_s
    peak_small = max(r.rss_peak_mib for r in up.of("ours", small))
    peak_mid = max(r.rss_peak_mib for r in up.of("ours", MID_MB * MIB))
    peak_big = max(r.rss_peak_mib for r in up.of("ours", big))
    growth, steady_growth = peak_big - peak_small, peak_big - peak_mid
    # The writer may hold a bounded number of parts in flight; a 10 MiB file never fills that pipeline.
    in_flight, part = writer_buffer()
    allowed = RSS_FLAT_MIB + (in_flight + 1) * part / MIB
    throughput_ok = ratio >= THROUGHPUT_TARGET

    def cpu_median(what: str) -> tuple[float, str]:
        runs = up.of(what, big)
        parts = {k: statistics.median(r.cpu_s.get(k, 0.0) for r in runs) for k in ("web", "moto", "client")}
        text = ", ".join(f"{k} {v:.1f}" for k, v in parts.items() if v)
        return statistics.median(sum(r.cpu_s.values()) for r in runs), text

    (cpu_ours, cpu_text_ours), (cpu_boto, cpu_text_boto) = cpu_median("ours"), cpu_median("boto3")
    rss_ok = steady_growth <= RSS_FLAT_MIB and growth <= allowed
    all_accepted = all(set(v.statuses) == {"accepted"} for v in validation)

    lines = [
        "# Benchmarks (issue 4)",
        "",
        f"Generated by `make bench` (bench/run.py) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"the run took {total_s:.0f} s. Do not edit by hand: the next run overwrites this file.",
        "",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, Linux {m['kernel']}",
        f"- Load average before / after: {' '.join(f'{x:.2f}' for x in load_before)} / "
        f"{' '.join(f'{x:.2f}' for x in load_after)}"
        + ("  (**other work was running: figures are noisy**)" if load_before[0] > 0.5 else ""),
        f"- Python {platform.python_version()}, Django {_version('Django')}, gunicorn {_version('gunicorn')}, "
        f"Celery {_version('celery')}, boto3 {_version('boto3')} / botocore {_version('botocore')}, "
        f"moto {_version('moto')}, cryptography {_version('cryptography')}, Pillow {_version('pillow')}, "
        f"pydicom {_version('pydicom')}, PostgreSQL {servers['PostgreSQL']}, Redis {servers['Redis']}",
        "- Everything on loopback: gunicorn (`-w 1 --threads 1`, sync worker), moto_server as S3, "
        "PostgreSQL, Redis; the client streams each file as the body of one PUT, as the upload widget does "
        "(1 MiB pieces, Content-Length set); the form row streams a multipart body the same way.",
        "",
        "## Targets",
        "",
        f"- {'PASS' if throughput_ok else 'FAIL'}: {BIG_MB} MiB upload through the endpoint at "
        f"{ratio:.2f}x plain boto3 `upload_file` to the same server (target >= {THROUGHPUT_TARGET}x; "
        f"{ours_big.mib_s:.1f} vs {boto_big.mib_s:.1f} MiB/s, best of {BIG_ROUNDS} each).",
        f"- {'PASS' if rss_ok else 'FAIL'}: peak RSS of the web worker does not grow with file size: "
        f"{peak_small:.0f} MiB for {SMALL_MB} MiB, {peak_mid:.0f} MiB for {MID_MB} MiB, {peak_big:.0f} MiB for "
        f"{BIG_MB} MiB. From {MID_MB} MiB to {BIG_MB} MiB {steady_growth:+.0f} MiB (target within "
        f"+{RSS_FLAT_MIB} MiB); from {SMALL_MB} MiB {growth:+.0f} MiB (target within +{allowed:.0f} MiB: "
        f"{RSS_FLAT_MIB} MiB plus the writer's buffer of {in_flight} part(s) in flight + 1 filling, "
        f"{part // MIB} MiB each, which a {SMALL_MB} MiB file does not fill).",
        f"- {'PASS' if all_accepted else 'FAIL'}: every benchmark photo and DICOM file was accepted by "
        "validation (the validation figures have no numeric target; they are reported below).",
        "",
        "## Upload through the endpoint vs plain boto3",
        "",
        "| File | Path | Run | Time (s) | MiB/s | Web worker RSS before -> peak (MiB) | moto peak RSS (MiB) "
        "| CPU s: web / moto / client | CPU s per wall s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size in (small, MID_MB * MIB, big):
        for what in ("ours", "boto3", "form"):
            for n, r in enumerate(up.of(what, size), start=1):
                label = {"ours": "endpoint, widget PUT", "boto3": "boto3 upload_file", "form": "endpoint, form POST*"}[
                    what
                ]
                rss = f"{r.rss_start_mib:.0f} -> {r.rss_peak_mib:.0f}" if what != "boto3" else "-"
                lines.append(
                    f"| {size // MIB} MiB | {label} | {n} | {r.seconds:.2f} | {r.mib_s:.1f} | {rss} | "
                    f"{r.moto_peak_mib:.0f} | {_cpu_text(r)} | {_overlap(r):.2f} |"
                )
    lines += [
        "",
        f"- Ratio endpoint / boto3 (best runs): {SMALL_MB} MiB {ours_small.mib_s / boto_small.mib_s:.2f}x, "
        f"{BIG_MB} MiB {ratio:.2f}x.",
        "- \\* Reference only, not the target: the same 1 GiB file through the plain form's multipart POST "
        "(Django's multipart parser in front of the same handler), the path of browsers without JavaScript.",
        f"- Web worker RSS after warm-up {up.warmup_rss_mib:.0f} MiB; its VmHWM (lifetime peak) at the end "
        f"{up.worker_hwm_mib:.0f} MiB.",
        "- Validation was not running during these uploads (tasks were only queued in Redis), so the "
        "request time is the upload path alone: reading the body, SHA-256 of the plaintext (for the receipt), "
        "AES-GCM, CRC32 and the S3 multipart upload.",
        "- CPU s: CPU time used during the transfer by the gunicorn worker, by moto_server and by this "
        "client process (which reads and sends the file; for boto3 it is the uploader). Two CPUs are shared "
        "by all of them. CPU s per wall s near 1 means the steps ran one after another, near 2 that both CPUs "
        f"were busy. The endpoint's S3 writer keeps up to {in_flight} part(s) in flight, boto3 up to 10.",
        f"- CPU per {BIG_MB} MiB (median): endpoint path {cpu_ours:.1f} s ({cpu_text_ours}), boto3 path "
        f"{cpu_boto:.1f} s ({cpu_text_boto}). When everything is CPU-bound on the same {m['nproc']} CPUs, the "
        f"throughput ratio cannot go much above {cpu_boto / cpu_ours:.2f}x (boto3 CPU / endpoint CPU).",
        "",
        *PATH_NOTES,
        "",
        "## Validation (Celery workers, `--concurrency 1` each)",
        "",
        f"Photo: {PHOTOS} copies of one 4000x3000 JPEG (gradients + noise, EXIF orientation 6), "
        f"{photo_bytes / MIB:.1f} MiB each. DICOM: a {DICOM_FILES}-file series made from pydicom's "
        f"CT_small.dcm (128x128, 16 bit), {dicom_bytes / 1024:.0f} KiB per file. Files were uploaded through "
        "the endpoint with no worker running, then the workers were started. Time per file is "
        "`processed_at - claimed_at` of each row (decrypt, verify, sanitise, re-encrypt, store); files/s "
        "counts from the first claim to the last finish; wall time includes worker start-up. Each worker's "
        "first file also pays for its imports (Pillow, pydicom), which shows in p95.",
        "",
        "| Kind | Workers | Files | Median time/file (ms) | p95 (ms) | Files/s | Window (s) | Wall (s) | Outcome |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for v in validation:
        outcome = ", ".join(f"{n} {s}" for s, n in sorted(v.statuses.items()))
        lines.append(
            f"| {v.kind} | {v.workers} | {v.files} | {v.median_s * 1000:.0f} | {v.p95_s * 1000:.0f} | "
            f"{v.files_per_s:.2f} | {v.window_s:.1f} | {v.wall_s:.1f} | {outcome} |"
        )
    lines.append("")
    for kind in ("photo", "dicom"):
        one = [v for v in validation if v.kind == kind and v.workers == 1]
        two = [v for v in validation if v.kind == kind and v.workers == 2]
        if one and two and one[0].files_per_s:
            lines.append(
                f"- {kind}: 2 workers give {two[0].files_per_s / one[0].files_per_s:.2f}x the "
                "files/s of 1 (2 CPUs, shared with moto, PostgreSQL and the web process)."
            )
    lines.append("")
    return "\n".join(lines), throughput_ok and rss_ok and all_accepted


# --- main ---------------------------------------------------------------------------------------------------


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `timeout` still runs the clean-up below
    env = bench_env()
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="so-bench-"))
    logdir = tmp / "logs"
    logdir.mkdir()
    services: list[Service] = []
    ok = False
    try:
        log(f"creating database {BENCH_DB} and migrating")
        setup_database(env)
        flush_queue(env)
        s3 = s3_client()
        port = free_port()
        web = Service(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "secondopinion.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "1",
                "--threads",
                "1",
                "--timeout",
                "600",
                "--max-requests",
                "0",
                "--no-control-socket",
                "--access-logfile",
                str(logdir / "access.log"),
            ],
            env,
            logdir,
        )
        services.append(web)
        site = Site(port)
        site.wait_ready(web)
        workers = children_of(web.proc.pid)
        if len(workers) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {workers}")
        site.login(PATIENT, PASSWORD)
        moto_port = str(urlsplit(os.environ["S3_ENDPOINT_URL"]).port)
        moto_pid = pid_of_cmdline("moto_server", moto_port)
        log(f"gunicorn worker pid {workers[0]}, moto_server pid {moto_pid}")

        up = bench_upload(site, workers[0], moto_pid, tmp, s3)

        log("making test files for validation")
        photo = photo_12mp()
        dicom = dicom_series(DICOM_FILES)
        validation = []
        for kind, files in (
            ("photo", [(f"photo-{i}.jpg", "image/jpeg", photo) for i in range(PHOTOS)]),
            ("dicom", [(f"IM{i:04d}.dcm", "application/dicom", d) for i, d in enumerate(dicom)]),
        ):
            for n in (1, 2):
                validation.append(bench_validation(site, env, logdir, s3, kind, n, files))
        web.stop()
        servers = server_versions()
        text, ok = report(
            up, validation, len(photo), len(dicom[0]), load_before, os.getloadavg(), servers, time.monotonic() - STARTED
        )
        RESULTS.write_text(text)
        print(text)
        log(f"wrote {RESULTS.relative_to(ROOT)}")
    except BaseException:
        for s in services:
            if s.alive() or s.logfile.exists():
                print(f"--- {s.name} log (last lines) ---\n{s.tail()}", file=sys.stderr)
        raise
    finally:
        for s in services:
            s.stop()
        try:
            flush_queue(env)
            drop_database(env)
        except Exception as e:  # noqa: BLE001 - clean-up must not hide the real error
            print(f"bench: clean-up: {e}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    # RESULTS.md is written either way; the exit status says whether every target was met.
    if not ok:
        print("bench: a target was not met (see bench/RESULTS.md)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
