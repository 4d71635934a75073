"""Chain drill from outside: a real proof bundle, then every field flipped in turn.

Made from the README's "What an outside auditor needs" section only. The instance runs
on anvil (the embedded chain lives inside one process, so a second process such as
`trellis verify` cannot reach it; the README's own auditor story needs a node URL).
Everything goes through the public `trellis` commands as subprocesses.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import need
from tests.drills.conftest import ROOT, base_env, free_port, trellis

ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
STRANGER = "0x" + "5eed" * 10

pytestmark = pytest.mark.chain_node


@pytest.fixture(scope="module")
def anchored(seeded_template, tmp_path_factory):
    need(ANVIL.exists(), f"anvil is not installed at {ANVIL}")
    folder = tmp_path_factory.mktemp("chain-drill")
    shutil.copy(seeded_template, folder / "trellis.db")
    port = free_port()
    node = subprocess.Popen([str(ANVIL), "--port", str(port), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        rpc = f"http://127.0.0.1:{port}"
        env = base_env(folder) | {"TRELLIS_CHAIN_URL": rpc, "TRELLIS_CHAIN_KEY": KEY0}
        out = trellis(env, "chain", "deploy", check=True).stdout
        contract = next(w for w in out.split() if w.startswith("0x") and len(w) == 42)
        env["TRELLIS_CHAIN_CONTRACT"] = contract
        trellis(env, "chain", "anchor-now", check=True)
        bundle = folder / "bundle.json"
        trusted = folder / "trusted.json"
        trellis(env, "proof", "invoice/1", "--out", str(bundle), check=True)
        trellis(env, "chain", "trusted", "--out", str(trusted), check=True)
        yield {"env": env, "rpc": rpc, "bundle": json.loads(bundle.read_text()),
               "trusted": trusted, "folder": folder}
    finally:
        node.terminate()
        node.wait(timeout=10)


def _verify(anchored, bundle: dict, name: str) -> subprocess.CompletedProcess:
    path = Path(anchored["folder"]) / f"{name}.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    return trellis(anchored["env"], "verify", str(path), "--rpc", anchored["rpc"],
                   "--trusted", str(anchored["trusted"]), timeout=300)


def _flip(value):
    """Another value of the same kind: one hex digit changed, a string altered, n+1."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        if value.startswith("0x") and len(value) > 2:
            last = value[-1].lower()
            return value[:-1] + ("1" if last != "1" else "2")
        if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
            return value[:-1] + ("1" if value[-1] != "1" else "2")
        if value.startswith("{"):  # the canonical document: change one figure in it
            return value.replace("0", "1", 1) if "0" in value else value + " "
        return value + "x"
    raise TypeError(type(value))


def _leaves(node, path=()):
    """Every scalar field of the bundle, walked generically (lists: first and last item)."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(node, list):
        picks = sorted({0, len(node) - 1}) if len(node) > 2 else range(len(node))
        for i in picks:
            yield from _leaves(node[i], (*path, i))
    else:
        yield path


def _set(bundle, path, value):
    target = bundle
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _get(bundle, path):
    for step in path:
        bundle = bundle[step]
    return bundle


def test_real_bundle_verifies(anchored):
    run = _verify(anchored, anchored["bundle"], "genuine")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "VERIFIED" in run.stdout


def test_every_flipped_field_is_refused(anchored):
    original = anchored["bundle"]
    paths = list(_leaves(original))
    sections = {p[0] for p in paths}
    assert {"format", "document", "leaf", "merkle", "anchor"} <= sections, sections

    def attempt(path):
        forged = copy.deepcopy(original)
        _set(forged, path, _flip(_get(original, path)))
        assert forged != original
        run = _verify(anchored, forged, "flip-" + "-".join(map(str, path)))
        return path, run

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(attempt, paths))
    accepted = ["/".join(map(str, path)) for path, run in results if run.returncode == 0]
    assert not accepted, f"trellis verify accepted bundles with these fields flipped: {accepted}"
    for path, run in results:
        assert "VERIFIED" not in run.stdout.split("\n")[-2:], path


def test_extra_and_missing_fields_are_refused(anchored):
    extra = copy.deepcopy(anchored["bundle"])
    extra["anchor"]["note"] = "trust me"
    missing = copy.deepcopy(anchored["bundle"])
    del missing["anchor"]["manifest_hash"]
    for name, forged in (("extra", extra), ("missing", missing)):
        run = _verify(anchored, forged, name)
        assert run.returncode != 0, f"{name}: {run.stdout}"


def test_changed_contract_is_refused_naming_it(anchored):
    forged = copy.deepcopy(anchored["bundle"])
    forged["anchor"]["contract_address"] = STRANGER
    run = _verify(anchored, forged, "stranger")
    assert run.returncode != 0, run.stdout
    said = (run.stdout + run.stderr).lower()
    assert STRANGER.lower() in said, f"the refusal does not name {STRANGER}: {said[-1500:]}"
    assert "untrusted" in said, said[-1500:]
