"""The on-chain steps of verifying a proof bundle (see :mod:`trellis.chain.verify`):
chain id, trusted registry, contract code, ``anchoredAt``, the anchoring transaction and
its ``Anchored`` event, the anchoring account, and the block still being canonical.

Read-only, with a short timeout; a node that does not answer leaves the remaining steps
"not checked", never passed.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from eth_utils import keccak, to_checksum_address

from trellis.chain import contract as contract_mod
from trellis.chain import merkle
from trellis.chain.rpc import node_errors
from trellis.errors import TrellisError

if TYPE_CHECKING:
    from trellis.chain.client import Chain
    from trellis.chain.trust import Trust
    from trellis.chain.verify import Report

CHAIN_STEPS = ("chain_id", "trusted", "contract_code", "anchored", "transaction", "anchorer",
               "canonical_block")


class _Reader:
    """Read-only chain access for verification: a web3 instance and an optional lock."""

    def __init__(self, w3: Any, lock: threading.Lock | threading.RLock | None = None) -> None:
        self.w3, self.lock = w3, lock

    def __enter__(self) -> Any:
        if self.lock is not None:
            self.lock.acquire()
        return self.w3

    def __exit__(self, *exc: object) -> None:
        if self.lock is not None:
            self.lock.release()


def reader(rpc_url: str | None, chain: Chain | None) -> _Reader | None:
    """A reader of *chain* (a Chain, with its lock) or of the node at *rpc_url*, or None."""
    if chain is not None:
        return _Reader(chain.w3, chain.lock)
    if rpc_url:
        from web3 import Web3

        return _Reader(Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10},
                                              exception_retry_configuration=None)))
    return None


def chain_steps(report: Report, source: _Reader, tree: dict[str, Any],
                anchor: dict[str, Any], trust: Trust) -> None:
    """Add the :data:`CHAIN_STEPS` to *report* (a verify.Report), trusting *trust*."""

    done: list[str] = []
    try:
        with source as w3, node_errors("verifying"):
            _on_chain(report, w3, tree, anchor, trust, done)
    except TrellisError as exc:
        for name in CHAIN_STEPS:
            if name not in done:
                report.add(name, None, f"not checked: {exc.message}")


def _on_chain(report: Report, w3: Any, tree: dict[str, Any], anchor: dict[str, Any],
              trust: Trust, done: list[str]) -> None:
    from web3 import exceptions as w3exc
    from web3.logs import DISCARD

    def add(name: str, ok: bool | None, detail: str, **data: Any) -> None:
        report.add(name, ok, detail, **data)
        done.append(name)

    node_chain = int(w3.eth.chain_id)
    add("chain_id", node_chain == anchor["chain_id"],
        f"node on chain {node_chain}, bundle says {anchor['chain_id']}")
    address = to_checksum_address(anchor["contract_address"])
    trusted = trust.find(anchor["chain_id"], address)
    add("trusted", trusted is not None,
        f"{address} on chain {anchor['chain_id']} is trusted ({trusted.name or 'listed'})"
        if trusted else f"contract {address} on chain {anchor['chain_id']} is NOT a registry "
        f"this verifier trusts (trusted: {trust.describe()})",
        contract=address, chain_id=anchor["chain_id"])
    code_hash = "0x" + keccak(bytes(w3.eth.get_code(address))).hex()
    expected = contract_mod.runtime_code_hash()
    is_registry = code_hash == expected
    add("contract_code", is_registry and anchor["contract_code_hash"] == expected,
        f"code hash at {address} is {code_hash}" +
        ("" if is_registry else f", not the registry's {expected}") +
        ("" if anchor["contract_code_hash"] == expected else
         f"; the bundle says {anchor['contract_code_hash']}"))
    registry = w3.eth.contract(address=address, abi=contract_mod.abi())
    root = merkle.from_hex(tree["root"])
    at = int(registry.functions.anchoredAt(root).call()) if is_registry else 0
    add("anchored", at != 0 and at == anchor["block_number"],
        f"anchoredAt(root) = {at}, bundle says block {anchor['block_number']}")
    try:
        tx = w3.eth.get_transaction(anchor["tx_hash"])
        receipt = w3.eth.get_transaction_receipt(anchor["tx_hash"])
    except (w3exc.TransactionNotFound, ValueError):
        tx = receipt = None
    bad, sender = _transaction_problems(registry, tx, receipt, address, tree, anchor)
    events: list[Any] = []
    if receipt is not None and not bad:
        logs = [log for log in receipt["logs"]
                if str(log["address"]).lower() == address.lower()]
        events = [e for e in registry.events.Anchored().process_receipt(
            {**receipt, "logs": logs}, errors=DISCARD) if e["args"]["root"] == root]
        if not events:
            bad.append("its receipt has no Anchored event of this root from the registry")
        for e in events:
            args = e["args"]
            if (args["leafCount"] != tree["leaf_count"]
                    or "0x" + bytes(args["manifestHash"]).hex() != anchor["manifest_hash"]
                    or args["submitter"].lower() != str(sender).lower()):
                bad.append("its Anchored event states other values")
    add("transaction", not bad, f"transaction {anchor['tx_hash']} called anchor(root, "
        f"{tree['leaf_count']}, {anchor['manifest_hash']}) in block {anchor['block_number']}"
        if not bad else f"transaction {anchor['tx_hash']}: " + "; ".join(bad))
    if trusted is None:
        add("anchorer", False, f"nobody anchoring in {address} is trusted: the registry is not")
    elif bad or not events:
        add("anchorer", False, "no anchoring event to take the submitter from")
    else:
        submitter = events[0]["args"]["submitter"]
        if trusted.anchorers:
            ok = submitter.lower() in trusted.anchorers
            why = "a trusted anchoring account" if ok else (
                f"NOT a trusted anchoring account ({', '.join(sorted(trusted.anchorers))})")
        else:
            ok = bool(registry.functions.isSubmitter(submitter).call(
                block_identifier=anchor["block_number"]))
            why = ("authorised by the trusted registry" if ok else
                   "not authorised by the registry")
        add("anchorer", ok, f"submitter {submitter} is {why}", submitter=submitter)
    try:
        block = w3.eth.get_block(anchor["block_number"])
        block_hash, head = "0x" + bytes(block["hash"]).hex(), int(w3.eth.block_number)
    except (w3exc.BlockNotFound, ValueError):
        block_hash, head = "none", None
    confirmations = "" if head is None else f" ({head - anchor['block_number'] + 1} " \
                                            "confirmations)"
    add("canonical_block", block_hash == anchor["block_hash"],
        f"block {anchor['block_number']} is {block_hash}{confirmations}" +
        ("" if block_hash == anchor["block_hash"] else f", bundle says {anchor['block_hash']}"))


def _transaction_problems(registry: Any, tx: Any, receipt: Any, address: str,
                          tree: dict[str, Any], anchor: dict[str, Any],
                          ) -> tuple[list[str], str]:
    if tx is None or receipt is None or receipt.get("blockNumber") is None:
        return ["no such mined transaction on this chain"], ""
    bad = []
    if str(tx.get("to") or "").lower() != address.lower():
        bad.append(f"it was sent to {tx.get('to')}, not the registry")
    if int(receipt["status"]) != 1:
        bad.append("it failed")
    if int(receipt["blockNumber"]) != anchor["block_number"]:
        bad.append(f"it is in block {receipt['blockNumber']}")
    if "0x" + bytes(receipt["blockHash"]).hex() != anchor["block_hash"]:
        bad.append(f"its block hash is 0x{bytes(receipt['blockHash']).hex()}")
    try:
        fn, args = registry.decode_function_input(tx["input"])
    except ValueError:
        fn, args = None, {}
    if fn is None or fn.fn_name != "anchor":
        bad.append("it does not call anchor()")
    elif (args["root"] != merkle.from_hex(tree["root"]) or args["leafCount"] != tree["leaf_count"]
          or "0x" + bytes(args["manifestHash"]).hex() != anchor["manifest_hash"]):
        bad.append(f"it anchors root 0x{bytes(args['root']).hex()} of {args['leafCount']} "
                   f"leaves, manifest 0x{bytes(args['manifestHash']).hex()}")
    return bad, str(tx.get("from") or "")
