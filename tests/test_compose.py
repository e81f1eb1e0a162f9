"""The production stack as docker-compose.yml describes it: the file validates (docker-compose
config), only the TLS proxy is published, web believes forwarded headers from the proxy's network
only, the worker scans through ClamAV's socket, and deploy/clamav/clamd.conf, run by a real
clamd, takes the largest upload and keeps its spool in memory."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from tests.uploads.sanitize import corpus
from tests.uploads.sanitize.daemon import _clamd_binary, _wait_for
from uploads import clamd

ROOT = Path(__file__).resolve().parent.parent
SITE = {
    "SITE_HOST": "opinion.clinic.example",
    "EMAIL_URL": "smtp+tls://u:p@smtp.clinic.example:587",
    "DEFAULT_FROM_EMAIL": "Second opinion <no-reply@clinic.example>",
}
MB = 1024 * 1024


def _compose(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is not installed (apt-get install docker-compose; make test does it)", pytrace=False
        )
    clean = {k: v for k, v in os.environ.items() if k not in SITE and k != "EDGE_SUBNET"}
    return subprocess.run(
        [binary, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = _compose(SITE, "config")
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = yaml.safe_load(result.stdout)
    return parsed


def _size(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)b?", text.strip().lower()).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": MB, "g": 1024 * MB}[unit]


def _mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume, in compose v1's short form or v2's long form."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        mounts.append((source, target))
    return mounts


def _clamd_conf() -> dict[str, str]:
    lines = (ROOT / "deploy" / "clamav" / "clamd.conf").read_text().splitlines()
    return dict(line.split(None, 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_compose_file_validates_and_runs_every_part(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {
        "caddy",
        "web",
        "worker",
        "beat",
        "migrate",
        "postgres",
        "redis",
        "minio",
        "minio-init",
        "clamav",
    }


def test_it_refuses_to_start_without_the_site_host() -> None:
    result = _compose({k: v for k, v in SITE.items() if k != "SITE_HOST"}, "config", "-q")
    assert result.returncode != 0
    assert "set SITE_HOST" in result.stderr


def test_only_the_tls_proxy_is_published_and_only_it_shares_a_network_with_web(config: dict[str, Any]) -> None:
    services = config["services"]
    assert [name for name, s in services.items() if s.get("ports")] == ["caddy"]
    assert {int(p["target"]) for p in services["caddy"]["ports"]} == {80, 443}
    on_edge = sorted(name for name, s in services.items() if "edge" in (s.get("networks") or {}))
    assert on_edge == ["caddy", "web"]
    subnet = config["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["TRUSTED_PROXIES"] == env["FORWARDED_ALLOW_IPS"] == subnet


def test_the_edge_subnet_can_be_moved_off_a_clinic_network() -> None:
    result = _compose({**SITE, "EDGE_SUBNET": "192.168.250.0/28"}, "config")
    moved = yaml.safe_load(result.stdout)
    assert moved["networks"]["edge"]["ipam"]["config"][0]["subnet"] == "192.168.250.0/28"
    assert moved["services"]["web"]["environment"]["TRUSTED_PROXIES"] == "192.168.250.0/28"


def test_the_worker_scans_through_clamavs_socket_with_late_acks(config: dict[str, Any]) -> None:
    worker, scanner = config["services"]["worker"], config["services"]["clamav"]
    socket_path = worker["environment"]["CLAMD_SOCKET"]
    conf = _clamd_conf()
    assert conf["LocalSocket"] == socket_path
    shared = {source for source, target in _mounts(worker) if target == str(Path(socket_path).parent)}
    assert shared and shared == {source for source, target in _mounts(scanner) if target == "/run/clamav"}
    assert worker["depends_on"]["clamav"]["condition"] == "service_healthy"
    assert "CLAMD_SOCKET" not in config["services"]["web"]["environment"]  # web never scans
    # The socket's group is the application's: the Dockerfile's uid/gid 10001.
    assert scanner["environment"]["CLAMAV_GID"] == "10001"
    assert "--gid 10001" in (ROOT / "Dockerfile").read_text()
    command = worker["command"]
    assert command[command.index("--prefetch-multiplier") + 1] == "1"
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST


def test_clamd_takes_the_largest_upload_and_spools_it_to_memory(config: dict[str, Any]) -> None:
    conf = _clamd_conf()
    largest = max(settings.UPLOAD_LIMITS[k] for k in ("photo_mb", "pdf_mb", "dicom_mb", "archive_mb")) * MB
    assert _size(conf["StreamMaxLength"]) >= largest
    tmpfs = dict(entry.split(":", 1) for entry in config["services"]["clamav"]["tmpfs"])
    options = dict(o.split("=") for o in tmpfs[conf["TemporaryDirectory"]].split(","))
    assert _size(options["size"]) >= _size(conf["StreamMaxLength"])


def test_the_caddyfile_sends_hsts_and_takes_the_largest_upload() -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert re.search(r'Strict-Transport-Security "max-age=(\d+); includeSubDomains', caddyfile)
    assert int(re.search(r"max-age=(\d+)", caddyfile).group(1)) >= 31536000  # type: ignore[union-attr]
    max_size = re.search(r"max_size (\d+)MB", caddyfile)
    assert max_size and int(max_size.group(1)) * MB >= settings.UPLOAD_LIMITS["archive_mb"] * MB
    assert "reverse_proxy {$UPSTREAM:web:8000}" in caddyfile  # the default is compose's web service
    assert "encode" not in re.sub(r"#.*", "", caddyfile)  # no compression of pages (BREACH)


def test_every_secret_is_declared_and_its_creation_is_explained(config: dict[str, Any]) -> None:
    used = {
        s if isinstance(s, str) else s["source"] for svc in config["services"].values() for s in svc.get("secrets", [])
    }
    assert used == set(config["secrets"])
    text = (ROOT / "docker-compose.yml").read_text()
    for name in used:
        assert f"> secrets/{name}" in text, f"the setup comment does not say how to create secrets/{name}"


@pytest.fixture(scope="module")
def production_clamd(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """clamd run with deploy/clamav/clamd.conf; only paths (and the user switch) changed."""
    binary = _clamd_binary()
    if binary is None:
        pytest.fail("clamd is not installed (apt-get install clamav-daemon; make test does it)", pytrace=False)
    tmp = tmp_path_factory.mktemp("prod-clamd")
    (tmp / "db").mkdir()
    (tmp / "spool").mkdir()
    (tmp / "db" / "test.hdb").write_text(
        f"{hashlib.md5(corpus.EICAR).hexdigest()}:{len(corpus.EICAR)}:Eicar-Test-Signature\n"
    )
    replaced = {
        "LocalSocket": str(tmp / "clamd.sock"),
        "DatabaseDirectory": str(tmp / "db"),
        "TemporaryDirectory": str(tmp / "spool"),
    }
    dropped = {"User", "TCPSocket", "TCPAddr", "LocalSocketGroup"}  # no clamav user or port needed here
    lines = []
    for line in (ROOT / "deploy" / "clamav" / "clamd.conf").read_text().splitlines():
        key = line.split(None, 1)[0] if line.strip() and not line.startswith("#") else ""
        if key in dropped:
            continue
        lines.append(f"{key} {replaced[key]}" if key in replaced else line)
    lines.append(f"LogFile {tmp / 'clamd.log'}")
    (tmp / "clamd.conf").write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(
        [binary, "-c", str(tmp / "clamd.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(tmp / "clamd.sock", proc, tmp / "clamd.log")
        yield str(tmp / "clamd.sock")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_production_clamd_config_scans_a_file_past_clamds_default_limit(
    production_clamd: str, settings: Any
) -> None:
    settings.CLAMD_SOCKET = production_clamd
    # clamd's default StreamMaxLength is 25 MB: a DICOM file of 30 MB would be refused with it.
    assert clamd.scan(bytes(30 * MB)) is None
    assert clamd.scan(corpus.EICAR) == "Eicar-Test-Signature.UNOFFICIAL"


def test_the_image_never_takes_the_secrets_or_local_data() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {"secrets", ".env", "var", ".git", "fuzz/work"} <= ignored
