"""A real Celery worker for tests: a subprocess on the Redis broker, the test database and the S3
server (DESIGN.md "Tasks": the test that shows a pipeline works runs on a worker, never eagerly).

Use the fixtures from a test module or a conftest::

    from tests.worker import bucket_fixture, real_worker_fixture, worker_bucket_fixture, worker_fixture  # noqa: F401

(the functions are named *_fixture, the fixtures `worker`, `worker_bucket`, `bucket`,
`real_worker`, so the imports do not shadow test arguments).

They need the `s3` fixture (tests/fixtures/storage.py) and the shared key ring in the settings
(the `pipeline_keyring` fixture there), since the worker process is started with PIPELINE_KEYRING."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from secondopinion.celery import app as celery_app
from tests.storage import PIPELINE_KEYRING, drop_bucket, new_bucket
from tests.uploads.pipeline.samples import empty_bucket

ROOT = Path(__file__).resolve().parents[1]
READY_WITHIN = 45  # seconds for a worker to start (Django, pikepdf, pydicom, numpy imports)


def worker_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if connection.vendor != "postgresql" or not url:
        pytest.fail(
            "The worker tests need PostgreSQL through DATABASE_URL (a worker cannot share SQLite's "
            "in-memory test database); make test sets it from var/test-services.env.",
            pytrace=False,
        )
    # pytest-django renamed the database (test_<name>): the worker must use that one.
    return re.sub(r"^([^?]*/)[^/?]*", lambda m: m.group(1) + str(connection.settings_dict["NAME"]), url, count=1)


class Worker:
    """`celery worker` in its own process group, so that killing it kills its pool too."""

    def __init__(self, env: dict[str, str], log_dir: Path, *, loglevel: str = "warning") -> None:
        self.env, self.log_dir, self.loglevel = env, log_dir, loglevel
        self.proc: subprocess.Popen[bytes] | None = None
        self.hostname = ""

    def start(self) -> None:
        self.hostname = f"pipeline-{uuid.uuid4().hex[:8]}@test"
        self.log = self.log_dir / f"{self.hostname}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "secondopinion",
                    "worker",
                    "-l",
                    self.loglevel,
                    "--concurrency",
                    "1",
                    "--pool",
                    "prefork",
                    "-Q",
                    "celery",
                    "-n",
                    self.hostname,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the worker exited with {self.proc.returncode}:\n{self.output()}", pytrace=False)
            if celery_app.control.ping(destination=[self.hostname], timeout=0.5):
                return
        self.stop()
        pytest.fail(f"the worker did not answer within {READY_WITHIN} s:\n{self.output()}", pytrace=False)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL to the whole group: the machine lost power, nothing gets to clean up."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):  # its pool children too, whatever became of the parent
            os.killpg(self.proc.pid, signal.SIGKILL)


def forget_queued_tasks() -> None:
    """Messages a killed worker took but never acknowledged, or ones queued by an earlier run."""
    import redis

    celery_app.control.purge()
    redis.Redis.from_url(django_settings.REDIS_URL).delete("unacked", "unacked_index")


@pytest.fixture(scope="module", name="worker_bucket")
def worker_bucket_fixture(s3: Any) -> Iterator[str]:
    name = new_bucket(s3)
    yield name
    drop_bucket(s3, name)


def worker_env(worker_bucket: str) -> dict[str, str]:
    if not django_settings.REDIS_URL:
        pytest.fail(
            "The worker tests need Redis through REDIS_URL (the broker); make test sets it from var/test-services.env.",
            pytrace=False,
        )
    env = {key: value for key, value in os.environ.items() if key not in {"KEYRING_FILE", "CLAMD_SOCKET"}}
    return env | {
        "DJANGO_SETTINGS_MODULE": "secondopinion.settings",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "S3_BUCKET": worker_bucket,
        "KEYRING": PIPELINE_KEYRING.to_json(),
        "KMS_KEY_ID": "",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="module", name="worker")
def worker_fixture(
    django_db_setup: Any, worker_bucket: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    yield from run_worker(Worker(worker_env(worker_bucket), tmp_path_factory.mktemp("workers")))


def run_worker(running: Worker) -> Iterator[Worker]:
    """Start `running` with tasks going to the broker, and stop it and forget its queue after."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    forget_queued_tasks()
    try:
        running.start()
        yield running
    finally:
        running.stop()
        forget_queued_tasks()
        celery_app.conf.task_always_eager = eager


@pytest.fixture(name="bucket")
def bucket_fixture(worker: Worker, worker_bucket: str, s3: Any, settings: Any) -> Iterator[str]:
    """The worker's bucket (it was started with it), emptied after each test."""
    settings.S3_BUCKET = worker_bucket
    yield worker_bucket
    empty_bucket(s3, worker_bucket)


@pytest.fixture(name="real_worker")
def real_worker_fixture(worker: Worker, bucket: str) -> Worker:
    if worker.proc is None or worker.proc.poll() is not None:
        worker.start()  # a test before this one killed it
    return worker
