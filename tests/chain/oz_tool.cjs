// Cross-check helper: runs @openzeppelin/merkle-tree on what the Python tests send.
// stdin: {"op": "build", "values": [...], "encoding": [...]}  -> {"root", "dump", "proofs"}
//        {"op": "verify", "items": [{"root", "encoding", "value", "proof"}]} -> {"ok": [...]}
//        {"op": "load", "dump": "<standard-v1 JSON>"} -> {"root", "proofs", "dump"}
"use strict";
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  let out;
  if (req.op === "build" || req.op === "load") {
    const tree = req.op === "build"
      ? StandardMerkleTree.of(req.values, req.encoding)
      : StandardMerkleTree.load(JSON.parse(req.dump));
    const proofs = [];
    for (const [i] of tree.entries()) proofs.push(tree.getProof(i));
    out = { root: tree.root, dump: JSON.stringify(tree.dump()), proofs };
  } else if (req.op === "verify") {
    out = { ok: req.items.map((it) =>
      StandardMerkleTree.verify(it.root, it.encoding, it.value, it.proof)) };
  } else {
    throw new Error("unknown op " + req.op);
  }
  process.stdout.write(JSON.stringify(out));
});
