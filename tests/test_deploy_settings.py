"""Production settings: `check --deploy` is clean and development secrets are refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy import PRODUCTION

ROOT = Path(__file__).resolve().parent.parent


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    drop = {"DEBUG", "SECRET_KEY", "DEPLOYMENT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings(tmp_path: Path) -> None:
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "1"}, "DEBUG is on in production"),
        ({"SECRET_KEY": ""}, "production needs its own SECRET_KEY"),
        ({"SECRET_KEY": "dev-insecure-" + "x" * 60}, "production needs its own SECRET_KEY"),
        ({"SIGNING_KEY": ""}, "production needs its own SIGNING_KEY"),
        ({"SIGNING_KEY": "not a key"}, "SIGNING_KEY must be a PEM Ed25519 private key"),
    ],
)
def test_production_refuses_to_start_with_development_values(tmp_path: Path, env: dict[str, str], message: str) -> None:
    result = _manage(tmp_path, "check", **{**PRODUCTION, **env})
    assert result.returncode != 0
    assert message in result.stderr
