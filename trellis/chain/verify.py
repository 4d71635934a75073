"""Checking a proof bundle with no database: ``trellis verify BUNDLE.json``.

Steps, each passed, failed or not checked:

1. ``content_hash``: SHA-256 of the document (the file given, else the bundle's text);
2. ``leaf``: the standard leaf of (type, content hash, salt) is the bundle's leaf;
3. ``merkle_path``: the proof leads from the leaf to the root;
4. ``chain_id``: the node is on the bundle's chain;
5. ``contract_code``: the contract's code is Trellis's registry;
6. ``anchored``: the contract says the root was anchored at the bundle's block;
7. ``canonical_block``: that block's hash is still the bundle's (no reorg since).

The verdict holds only when all seven pass. Steps 4-7 need a node: ``--rpc URL`` (else
``TRELLIS_CHAIN_URL``); a page passes the application's own chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from eth_utils import keccak, to_checksum_address

from trellis.chain import contract as contract_mod
from trellis.chain import merkle
from trellis.chain.bundles import FORMAT
from trellis.chain.errors import BundleError
from trellis.messages import N_, Message, msg

STEP_LABELS = {
    "content_hash": "Content hash (SHA-256 of the document)",
    "leaf": "Leaf (keccak of type, content hash, salt)",
    "merkle_path": "Merkle path from the leaf to the root",
    "chain_id": "Chain id",
    "contract_code": "Contract code is Trellis's registry",
    "anchored": "Root anchored at the recorded block",
    "canonical_block": "Anchoring block still canonical",
}


@dataclass
class Step:
    name: str
    ok: bool | None  # None: could not be checked
    detail: str      # English, for the command line and JSON
    message: Message | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        return STEP_LABELS.get(self.name, self.name)


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return len(self.steps) == len(STEP_LABELS) and all(s.ok for s in self.steps)

    @property
    def complete(self) -> bool:
        return all(s.ok is not None for s in self.steps)

    def add(self, name: str, ok: bool | None, detail: str | Message) -> bool | None:
        message = Message.from_json(detail)
        self.steps.append(Step(name, ok, str(message), message))
        return ok

    def as_dict(self) -> dict:
        return {"ok": self.ok, "steps": [
            {"name": s.name, "ok": s.ok, "detail": s.detail, "label": s.label}
            for s in self.steps]}


def load_bundle(text: str | bytes) -> dict:
    try:
        bundle = json.loads(text)
    except ValueError as exc:
        raise BundleError(f"the bundle is not JSON: {exc}") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError(f"not a Trellis proof bundle (format {FORMAT} expected)")
    for part in ("document", "leaf", "merkle", "anchor"):
        if not isinstance(bundle.get(part), dict):
            raise BundleError(f"the bundle has no {part!r} section")
    return bundle


class _Reader:
    """Read-only chain access for verification: a web3 instance and an optional lock."""

    def __init__(self, w3, lock=None):
        self.w3, self.lock = w3, lock

    def __enter__(self):
        if self.lock is not None:
            self.lock.acquire()
        return self.w3

    def __exit__(self, *exc):
        if self.lock is not None:
            self.lock.release()


def _reader(rpc_url: str | None, chain) -> _Reader | None:
    if chain is not None:
        return _Reader(chain.w3, chain.lock)
    if rpc_url:
        from web3 import Web3

        return _Reader(Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10},
                                              exception_retry_configuration=None)))
    return None


def verify_bundle(bundle: dict, *, document: bytes | None = None, rpc_url: str | None = None,
                  chain=None) -> Report:
    """Check *bundle* (see the module docstring). *document*: the original file's bytes
    (default: the canonical text in the bundle). *chain* (a Chain) or *rpc_url* for the
    on-chain steps; with neither they are reported as not checked."""
    report = Report()
    doc, leaf, tree, anchor = (bundle["document"], bundle["leaf"], bundle["merkle"],
                               bundle["anchor"])
    data = document if document is not None else str(doc.get("canonical", "")).encode()
    digest = hashlib.sha256(data).hexdigest()
    report.add("content_hash", digest == doc.get("content_hash"),
               msg(N_("sha256 %(digest)s"), digest=digest)
               if digest == doc.get("content_hash") else
               msg(N_("sha256 %(digest)s but the bundle says %(claimed)s"), digest=digest,
                   claimed=doc.get("content_hash")))
    value = [doc.get("doc_type"), "0x" + digest, "0x" + str(doc.get("salt"))]
    try:
        computed = merkle.to_hex(merkle.leaf_hash(leaf.get("encoding") or
                                                  merkle.LEAF_ENCODING, value))
    except (ValueError, TypeError) as exc:
        computed = None
        report.add("leaf", False, msg(N_("cannot compute the leaf (%(why)s)"), why=str(exc)))
    if computed is not None:
        report.add("leaf", computed == leaf.get("hash"), msg(N_("leaf %(hash)s"),
                                                             hash=computed))
    try:
        reached = merkle.to_hex(merkle.process_proof(
            merkle.from_hex(leaf.get("hash")), [merkle.from_hex(p) for p in tree["proof"]]))
    except (ValueError, TypeError, KeyError) as exc:
        report.add("merkle_path", False,
                   msg(N_("cannot compute the path (%(why)s)"), why=str(exc)))
    else:
        report.add("merkle_path", reached == tree.get("root"),
                   msg(N_("%(n)s steps reach %(reached)s; root %(root)s"),
                       n=len(tree.get("proof") or []), reached=reached,
                       root=tree.get("root")))
    reader = _reader(rpc_url, chain)
    if reader is None:
        for name in ("chain_id", "contract_code", "anchored", "canonical_block"):
            report.add(name, None, N_("not checked: no node given (use --rpc URL)"))
        return report
    _chain_steps(report, reader, tree, anchor)
    return report


def _chain_steps(report: Report, reader: _Reader, tree: dict, anchor: dict) -> None:
    from trellis.chain.client import node_errors
    from trellis.chain.errors import TrellisError

    names = ["chain_id", "contract_code", "anchored", "canonical_block"]
    try:
        with reader as w3, node_errors("verifying"):
            chain_id = int(w3.eth.chain_id)
            report.add("chain_id", chain_id == anchor.get("chain_id"),
                       msg(N_("node on chain %(node)s, bundle says %(bundle)s"),
                           node=str(chain_id), bundle=str(anchor.get("chain_id"))))
            names.pop(0)
            address = to_checksum_address(anchor["contract_address"])
            code_hash = "0x" + keccak(bytes(w3.eth.get_code(address))).hex()
            expected = contract_mod.runtime_code_hash()
            report.add("contract_code", code_hash == expected,
                       msg(N_("code hash at %(address)s is %(hash)s"), address=address,
                           hash=code_hash) if code_hash == expected else
                       msg(N_("code hash at %(address)s is %(hash)s, not %(expected)s"),
                           address=address, hash=code_hash, expected=expected))
            names.pop(0)
            registry = w3.eth.contract(address=address, abi=contract_mod.abi())
            at = 0
            if code_hash == expected:
                at = int(registry.functions.anchoredAt(
                    merkle.from_hex(tree["root"])).call())
            report.add("anchored", at != 0 and at == anchor.get("block_number"),
                       msg(N_("the registry has the root at block %(at)s, the bundle says "
                              "block %(bundle)s"), at=str(at),
                           bundle=str(anchor.get("block_number"))))
            names.pop(0)
            try:
                block = w3.eth.get_block(int(anchor["block_number"]))
                block_hash = "0x" + bytes(block["hash"]).hex()
            except Exception:  # noqa: BLE001 - a missing block is a failed check
                block_hash = "none"
            report.add("canonical_block", block_hash == anchor.get("block_hash"),
                       msg(N_("block %(number)s is %(hash)s"),
                           number=str(anchor.get("block_number")), hash=block_hash))
            names.pop(0)
    except TrellisError as exc:
        for name in names:
            report.add(name, None, msg(N_("not checked: %(why)s"),
                                       why=Message(exc.template, exc.params)))
    except (KeyError, TypeError, ValueError) as exc:
        for name in names:
            report.add(name, False, msg(N_("the bundle's anchor section is unusable: "
                                           "%(why)s"), why=str(exc)))


def main(argv: list[str] | None = None) -> int:
    """``python -m trellis.chain.verify BUNDLE.json [--document FILE] [--rpc URL]``.
    Exit 0 when every step holds, 1 when one fails, 2 when one could not be checked."""
    import argparse
    import os

    parser = argparse.ArgumentParser(prog="trellis verify", description=__doc__.split("\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--document")
    parser.add_argument("--rpc", default=os.environ.get("TRELLIS_CHAIN_URL") or None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return run_cli(args.bundle, args.document, args.rpc, as_json=args.json)


def run_cli(bundle_path: str, document_path: str | None, rpc: str | None, *,
            as_json: bool = False, echo=print) -> int:
    try:
        with open(bundle_path, "rb") as fh:
            bundle = load_bundle(fh.read())
        document = None
        if document_path:
            with open(document_path, "rb") as fh:
                document = fh.read()
    except (OSError, BundleError) as exc:
        echo(f"error: {getattr(exc, 'message', exc)}")
        return 2
    report = verify_bundle(bundle, document=document, rpc_url=rpc)
    if as_json:
        echo(json.dumps(report.as_dict(), indent=2))
    else:
        for step in report.steps:
            mark = {True: "PASS", False: "FAIL", None: "SKIP"}[step.ok]
            echo(f"{mark}  {step.label}: {step.detail}")
        echo("VERIFIED" if report.ok else "NOT VERIFIED")
    if report.ok:
        return 0
    return 1 if any(s.ok is False for s in report.steps) else 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
