"""Every public function and method of the cores says what it does (beancount's standard:
units such as fen, micro-rates and dates, and ranges, where they matter).

Public: a top-level function, or a method of a top-level class, whose name (and class
name) does not start with ``_``. Cores: every package of ``trellis`` but the Flask
application (``trellis/platform``) and the migrations.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "trellis"
NOT_CORES = ("platform", "migrations")
# Packages whose docstrings their owners are still writing; each leaves this list (and
# is checked like the rest) when done.
NOT_YET_DOCUMENTED: tuple[str, ...] = ()


def core_modules(root: Path = ROOT) -> list[Path]:
    skip = NOT_CORES + NOT_YET_DOCUMENTED
    return [p for p in sorted(root.rglob("*.py"))
            if p.relative_to(root).parts[0] not in skip]


def undocumented(source: str) -> list[str]:
    """``name`` or ``Class.name`` of each public function or method without a docstring."""
    tree = ast.parse(source)
    missing: list[str] = []

    def check(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not node.name.startswith("_") and ast.get_docstring(node) is None:
                    missing.append(prefix + node.name)
            elif isinstance(node, ast.ClassDef) and not prefix \
                    and not node.name.startswith("_"):
                check(node.body, node.name + ".")

    check(tree.body, "")
    return missing


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_public_functions_have_docstrings(path: Path) -> None:
    missing = undocumented(path.read_text(encoding="utf-8"))
    assert not missing, f"{path.relative_to(ROOT.parent)}: no docstring on {missing}"


def test_the_check_finds_a_missing_docstring() -> None:
    source = ('def shown(x):\n    return x\n\n'
              'def _hidden(x):\n    return x\n\n'
              'class Card:\n'
              '    def score(self):\n        return 1\n\n'
              '    def named(self):\n        """Has one."""\n\n'
              '    def _private(self):\n        return 2\n')
    assert undocumented(source) == ["shown", "Card.score"]


def test_the_excluded_packages_exist() -> None:
    for name in NOT_YET_DOCUMENTED:
        assert (ROOT / name).is_dir(), f"{name} is excluded but is no package of trellis"
