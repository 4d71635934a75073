"""The Merkle tree against OpenZeppelin's StandardMerkleTree: roots, proofs and dumps."""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest

from trellis.chain import merkle


def trellis_values(n: int, seed: str = "x") -> list[list[str]]:
    return [["invoice" if i % 3 else "ledger_entry",
             "0x" + hashlib.sha256(f"{seed}{i}".encode()).hexdigest(),
             "0x" + secrets.token_hex(32)] for i in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_every_proof_verifies_and_a_wrong_one_does_not(n):
    values = trellis_values(n)
    tree = merkle.StandardMerkleTree.of(values)
    assert len(tree.tree) == 2 * n - 1
    for i, value in enumerate(values):
        proof = tree.get_proof(i)
        assert merkle.verify(tree.root, merkle.LEAF_ENCODING, value, proof)
        tampered = [value[0], value[1], "0x" + "00" * 32]
        assert not merkle.verify(tree.root, merkle.LEAF_ENCODING, tampered, proof)
        if proof:
            bad = proof[:-1] + ["0x" + "11" * 32]
            assert not merkle.verify(tree.root, merkle.LEAF_ENCODING, value, bad)


def test_dump_loads_back_and_a_tampered_dump_is_refused():
    tree = merkle.StandardMerkleTree.of(trellis_values(6))
    again = merkle.StandardMerkleTree.load(json.loads(tree.dump_json()))
    assert again.root == tree.root and again.get_proof(3) == tree.get_proof(3)
    data = json.loads(tree.dump_json())
    data["values"][0]["value"][1] = "0x" + "ab" * 32
    with pytest.raises(ValueError):
        merkle.StandardMerkleTree.load(data)


def test_fast_encoding_equals_eth_abi():
    from eth_abi import encode

    for value in trellis_values(4) + [["发票", "0x" + "01" * 32, "0x" + "02" * 32]]:
        expected = encode(["string", "bytes32", "bytes32"],
                          [value[0], bytes.fromhex(value[1][2:]), bytes.fromhex(value[2][2:])])
        assert merkle._encode_trellis(value) == expected


@pytest.mark.parametrize("encoding, values", [
    (["string", "bytes32", "bytes32"], None),
    (["address", "uint256"], [["0x1111111111111111111111111111111111111111", "5000000000000000000"],
                              ["0x2222222222222222222222222222222222222222", "2500000000000000000"],
                              ["0x3333333333333333333333333333333333333333", "1"]]),
])
def test_same_tree_dump_and_proofs_as_the_npm_library(oz, encoding, values):
    values = values or trellis_values(11) + [["voucher_event", "0x" + "00" * 32,
                                              "0x" + "ff" * 32]]
    tree = merkle.StandardMerkleTree.of(values, encoding)
    theirs = oz({"op": "build", "values": values, "encoding": encoding})
    assert theirs["root"] == tree.root
    assert theirs["dump"] == tree.dump_json()  # byte for byte
    assert theirs["proofs"] == [tree.get_proof(i) for i in range(len(values))]
    loaded = oz({"op": "load", "dump": tree.dump_json()})
    assert loaded["root"] == tree.root
    checks = [{"root": tree.root, "encoding": encoding, "value": v, "proof": tree.get_proof(i)}
              for i, v in enumerate(values)]
    checks.append({**checks[0], "root": "0x" + "00" * 32})
    assert oz({"op": "verify", "items": checks})["ok"] == [True] * len(values) + [False]
