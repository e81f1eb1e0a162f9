"""Tests share fixtures through `pytest_plugins` (tests/conftest.py, tests/fixtures/) and helpers
through helper modules: no file under tests/ imports a conftest or a test module. An imported
fixture (an autouse one too) applies wherever it is imported, and an imported test function is
collected again."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _is_forbidden(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "conftest" or last.startswith("test_")


def _imported(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """Every module an import statement in `path` names (relative ones resolved), with its line;
    for `from package import name`, `package.name` too, since the name may be a module."""
    package = ".".join(path.parent.relative_to(root).parts)
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def test_nothing_imports_a_conftest_or_a_test_module() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, module in _imported(path)
        if _is_forbidden(module)
    ]
    assert not offences, "move the fixture to tests/fixtures/ or the helper to a helper module:\n" + "\n".join(offences)


def test_the_check_sees_each_kind_of_import(tmp_path: Path) -> None:
    cases = {
        "from tests.browser.conftest import assert_accessible": True,
        "from tests.reports.test_statistics import reported_case": True,
        "import tests.test_deploy_settings": True,
        "from tests.uploads.sanitize import test_clamd": True,
        "from .conftest import x": True,
        "from . import test_queue": True,
        "def f():\n    from tests.audit.test_checkpoint import _audit_verify": True,
        "from tests.browser.helpers import assert_accessible": False,
        "from tests.reports import helpers": False,
        "import pytest": False,
    }
    package = tmp_path / "tests" / "browser"
    package.mkdir(parents=True)
    for source, forbidden in cases.items():
        path = package / "example.py"
        path.write_text(source + "\n")
        modules = [m for _, m in _imported(path, tmp_path)]
        assert any(map(_is_forbidden, modules)) == forbidden, (source, modules)
