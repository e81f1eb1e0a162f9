"""Loading the key ring, the development ring, and production refusing to start without a real one."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.keyring import KeyRing, load_keyring
from tests.deploy import SIGNING_PEM

ROOT = Path(__file__).resolve().parent.parent.parent
KEY = base64.b64encode(b"k" * 32).decode()


def _ring_json(current: str = "k1", **keys: str) -> str:
    return json.dumps({"current": current, "keys": keys or {"k1": KEY}})


def test_it_loads_a_ring_and_never_prints_its_keys() -> None:
    ring = KeyRing.from_json(_ring_json("k2", k1=KEY, k2=base64.b64encode(b"2" * 32).decode()))

    assert ring.current == "k2" and ring.keys["k1"] == b"k" * 32
    assert KEY not in repr(ring) and "kkkk" not in repr(ring)
    assert KeyRing.from_json(ring.to_json()) == ring


@pytest.mark.parametrize(
    "text",
    [
        "not json " + KEY,
        json.dumps([KEY]),
        json.dumps({"keys": {"k1": KEY}}),
        json.dumps({"current": ["k1"], "keys": {"k1": KEY}}),
        _ring_json("k9"),
        _ring_json(k1=base64.b64encode(b"short").decode()),
        _ring_json(k1=KEY + "!"),
        _ring_json("kms:x", **{"kms:x": KEY}),
    ],
)
def test_it_refuses_a_malformed_ring_without_quoting_it(text: str) -> None:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        KeyRing.from_json(text)
    assert KEY not in str(excinfo.value) and excinfo.value.__cause__ is None


def test_development_makes_a_private_ring_once(tmp_path: Path) -> None:
    ring = load_keyring(None, var_dir=tmp_path, production=False, kms=False)

    path = tmp_path / "dev-keyring.json"
    assert ring is not None and ring.current.startswith("dev-")
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_keyring(None, var_dir=tmp_path, production=False, kms=False) == ring
    assert list(tmp_path.iterdir()) == [path]


def test_production_with_kms_needs_no_local_ring(tmp_path: Path) -> None:
    assert load_keyring(None, var_dir=tmp_path, production=True, kms=True) is None
    assert not (tmp_path / "dev-keyring.json").exists()


def _check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    drop = {"DEBUG", "SECRET_KEY", "DEPLOYMENT", "DJANGO_ALLOW_ASYNC_UNSAFE", "KEYRING", "KEYRING_FILE", "KMS_KEY_ID"}
    base = {k: v for k, v in os.environ.items() if k not in drop}
    production = {
        "DEPLOYMENT": "production",
        "ALLOWED_HOSTS": "x",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "SIGNING_KEY": SIGNING_PEM,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, "VAR_DIR": str(tmp_path), **production, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_key_ring(tmp_path: Path) -> None:
    result = _check(tmp_path)
    assert result.returncode != 0
    assert "Refusing to start: production needs its own KEYRING" in result.stderr
    assert not (tmp_path / "dev-keyring.json").exists()


def test_production_refuses_the_development_key_ring(tmp_path: Path) -> None:
    dev_ring = load_keyring(None, var_dir=tmp_path, production=False, kms=False)
    assert dev_ring is not None

    result = _check(tmp_path, KEYRING_FILE=str(tmp_path / "dev-keyring.json"))
    assert result.returncode != 0
    assert "Refusing to start: production cannot use the development key ring" in result.stderr
    assert dev_ring.to_json() not in result.stderr


@pytest.mark.parametrize(
    "env",
    [{"KEYRING": KeyRing.generate("2026-01").to_json()}, {"KMS_KEY_ID": "alias/secondopinion"}],
    ids=["key ring", "KMS"],
)
def test_production_starts_with_its_own_keys(tmp_path: Path, env: dict[str, str]) -> None:
    result = _check(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "dev-keyring.json").exists()
