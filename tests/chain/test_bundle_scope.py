"""Reader 13 (issue 15), H12: the proof page said the demo anchors on a test chain inside
the server, the downloaded bundle did not. A bundle made with the instance's settings now
carries a ``scope`` section, the statement in English and Chinese, which the verifier
holds to Trellis's wording and to the bundle's chain id; a bundle without one (issued
before) verifies as it did."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.chain.test_verify import anchored_bundle  # noqa: F401  (the fixture)
from tests.conftest import need
from trellis.chain import bundles, scope, trust, verify
from trellis.chain.models import Document
from trellis.db import transaction

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scoped_bundle(anchored_bundle, session_factory, chain_settings):  # noqa: F811
    with transaction(session_factory) as s:
        doc = s.scalars(select(Document).order_by(Document.id)).first()
        return bundles.make_bundle(session=s, document=doc, settings=chain_settings)


def _check(bundle, embedded):
    return verify.verify_bundle(bundle, chain=embedded, trust=trust.of_instance(embedded))


def test_a_bundle_says_it_is_on_the_embedded_test_chain_and_verifies(scoped_bundle, embedded):
    said = scoped_bundle["scope"]
    assert said["kind"] == "embedded"
    assert "测试链" in said["zh"] and "不是他人可以核验的证据" in said["zh"]
    assert "test chain inside the server" in said["en"]
    report = _check(scoped_bundle, embedded)
    assert report.ok, report.as_dict()
    assert [s.name for s in report.steps] == list(verify.REQUIRED)
    assert report.step("scope").data["kind"] == "embedded"
    # the file a person downloads holds it as written
    assert said["zh"] in bundles.dumps(scoped_bundle)


def test_a_bundle_issued_before_still_verifies(anchored_bundle, embedded):  # noqa: F811
    assert "scope" not in anchored_bundle
    report = _check(anchored_bundle, embedded)
    assert report.ok, report.as_dict()
    assert report.step("scope").ok is True


@pytest.mark.parametrize("change", [
    lambda b: b["scope"].update(scope.statement(scope.NETWORK)),   # claims a public network
    lambda b: b["scope"].update(kind="local"),                    # another kind's words
    lambda b: b["scope"].update(zh=b["scope"]["zh"] + "可以核验"),  # the words changed
    lambda b: b["scope"].update(kind="public"),                   # no such kind
    lambda b: b["scope"].pop("zh"),                               # a field missing
    lambda b: b["scope"].update(note="extra"),                    # a field added
    lambda b: b["scope"].update(en=42),                           # not text
])
def test_a_changed_scope_statement_does_not_verify(scoped_bundle, embedded, change):
    bundle = copy.deepcopy(scoped_bundle)
    change(bundle)
    report = _check(bundle, embedded)
    assert not report.ok
    assert any(s.ok is False for s in report.steps)


@pytest.mark.parametrize("kind, chain_id, fits", [
    ("embedded", scope.EMBEDDED_CHAIN_ID, True), ("embedded", 1, False),
    ("network", scope.EMBEDDED_CHAIN_ID, False), ("local", scope.EMBEDDED_CHAIN_ID, False),
    ("network", 31337, False), ("local", 31337, True), ("network", 11155111, True),
    ("local", 11155111, True),
])
def test_which_scope_a_chain_id_allows(kind, chain_id, fits):
    assert scope.consistent(kind, chain_id) is fits


def test_the_javascript_verifier_holds_the_same_statements():
    """tools/verify-bundle.cjs keeps its own copy of the wording (it runs without
    Trellis): the two are equal."""
    text = (ROOT / "tools" / "verify-bundle.cjs").read_text()
    block = text.split("// BEGIN STATEMENTS\nconst STATEMENTS = ")[1].split(";\n// END")[0]
    assert json.loads(block) == {k: list(v) for k, v in scope.STATEMENTS.items()}


def test_the_javascript_verifier_checks_the_scope(scoped_bundle, tmp_path):
    node = shutil.which("node")
    need(node is not None and (ROOT / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir(),
         "node and @openzeppelin/merkle-tree are not installed (run `npm ci`)")

    def run(bundle: dict) -> subprocess.CompletedProcess:
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(bundle, ensure_ascii=False))
        return subprocess.run([node, str(ROOT / "tools" / "verify-bundle.cjs"), str(path)],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    ok = run(scoped_bundle)   # no node given: the chain is not checked (exit 2)
    assert ok.returncode == 2 and "PASS  scope: embedded" in ok.stdout, ok.stdout + ok.stderr
    assert "FAIL" not in ok.stdout
    for change in (lambda b: b["scope"].update(scope.statement(scope.NETWORK)),
                   lambda b: b["scope"].update(zh=b["scope"]["zh"] + "。"),
                   lambda b: b["scope"].update(kind="constructor")):
        bundle = copy.deepcopy(scoped_bundle)
        change(bundle)
        out = run(bundle)
        assert out.returncode == 1 and "FAIL  scope" in out.stdout, out.stdout + out.stderr
