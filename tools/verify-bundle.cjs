#!/usr/bin/env node
// Verify a Trellis proof bundle (trellis-proof-v2) with OpenZeppelin's JavaScript library
// alone: no Trellis, no Python, no web3 library. Node 18+ and `@openzeppelin/merkle-tree`
// (npm install @openzeppelin/merkle-tree@1.0.8, which also gives keccak256). Every field of
// the bundle is checked; any other field is refused.
//
//   node tools/verify-bundle.cjs BUNDLE.json                          # the document and proof
//   node tools/verify-bundle.cjs BUNDLE.json --rpc URL --trusted FILE # and the chain
//
// FILE is the bank's published list of trusted registries (`trellis chain trusted`):
// {"format": "trellis-trusted-registries-v1", "registries": [{"chain_id", "contract",
// "anchorers": [...]}]}. Exit 0: verified; 1: a check failed; 2: could not check.
"use strict";
const fs = require("fs");
const crypto = require("crypto");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { keccak256, standardLeafHash } = require("@openzeppelin/merkle-tree/dist/hashes");

const FIELDS = {
  document: ["doc_type", "canonical", "content_hash", "salt"],
  leaf: ["encoding", "value", "hash"],
  merkle: ["tree", "root", "proof", "leaf_count"],
  anchor: ["chain_id", "contract_address", "contract_code_hash", "tx_hash", "block_number",
           "block_hash", "manifest_hash"],
};
const ENCODING = ["string", "bytes32", "bytes32"];
// The optional scope section: who can check the bundle, in words (Trellis's fixed texts).
const SCOPE_FIELDS = ["kind", "en", "zh"];
// Trellis's statements of who can check a bundle, by kind (trellis/chain/scope.py
// STATEMENTS; tests/chain/test_bundle_scope.py keeps the two equal).
// BEGIN STATEMENTS
const STATEMENTS = {
  "embedded": [
    {
      "en": "Anchored on a test chain inside the server that issued this bundle (the demo's embedded chain): only that platform can read the chain, so nobody outside it can check this bundle against the chain. It is not evidence anyone else can check.",
      "zh": "此证明登记在签发本证明包的服务器内置的测试链上（演示用内置链）：该链只有该平台能读取，平台之外的人无法对照区块链核验本证明包，它不是他人可以核验的证据。"
    }
  ],
  "local": [
    {
      "en": "Anchored on a development chain (a local node such as anvil): only those who can reach that node can check this bundle against the chain.",
      "zh": "此证明登记在开发用区块链（如 anvil 等本地节点）上：只有能访问该节点的人，才能对照区块链核验本证明包。"
    }
  ],
  "network": [
    {
      "en": "Anchored on the network named by anchor.chain_id: anyone can check this bundle against any node of that network, with the registries the bank publishes.",
      "zh": "此证明登记在 anchor.chain_id 所指的区块链网络上：任何人都可以向该网络的任一节点查询，依据本行公布的受信任登记合约核验本证明包。"
    }
  ]
};
// END STATEMENTS
const EMBEDDED_CHAIN_ID = 131277322940537;
const DEVELOPMENT_CHAIN_IDS = [31337, 1337];

const keccakHex = (data) => keccak256(typeof data === "string" ? Buffer.from(data) : data);
const selector = (signature) => keccakHex(signature).slice(0, 10);
const word = (n) => BigInt(n).toString(16).padStart(64, "0");
const same = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();

const results = [];
function step(name, ok, detail) {
  results.push({ name, ok, detail });
  console.log(`${ok === true ? "PASS" : ok === false ? "FAIL" : "SKIP"}  ${name}: ${detail}`);
  return ok;
}

function checkShape(bundle) {
  const top = Object.keys(bundle).sort().join(",");
  const parts = { ...FIELDS, ...("scope" in bundle ? { scope: SCOPE_FIELDS } : {}) };
  if (top !== ["format", ...Object.keys(parts)].sort().join(",")) {
    return `top-level fields are ${top}`;
  }
  if (bundle.format !== "trellis-proof-v2") return `format is ${bundle.format}`;
  for (const [part, names] of Object.entries(parts)) {
    const got = Object.keys(bundle[part] || {}).sort().join(",");
    if (got !== [...names].sort().join(",")) return `${part} has fields ${got}`;
  }
  return null;
}

// A bundle issued before bundles said who can check them has no scope: it passes, saying so.
function checkScope(bundle) {
  const said = bundle.scope;
  const chainId = bundle.anchor.chain_id;
  if (said === undefined) {
    return step("scope", true, "no statement of who can check it (an older bundle)");
  }
  const known = Object.prototype.hasOwnProperty.call(STATEMENTS, said.kind)
    ? STATEMENTS[said.kind] : [];
  const texts = known.some((w) => w.en === said.en && w.zh === said.zh);
  const embedded = chainId === EMBEDDED_CHAIN_ID;
  const fits = said.kind === "embedded" ? embedded
    : said.kind === "network" ? !embedded && !DEVELOPMENT_CHAIN_IDS.includes(chainId)
    : said.kind === "local" ? !embedded : false;
  return step("scope", !!texts && fits, `${said.kind} on chain ${chainId}: ${said.en}`);
}

function offline(bundle) {
  const { document: doc, leaf, merkle } = bundle;
  const digest = crypto.createHash("sha256").update(Buffer.from(doc.canonical, "utf8"))
    .digest("hex");
  step("content_hash", digest === doc.content_hash,
       `sha256 of the document is ${digest}, the bundle says ${doc.content_hash}`);
  let ownType;
  try { ownType = JSON.parse(doc.canonical).doc_type; } catch (e) { ownType = null; }
  const derived = [ownType, "0x" + digest, "0x" + doc.salt];
  const valueOk = JSON.stringify(leaf.value) === JSON.stringify(derived) &&
    ownType === doc.doc_type && JSON.stringify(leaf.encoding) === JSON.stringify(ENCODING);
  let leafHash = null;
  try { leafHash = standardLeafHash(ENCODING, derived); } catch (e) { /* not bytes32 */ }
  step("leaf", valueOk && leafHash === leaf.hash,
       `value ${JSON.stringify(leaf.value)} derived from the document, leaf ${leafHash}`);
  // StandardMerkleTree.verify: the proof leads from the value's leaf to the root.
  let verified = false;
  try {
    verified = StandardMerkleTree.verify(merkle.root, leaf.encoding, leaf.value, merkle.proof);
  } catch (e) { verified = false; }
  const n = merkle.leaf_count;
  const depths = Number.isInteger(n) && n > 0
    ? [Math.floor(Math.log2(n)), Math.floor(Math.log2(2 * n - 1))] : [1, 0];
  const depthOk = merkle.proof.length >= depths[0] && merkle.proof.length <= depths[1];
  step("merkle_path", verified && depthOk && merkle.tree === "openzeppelin-standard-v1",
       `StandardMerkleTree.verify(root, encoding, value, proof) = ${verified}; ` +
       `${merkle.proof.length} steps in a tree of ${n} leaves`);
}

async function rpc(url, method, params) {
  const reply = await fetch(url, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await reply.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function online(bundle, url, trustedPath) {
  const { anchor, merkle } = bundle;
  const chainId = parseInt(await rpc(url, "eth_chainId", []), 16);
  step("chain_id", chainId === anchor.chain_id, `node on ${chainId}, bundle says ${anchor.chain_id}`);
  const listed = trustedPath ? JSON.parse(fs.readFileSync(trustedPath, "utf8")).registries : [];
  const entry = listed.find((r) => same(r.contract, anchor.contract_address) &&
    (r.chain_id === null || r.chain_id === anchor.chain_id));
  step("trusted", !!entry, entry ? `${anchor.contract_address} is listed` :
       `contract ${anchor.contract_address} is NOT a registry you trust`);
  const code = await rpc(url, "eth_getCode", [anchor.contract_address, "latest"]);
  const codeHash = keccakHex(Buffer.from(code.slice(2), "hex"));
  step("contract_code", codeHash === anchor.contract_code_hash,
       `keccak of the code is ${codeHash}`);
  const at = await rpc(url, "eth_call", [{ to: anchor.contract_address,
    data: selector("anchoredAt(bytes32)") + merkle.root.slice(2) }, "latest"]);
  step("anchored", at !== "0x" && BigInt(at) === BigInt(anchor.block_number),
       `anchoredAt(root) = ${at === "0x" ? 0 : BigInt(at)}`);
  const tx = await rpc(url, "eth_getTransactionByHash", [anchor.tx_hash]);
  const receipt = await rpc(url, "eth_getTransactionReceipt", [anchor.tx_hash]);
  const input = selector("anchor(bytes32,uint256,bytes32)") + merkle.root.slice(2) +
    word(merkle.leaf_count) + anchor.manifest_hash.slice(2);
  const topic = keccakHex("Anchored(bytes32,address,uint256,bytes32)");
  const event = receipt && receipt.logs.find((l) => same(l.address, anchor.contract_address) &&
    l.topics[0] === topic && l.topics[1] === merkle.root);
  const txOk = !!(tx && receipt && same(tx.to, anchor.contract_address) &&
    tx.input === input && receipt.status === "0x1" &&
    BigInt(receipt.blockNumber) === BigInt(anchor.block_number) &&
    receipt.blockHash === anchor.block_hash && event &&
    event.data === "0x" + word(merkle.leaf_count) + anchor.manifest_hash.slice(2));
  step("transaction", txOk, `transaction ${anchor.tx_hash} calls anchor(root, leaf_count, ` +
       "manifest_hash) on the registry in the bundle's block, and logs Anchored");
  const submitter = event ? "0x" + event.topics[2].slice(26) : null;
  const anchorerOk = !!(entry && submitter && same(submitter, tx.from) &&
    (entry.anchorers || []).some((a) => same(a, submitter)));
  step("anchorer", anchorerOk, `submitter ${submitter} ` +
       (anchorerOk ? "is a trusted anchoring account" : "is NOT a trusted anchoring account"));
  const block = await rpc(url, "eth_getBlockByNumber",
                          ["0x" + anchor.block_number.toString(16), false]);
  step("canonical_block", !!block && block.hash === anchor.block_hash,
       `block ${anchor.block_number} is ${block ? block.hash : "missing"}`);
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : null; };
  let bundle;
  try {
    bundle = JSON.parse(fs.readFileSync(args[0], "utf8"));
  } catch (e) {
    console.log(`error: cannot read the bundle: ${e.message}`);
    return 2;
  }
  const problem = checkShape(bundle);
  if (!step("bundle", problem === null, problem || "every field present, none extra")) {
    console.log("NOT VERIFIED");
    return 1;
  }
  try {
    checkScope(bundle);
    offline(bundle);
  } catch (e) {
    step("document", false, `the bundle's values are unusable: ${e.message}`);
  }
  const url = opt("--rpc");
  if (url) {
    try {
      await online(bundle, url, opt("--trusted"));
    } catch (e) {
      step("chain", null, `not checked: ${e.message}`);
    }
  } else {
    step("chain", null, "not checked: no node given (use --rpc URL --trusted FILE)");
  }
  const ok = results.every((r) => r.ok === true);
  console.log(ok ? "VERIFIED" : "NOT VERIFIED");
  return ok ? 0 : (results.some((r) => r.ok === false) ? 1 : 2);
}

main().then((code) => process.exit(code));
