"""Helpers for the forgery drills: walking a bundle's fields to flip them one at a time,
and a forger who deploys a look-alike registry and anchors a forged document there.

Written from the issue's description of the attack (a second ``TrellisRegistry`` from
any key, a forged invoice's root, that contract's address in the bundle), not from the
verifier's code.
"""

from __future__ import annotations

import copy
import hashlib
import secrets

from trellis.chain import bundles, canonical, contract, merkle


def _flip_scalar(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        digits = value[2:] if value.startswith("0x") else value
        if digits and all(c in "0123456789abcdefABCDEF" for c in digits):
            return value[:-1] + ("1" if value[-1] == "0" else "0")
        return value + "x"
    raise TypeError(f"cannot flip {value!r}")


def paths(node, path=()):
    """Every scalar in *node* (dicts and lists walked), as key/index paths."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*path, i))
    else:
        yield path


def _at(node, path):
    for part in path[:-1]:
        node = node[part]
    return node


def variants(bundle: dict):
    """(description, changed bundle) for every field flipped, every key removed, every
    list lengthened, and one unknown field added to each object: none may verify."""
    for path in paths(bundle):
        changed = copy.deepcopy(bundle)
        parent = _at(changed, path)
        parent[path[-1]] = _flip_scalar(parent[path[-1]])
        yield "flip " + ".".join(map(str, path)), changed

    def containers(node, path=()):
        yield path, node
        children = node.items() if isinstance(node, dict) else (
            enumerate(node) if isinstance(node, list) else ())
        for key, value in children:
            if isinstance(value, dict | list):
                yield from containers(value, (*path, key))

    for path, node in list(containers(bundle)):
        if isinstance(node, dict):
            for key in node:
                changed = copy.deepcopy(bundle)
                target = changed
                for part in path:
                    target = target[part]
                del target[key]
                yield "remove " + ".".join(map(str, (*path, key))), changed
            changed = copy.deepcopy(bundle)
            target = changed
            for part in path:
                target = target[part]
            target["note"] = "unchecked"
            yield "add " + ".".join(map(str, (*path, "note"))), changed
        elif isinstance(node, list) and node:
            changed = copy.deepcopy(bundle)
            target = changed
            for part in path:
                target = target[part]
            target.append(target[-1])
            yield "lengthen " + ".".join(map(str, path)), changed


def forge_bundle(chain, registry_address: str, payload: dict, *, doc_type="invoice") -> dict:
    """Anchor a forged document's root in *registry_address* from *chain*'s account and
    return the bundle the forger would hand out: a trellis-proof-v2 bundle complete in
    every field, true about the forger's own registry."""
    text = canonical.canonical_bytes(doc_type, payload).decode("utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    salt = secrets.token_hex(32)
    value = [doc_type, "0x" + digest, "0x" + salt]
    decoy = [doc_type, "0x" + secrets.token_hex(32), "0x" + secrets.token_hex(32)]
    tree = merkle.StandardMerkleTree.of([value, decoy])
    manifest = "0x" + hashlib.sha256(tree.dump_json().encode()).hexdigest()
    registry = chain.w3.eth.contract(address=registry_address, abi=contract.abi())
    fn = registry.functions.anchor(merkle.from_hex(tree.root), 2, merkle.from_hex(manifest))
    signed = chain.sign(fn)
    chain.send_raw(signed.raw)
    receipt = chain.wait(signed.tx_hash)
    assert receipt.status == 1
    return {
        "format": bundles.FORMAT,
        "document": {"doc_type": doc_type, "canonical": text, "content_hash": digest,
                     "salt": salt},
        "leaf": {"encoding": list(merkle.LEAF_ENCODING), "value": value,
                 "hash": tree.leaf(0)},
        "merkle": {"tree": merkle.TREE_NAME, "root": tree.root, "proof": tree.get_proof(0),
                   "leaf_count": 2},
        "anchor": {"chain_id": chain.chain_id, "contract_address": registry_address.lower(),
                   "contract_code_hash": contract.runtime_code_hash(),
                   "tx_hash": receipt.tx_hash, "block_number": receipt.block_number,
                   "block_hash": receipt.block_hash, "manifest_hash": manifest},
    }
