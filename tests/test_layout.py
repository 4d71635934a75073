"""The shape of the house: the cores never import Flask or the platform, packages never
import each other in a circle, and the web layer holds only web code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "trellis"
CORES = ["ledger", "scoring", "chain", "network", "trade", "accounts", "demo", "onboarding",
         "vouchers", "protection", "tasks", "assistant", "notifications"]
FORBIDDEN = ("flask", "flask_login", "flask_wtf", "flask_babel", "werkzeug", "trellis.platform")


def imported_modules(path: Path, module: str | None = None) -> set[str]:
    """Every module *path* imports, at the top or inside functions.

    ``from pkg import name`` also counts ``pkg.name`` (it may be a module); relative
    imports are resolved when the importing *module*'s dotted name is given.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if module is None:
                    continue
                package = module.split(".")
                if path.name != "__init__.py":
                    package = package[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            if base:
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def package_of(name: str, root: Path = ROOT) -> str | None:
    """The package of ``trellis`` that module *name* belongs to: ``trellis.ledger.posting``
    -> ``ledger``; top-level modules (``trellis.db``) are packages of their own; the
    Flask application ``trellis.platform`` is one package."""
    parts = name.split(".")
    if parts[0] != root.name or len(parts) < 2:
        return None
    if not ((root / parts[1]).is_dir() or (root / f"{parts[1]}.py").is_file()):
        return None
    return parts[1]


def package_graph(root: Path = ROOT) -> dict[str, dict[str, list[str]]]:
    """package -> {package it imports: [the imports that make the edge]}."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        source = package_of(module, root)
        if source is None:
            continue
        graph.setdefault(source, {})
        for name in imported_modules(path, module):
            target = package_of(name, root)
            if target is not None and target != source:
                graph[source].setdefault(target, []).append(f"{module} imports {name}")
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    import networkx as nx

    g = nx.DiGraph([(a, b) for a, targets in graph.items() for b in targets])
    return sorted(sorted(c) for c in nx.simple_cycles(g))


def core_files():
    for core in CORES:
        folder = ROOT / core
        if folder.is_dir():
            yield from sorted(folder.rglob("*.py"))
    for single in ("banking.py", "clock.py", "config.py", "db.py", "errors.py", "jobs.py",
                   "migrate.py", "schema.py"):
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


def test_no_import_cycle_between_packages():
    graph = package_graph()
    found = cycles(graph)
    detail = []
    for cycle in found:
        for a in cycle:
            for b in cycle:
                if b in graph.get(a, {}):
                    detail.append(f"{a} -> {b}: {'; '.join(sorted(set(graph[a][b]))[:3])}")
    assert not found, "packages import each other: " + str(found) + "\n" + "\n".join(detail)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "trellis"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_cycle_checker_sees_late_and_relative_imports(tmp_path):
    root = _tree(tmp_path, {
        "__init__.py": "", "a/__init__.py": "", "b/__init__.py": "", "c.py": "",
        "a/x.py": "def f():\n    from trellis.b import y  # import late\n",
        "b/y.py": "from ..c import z\n",
    })
    assert cycles(package_graph(root)) == []
    (root / "c.py").write_text("import trellis.a.x\n")
    assert cycles(package_graph(root)) == [["a", "b", "c"]]


# --- the web layer holds web code ------------------------------------------------------

WEB = ("flask", "flask_login", "flask_wtf", "flask_babel", "werkzeug", "wtforms", "click",
       "jinja2", "markupsafe")


def holds_no_web_code(path: Path) -> bool:
    """True for a module of the web layer that imports nothing of the web stack (its
    logic belongs in a core); a package's ``__init__`` with only a docstring is fine."""
    tree = ast.parse(path.read_text())
    if path.name == "__init__.py" and all(
            isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in tree.body):
        return False
    names = imported_modules(path)
    return not any(n == w or n.startswith(w + ".") for n in names for w in WEB)


@pytest.mark.parametrize("path", sorted((ROOT / "platform").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_platform_module_is_web_code(path):
    assert not holds_no_web_code(path), (
        f"{path} holds no Flask code: move it into the core that owns its concept")


def test_the_web_code_checker_flags_domain_logic(tmp_path):
    plain = tmp_path / "queue.py"
    plain.write_text("from sqlmodel import select\n\ndef decide(): ...\n")
    web = tmp_path / "views.py"
    web.write_text("from flask import Blueprint\n")
    package = tmp_path / "__init__.py"
    package.write_text('"""A web area."""\n')
    assert holds_no_web_code(plain)
    assert not holds_no_web_code(web) and not holds_no_web_code(package)


# --- tests/ mirrors trellis/ ------------------------------------------------------------

TESTS = Path(__file__).resolve().parent
# Suites that cut across packages keep their own folders (see tests/README.md).
CROSS_CUTTING = {"browser", "drills", "outside"}


def misplaced_test_folders(tests: Path = TESTS, root: Path = ROOT) -> list[str]:
    """Folders under *tests* holding test modules that mirror no package of *root*: the
    tests of ``trellis/<a>/<b>`` live in ``tests/<a>/<b>``, those of the web area
    ``trellis/platform/<area>`` in ``tests/platform/<area>``; only the cross-cutting suites
    stand apart."""
    bad = []
    for folder in sorted({p.parent for p in tests.rglob("test_*.py")}):
        rel = folder.relative_to(tests)
        if rel == Path(".") or rel.parts[0] in CROSS_CUTTING:
            continue
        if not (root / rel).is_dir() or not (root / rel / "__init__.py").is_file():
            bad.append(str(rel))
    return bad


def test_tests_mirror_the_package():
    bad = misplaced_test_folders()
    assert not bad, (f"test folders that mirror no package of trellis/: {bad}; put a "
                     "module's tests in tests/<package path>/ (web areas under "
                     "tests/platform/<area>/), see tests/README.md")


def test_the_mirror_checker_flags_a_folder_named_after_a_feature(tmp_path):
    root = _tree(tmp_path, {"__init__.py": "", "ledger/__init__.py": "",
                            "platform/__init__.py": "", "platform/anchor/__init__.py": ""})
    tests = tmp_path / "tests"
    for name in ("ledger/test_a.py", "platform/anchor/test_b.py", "browser/test_c.py",
                 "test_d.py"):
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text("")
    assert misplaced_test_folders(tests, root) == []
    (tests / "anchor").mkdir()
    (tests / "anchor" / "test_e.py").write_text("")
    assert misplaced_test_folders(tests, root) == ["anchor"]
