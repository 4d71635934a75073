"""Fixtures of the chain tests: settings, an embedded chain per test, real anvil nodes,
and the npm Merkle library.

anvil and node come from ``npm ci`` (package.json at the repository root). Without them
the tests that need them are skipped locally and FAIL under CI=true (``need``).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import need
from trellis.chain import client as client_mod
from trellis.config import Settings

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
OZ_TOOL = Path(__file__).with_name("oz_tool.cjs")

# anvil's well-known development accounts (mnemonic "test test ... junk"): public keys
# for a local test chain, never for real funds.
ANVIL_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
)


def make_settings(**overrides) -> Settings:
    base = {"batch_max_documents": 4, "batch_max_wait_seconds": 3600,
            "chain_confirmations_safe": 2, "chain_confirmations_final": 4,
            "fingerprint_key": "test-fingerprint-key"}
    base.update(overrides)
    return Settings(**base)


@pytest.fixture
def chain_settings():
    return make_settings()


@pytest.fixture
def embedded(chain_settings):
    """A fresh embedded chain, installed as the process-wide chain for the settings."""
    chain = client_mod.Chain.embedded()
    client_mod.use_chain(chain_settings, chain)
    yield chain
    client_mod.reset_chains()


# --- anvil ----------------------------------------------------------------------------


def anvil_binary() -> str | None:
    native = sorted(glob.glob(str(NODE_MODULES / "@foundry-rs" / "anvil-*" / "bin" / "anvil")))
    if native:
        return native[0]
    wrapper = NODE_MODULES / ".bin" / "anvil"
    return str(wrapper) if wrapper.exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AnvilNode:
    """A real anvil process on 127.0.0.1 with its state kept in a file across restarts."""

    def __init__(self, binary: str, state: Path, block_time: int | None = None):
        self.binary, self.state, self.block_time = binary, state, block_time
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AnvilNode:
        args = [self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--silent",
                "--state", str(self.state), "--hardfork", "cancun"]
        if self.block_time:
            args += ["--block-time", str(self.block_time)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.rpc("eth_chainId")
                return self
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("anvil did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # anvil writes --state on a clean exit
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def rpc(self, method: str, params: list | None = None):
        reply = requests.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                              "params": params or []}, timeout=5).json()
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]


@pytest.fixture(scope="session")
def anvil_path():
    binary = anvil_binary()
    need(binary is not None, "anvil is not installed (run `npm ci` at the repository root)")
    return binary


@pytest.fixture
def anvil_factory(anvil_path, tmp_path):
    """Start anvil nodes (stopped after the test): ``anvil_factory(block_time=None)``."""
    nodes: list[AnvilNode] = []

    def start(block_time: int | None = None) -> AnvilNode:
        node = AnvilNode(anvil_path, tmp_path / f"anvil-{len(nodes)}.json", block_time)
        nodes.append(node)
        return node.start()

    yield start
    for node in nodes:
        node.stop()


@pytest.fixture(scope="module")
def anvil(anvil_path, tmp_path_factory):
    """One anvil node shared by a test module."""
    node = AnvilNode(anvil_path, tmp_path_factory.mktemp("anvil") / "state.json").start()
    yield node
    node.stop()


def deploy_registry(url: str, key: str = ANVIL_KEYS[0]) -> str:
    chain = client_mod.Chain.connect(make_settings(chain_url=url, chain_key=key))
    return chain.deploy()


@pytest.fixture
def anvil_settings(anvil):
    """Settings for a fresh registry on the shared anvil node; the chain is installed."""
    address = deploy_registry(anvil.url)
    settings = make_settings(chain_url=anvil.url, chain_key=ANVIL_KEYS[0],
                             chain_contract=address)
    yield settings
    client_mod.reset_chains()


# --- the npm Merkle library ---------------------------------------------------------------


@pytest.fixture(scope="session")
def oz():
    """Run @openzeppelin/merkle-tree: ``oz({"op": ..., ...}) -> dict``."""
    node = shutil.which("node")
    need(node is not None and (NODE_MODULES / "@openzeppelin" / "merkle-tree").is_dir(),
         "node and @openzeppelin/merkle-tree are not installed (run `npm ci`)")

    def run(request: dict) -> dict:
        out = subprocess.run([node, str(OZ_TOOL)], input=json.dumps(request),
                             capture_output=True, text=True, check=True, timeout=120,
                             env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
        return json.loads(out.stdout)

    return run


# --- the web application ------------------------------------------------------------------


@pytest.fixture
def app_settings(database_url, tmp_path):
    return Settings.from_env({}, env="test", database_url=database_url,
                             instance_path=str(tmp_path / "instance"),
                             batch_max_documents=4, batch_max_wait_seconds=3600,
                             chain_confirmations_safe=2, chain_confirmations_final=4)


@pytest.fixture
def chain_app(app_settings, session_factory):
    """The Flask app on the test's connection, with a fresh embedded chain installed."""
    from trellis.platform import create_app

    chain = client_mod.Chain.embedded()
    client_mod.use_chain(app_settings, chain)
    app = create_app({"TESTING": True}, settings=app_settings,
                     session_factory=session_factory)
    app.extensions["test.chain"] = chain
    yield app
    client_mod.reset_chains()
