"""The shape of the house: the cores never import Flask or the platform."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "trellis"
CORES = ["ledger", "scoring", "chain", "network", "trade", "accounts", "demo", "onboarding",
         "vouchers", "protection", "tasks"]
FORBIDDEN = ("flask", "flask_login", "flask_wtf", "flask_babel", "werkzeug", "trellis.platform")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def core_files():
    for core in CORES:
        folder = ROOT / core
        if folder.is_dir():
            yield from sorted(folder.rglob("*.py"))
    for single in ("clock.py", "config.py", "db.py", "errors.py", "jobs.py", "migrate.py",
                   "schema.py"):
        yield ROOT / single


@pytest.mark.parametrize("path", list(core_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_cores_never_import_flask(path):
    bad = {name for name in imported_modules(path)
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path} imports {sorted(bad)}"


def test_no_top_level_platform_package():
    assert not (ROOT.parent / "platform").exists()


def test_the_checker_catches_a_flask_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import g\nimport trellis.platform.web\n")
    assert {"flask", "trellis.platform.web"} <= imported_modules(bad)
