"""Benchmark: gas per document when anchoring Merkle batches, beside one transaction per
document, measured on a real anvil node (started here from node_modules).

For each batch size it anchors batches of that many documents (one ``anchor`` call per
batch, as Trellis does) and divides the gas used by the documents; the baseline, in the
same run on the same node, anchors each document's leaf in its own transaction. It also
reports the fingerprint registry: gas per fingerprint by list size.

    .venv/bin/python bench/chain_gas.py
    .venv/bin/python bench/chain_gas.py --sizes 1,16,256,4096 --singles 100
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trellis.chain import merkle  # noqa: E402
from trellis.chain.client import Chain  # noqa: E402
from trellis.config import Settings  # noqa: E402

# anvil's first development key (public; a local test chain only).
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def start_anvil(state: Path) -> tuple[subprocess.Popen, str]:
    found = sorted(glob.glob(str(ROOT / "node_modules/@foundry-rs/anvil-*/bin/anvil")))
    binary = found[0] if found else str(ROOT / "node_modules/.bin/anvil")
    if not Path(binary).exists():
        raise SystemExit("anvil is not installed: run `npm ci` at the repository root")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", str(port), "--silent",
                             "--hardfork", "cancun", "--state", str(state)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId",
                                     "params": []}, timeout=2)
            return proc, url
        except requests.RequestException:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("anvil did not start")


def leaves(n: int, tag: str) -> list[list[str]]:
    return [["invoice", "0x" + hashlib.sha256(f"{tag}-{i}".encode()).hexdigest(),
             "0x" + hashlib.sha256(f"salt-{tag}-{i}".encode()).hexdigest()] for i in range(n)]


def send(chain: Chain, fn) -> int:
    signed = chain.sign(fn)
    chain.send_raw(signed.raw)
    receipt = chain.wait(signed.tx_hash)
    assert receipt.status == 1
    return receipt.gas_used


def anchor_gas(chain: Chain, values: list[list[str]]) -> int:
    tree = merkle.StandardMerkleTree.of(values)
    manifest = hashlib.sha256(tree.dump_json().encode()).digest()
    return send(chain, chain.contract.functions.anchor(merkle.from_hex(tree.root),
                                                       len(values), manifest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,4,16,64,256,1024",
                        help="batch sizes, comma-separated")
    parser.add_argument("--singles", type=int, default=50,
                        help="documents anchored one transaction each (baseline)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_anvil(Path(tmp) / "state.json")
        try:
            deployer = Chain.connect(Settings(chain_url=url, chain_key=KEY))
            address = deployer.deploy()
            chain = Chain.connect(Settings(chain_url=url, chain_key=KEY,
                                           chain_contract=address))
            chain.check()
            single = [anchor_gas(chain, leaves(1, f"single-{i}"))
                      for i in range(args.singles)]
            per_doc_single = sum(single) / len(single)
            print(f"anvil 1.7.1, registry at {address}")
            print(f"baseline: one transaction per document, {args.singles} documents: "
                  f"{per_doc_single:,.0f} gas per document")
            print(f"{'batch size':>10} {'gas per batch':>14} {'gas per document':>17} "
                  f"{'vs one tx each':>15}")
            for size in sizes:
                gas = anchor_gas(chain, leaves(size, f"batch-{size}"))
                per_doc = gas / size
                print(f"{size:>10,} {gas:>14,} {per_doc:>17,.1f} "
                      f"{per_doc / per_doc_single:>14.4f}x")
            print("fingerprint registry (register a list in one transaction):")
            print(f"{'list size':>10} {'gas':>14} {'gas per fingerprint':>20}")
            for size in (1, 2, 8, 32, 64):
                fps = [hashlib.sha256(f"fp-{size}-{i}".encode()).digest()
                       for i in range(size)]
                gas = send(chain, chain.contract.functions.register(fps))
                print(f"{size:>10} {gas:>14,} {gas / size:>20,.0f}")
        finally:
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    main()
