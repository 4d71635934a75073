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
from trellis.chain.trust import OWN_NAME
from trellis.errors import TrellisError
from trellis.messages import N_, Message, msg

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
        from web3 import Web3  # late: seconds to import; only a check against a node needs it

        return _Reader(Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10},
                                              exception_retry_configuration=None)))
    return None


def chain_steps(report: Report, source: _Reader, tree: dict[str, Any],
                anchor: dict[str, Any], trust: Trust) -> None:
    """Add the :data:`CHAIN_STEPS` to *report* (a verify.Report), trusting *trust*."""

    from trellis.chain.rpc import node_errors  # late: imports web3, as in reader

    done: list[str] = []
    try:
        with source as w3, node_errors("verifying"):
            _on_chain(report, w3, tree, anchor, trust, done)
    except TrellisError as exc:
        for name in CHAIN_STEPS:
            if name not in done:
                report.add(name, None, msg(N_("not checked: %(why)s"), why=exc.message))


def _on_chain(report: Report, w3: Any, tree: dict[str, Any], anchor: dict[str, Any],
              trust: Trust, done: list[str]) -> None:
    from web3 import exceptions as w3exc  # late: as in reader
    from web3.logs import DISCARD

    def add(name: str, ok: bool | None, detail: str | Message, **data: Any) -> None:
        report.add(name, ok, detail, **data)
        done.append(name)

    node_chain = int(w3.eth.chain_id)
    add("chain_id", node_chain == anchor["chain_id"],
        msg(N_("node on chain %(node)s, bundle says %(said)s"), node=str(node_chain),
            said=str(anchor["chain_id"])))
    address = to_checksum_address(anchor["contract_address"])
    trusted = trust.find(anchor["chain_id"], address)
    add("trusted", trusted is not None,
        msg(N_("%(address)s on chain %(chain)s is trusted (%(name)s)"), address=address,
            chain=str(anchor["chain_id"]), name=_registry_name(trusted.name))
        if trusted else msg(N_("contract %(address)s on chain %(chain)s is NOT a registry "
                               "this verifier trusts (trusted: %(trusted)s)"),
                            address=address, chain=str(anchor["chain_id"]),
                            trusted=trust.describe()),
        contract=address, chain_id=anchor["chain_id"])
    code_hash = "0x" + keccak(bytes(w3.eth.get_code(address))).hex()
    expected = contract_mod.runtime_code_hash()
    is_registry = code_hash == expected
    problems = []
    if not is_registry:
        problems.append(msg(N_("not the registry's %(expected)s"), expected=expected))
    if anchor["contract_code_hash"] != expected:
        problems.append(msg(N_("the bundle says %(said)s"), said=anchor["contract_code_hash"]))
    add("contract_code", is_registry and anchor["contract_code_hash"] == expected,
        msg(N_("code hash at %(address)s is %(hash)s"), address=address, hash=code_hash)
        if not problems else
        msg(N_("code hash at %(address)s is %(hash)s: %(problems)s"), address=address,
            hash=code_hash, problems=problems))
    registry = w3.eth.contract(address=address, abi=contract_mod.abi())
    root = merkle.from_hex(tree["root"])
    at = int(registry.functions.anchoredAt(root).call()) if is_registry else 0
    add("anchored", at != 0 and at == anchor["block_number"],
        msg(N_("the registry records the root at block %(at)s, the bundle says block "
               "%(said)s"), at=str(at), said=str(anchor["block_number"])))
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
            bad.append(msg(N_("its receipt has no Anchored event of this root from the "
                              "registry")))
        for e in events:
            args = e["args"]
            if (args["leafCount"] != tree["leaf_count"]
                    or "0x" + bytes(args["manifestHash"]).hex() != anchor["manifest_hash"]
                    or args["submitter"].lower() != str(sender).lower()):
                bad.append(msg(N_("its Anchored event states other values")))
    add("transaction", not bad,
        msg(N_("transaction %(tx)s anchored this root of %(n)s documents (manifest "
               "%(manifest)s) in block %(block)s"), tx=anchor["tx_hash"],
            n=tree["leaf_count"], manifest=anchor["manifest_hash"],
            block=str(anchor["block_number"]))
        if not bad else msg(N_("transaction %(tx)s: %(problems)s"), tx=anchor["tx_hash"],
                            problems=bad))
    if trusted is None:
        add("anchorer", False, msg(N_("nobody anchoring in %(address)s is trusted: the "
                                      "registry is not"), address=address))
    elif bad or not events:
        add("anchorer", False, msg(N_("no anchoring event to take the submitter from")))
    else:
        submitter = events[0]["args"]["submitter"]
        if trusted.anchorers:
            ok = submitter.lower() in trusted.anchorers
            text = (msg(N_("submitter %(who)s is a trusted anchoring account"), who=submitter)
                    if ok else msg(N_("submitter %(who)s is NOT a trusted anchoring account "
                                      "(%(trusted)s)"), who=submitter,
                                   trusted=", ".join(sorted(trusted.anchorers))))
        else:
            ok = bool(registry.functions.isSubmitter(submitter).call(
                block_identifier=anchor["block_number"]))
            text = (msg(N_("submitter %(who)s is authorised by the trusted registry"),
                        who=submitter) if ok else
                    msg(N_("submitter %(who)s is not authorised by the registry"),
                        who=submitter))
        add("anchorer", ok, text, submitter=submitter)
    try:
        block = w3.eth.get_block(anchor["block_number"])
        block_hash, head = "0x" + bytes(block["hash"]).hex(), int(w3.eth.block_number)
    except (w3exc.BlockNotFound, ValueError):
        block_hash, head = None, None
    same = block_hash == anchor["block_hash"]
    if block_hash is None:
        text = msg(N_("block %(block)s is not on this chain, the bundle says %(said)s"),
                   block=str(anchor["block_number"]), said=anchor["block_hash"])
    elif same:
        text = msg(N_("block %(block)s is %(hash)s (%(n)s confirmations)"),
                   block=str(anchor["block_number"]), hash=block_hash,
                   n=head - anchor["block_number"] + 1)
    else:
        text = msg(N_("block %(block)s is %(hash)s, the bundle says %(said)s"),
                   block=str(anchor["block_number"]), hash=block_hash,
                   said=anchor["block_hash"])
    add("canonical_block", same, text)


def _registry_name(name: str) -> str | dict[str, str]:
    """A trusted registry's name; the instance's own in both languages."""
    if name == OWN_NAME:
        return {"en": OWN_NAME, "zh": "本系统"}
    return name or "✓"


def _transaction_problems(registry: Any, tx: Any, receipt: Any, address: str,
                          tree: dict[str, Any], anchor: dict[str, Any],
                          ) -> tuple[list[Message], str]:
    if tx is None or receipt is None or receipt.get("blockNumber") is None:
        return [msg(N_("no such mined transaction on this chain"))], ""
    bad = []
    if str(tx.get("to") or "").lower() != address.lower():
        bad.append(msg(N_("it was sent to %(to)s, not the registry"), to=str(tx.get("to"))))
    if int(receipt["status"]) != 1:
        bad.append(msg(N_("it failed")))
    if int(receipt["blockNumber"]) != anchor["block_number"]:
        bad.append(msg(N_("it is in block %(block)s"), block=str(receipt["blockNumber"])))
    if "0x" + bytes(receipt["blockHash"]).hex() != anchor["block_hash"]:
        bad.append(msg(N_("its block hash is %(hash)s"),
                       hash="0x" + bytes(receipt["blockHash"]).hex()))
    try:
        fn, args = registry.decode_function_input(tx["input"])
    except ValueError:
        fn, args = None, {}
    if fn is None or fn.fn_name != "anchor":
        bad.append(msg(N_("it does not call anchor()")))
    elif (args["root"] != merkle.from_hex(tree["root"]) or args["leafCount"] != tree["leaf_count"]
          or "0x" + bytes(args["manifestHash"]).hex() != anchor["manifest_hash"]):
        bad.append(msg(N_("it anchors root %(root)s of %(n)s leaves, manifest %(manifest)s"),
                       root="0x" + bytes(args["root"]).hex(), n=args["leafCount"],
                       manifest="0x" + bytes(args["manifestHash"]).hex()))
    return bad, str(tx.get("from") or "")
