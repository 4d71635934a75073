"""Benchmark: Trellis's Merkle tree beside @openzeppelin/merkle-tree on the same leaves.

For N documents (default 20,000; the issue's size is ``--n 100000``) with Trellis's leaf
encoding [string, bytes32, bytes32], it times, in Python (trellis.chain.merkle) and in
node (the npm library, run in the same invocation on the very same values):

- building the tree (leaf hashing, sorting, node hashing),
- producing every proof,
- verifying every proof,

and checks that both give the same root, the same proofs (SHA-256 over all of them) and
the same standard-v1 dump (SHA-256). Node and the npm package come from ``npm ci``.

    .venv/bin/python bench/chain_merkle.py               # 20,000 documents
    .venv/bin/python bench/chain_merkle.py --n 100000    # the issue's size (minutes)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trellis.chain import merkle  # noqa: E402

NODE_SCRIPT = r"""
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const crypto = require("crypto");
const fs = require("fs");
const values = JSON.parse(fs.readFileSync(process.argv[process.argv.length - 1], "utf8"));
const enc = ["string", "bytes32", "bytes32"];
let t = process.hrtime.bigint();
const tree = StandardMerkleTree.of(values, enc);
const build = Number(process.hrtime.bigint() - t) / 1e9;
t = process.hrtime.bigint();
const proofs = [];
for (let i = 0; i < values.length; i++) proofs.push(tree.getProof(i));
const prove = Number(process.hrtime.bigint() - t) / 1e9;
t = process.hrtime.bigint();
let ok = 0;
for (let i = 0; i < values.length; i++) {
  if (StandardMerkleTree.verify(tree.root, enc, values[i], proofs[i])) ok++;
}
const verify = Number(process.hrtime.bigint() - t) / 1e9;
const h = crypto.createHash("sha256");
for (const p of proofs) h.update(p.join(",") + "\n");
const dump = crypto.createHash("sha256").update(JSON.stringify(tree.dump())).digest("hex");
process.stdout.write(JSON.stringify({ root: tree.root, build, prove, verify, ok,
                                      proofs: h.digest("hex"), dump }));
"""


def values_for(n: int) -> list[list[str]]:
    """Deterministic Trellis leaves: (type, sha256 of a document, salt)."""
    types = ("invoice", "order", "confirmation", "ledger_entry")
    return [[types[i % 4], "0x" + hashlib.sha256(f"doc-{i}".encode()).hexdigest(),
             "0x" + hashlib.sha256(f"salt-{i}".encode()).hexdigest()] for i in range(n)]


def python_run(values: list[list[str]]) -> dict:
    t = time.perf_counter()
    tree = merkle.StandardMerkleTree.of(values)
    build = time.perf_counter() - t
    t = time.perf_counter()
    proofs = [tree.get_proof(i) for i in range(len(values))]
    prove = time.perf_counter() - t
    t = time.perf_counter()
    ok = sum(merkle.verify(tree.root, merkle.LEAF_ENCODING, v, p)
             for v, p in zip(values, proofs, strict=True))
    verify = time.perf_counter() - t
    digest = hashlib.sha256()
    for p in proofs:
        digest.update((",".join(p) + "\n").encode())
    return {"root": tree.root, "build": build, "prove": prove, "verify": verify, "ok": ok,
            "proofs": digest.hexdigest(),
            "dump": hashlib.sha256(tree.dump_json().encode()).hexdigest()}


def node_run(values: list[list[str]]) -> dict | None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir():
        print("node or @openzeppelin/merkle-tree missing (run `npm ci`): no baseline")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "values.json"
        path.write_text(json.dumps(values))
        out = subprocess.run([node, "-e", NODE_SCRIPT, str(path)], capture_output=True,
                             text=True, check=True,
                             env={**os.environ, "NODE_PATH": str(ROOT / "node_modules")})
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="documents (default 20000)")
    args = parser.parse_args()
    values = values_for(args.n)
    py = python_run(values)
    js = node_run(values)
    print(f"{args.n:,} documents, leaf encoding {list(merkle.LEAF_ENCODING)}")
    print(f"{'step':28} {'Trellis (Python)':>17} {'npm library':>12} {'ratio':>7}")
    for key, label in (("build", "build tree"), ("prove", "all proofs"),
                       ("verify", "verify all proofs")):
        other = f"{js[key]:11.2f}s" if js else "          -"
        ratio = f"{py[key] / js[key]:6.2f}x" if js and js[key] else "      -"
        print(f"{label:28} {py[key]:16.2f}s {other} {ratio}")
    total_py = py["build"] + py["prove"] + py["verify"]
    if js:
        total_js = js["build"] + js["prove"] + js["verify"]
        print(f"{'total':28} {total_py:16.2f}s {total_js:11.2f}s {total_py / total_js:6.2f}x")
    print(f"proofs verified: Python {py['ok']:,}" + (f", npm {js['ok']:,}" if js else ""))
    print(f"root: {py['root']}")
    if js:
        same = {k: py[k] == js[k] for k in ("root", "proofs", "dump")}
        print("same root: {root}; same proofs: {proofs}; same standard-v1 dump: {dump}"
              .format(**same))
        if not all(same.values()):
            raise SystemExit("MISMATCH between Trellis and the npm library")


if __name__ == "__main__":
    main()
