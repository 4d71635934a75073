"""Checking a proof bundle with no database: ``trellis verify BUNDLE.json``.

Every field a bundle carries is checked against the facts; a bundle with any other field,
or missing one, is refused (step ``bundle``). Steps, each passed, failed or not checked:

1. ``bundle``: exactly the fields of :data:`~trellis.chain.bundles.FORMAT`, each of its type
   (and, optionally, the ``scope`` section of :data:`~trellis.chain.bundles.SCOPE_FIELDS`);
1a. ``scope``: the bundle's ``scope`` statement (who can check it) is one of Trellis's
   (:data:`trellis.chain.scope.STATEMENTS`) and fits ``anchor.chain_id`` (the embedded
   chain's id is said to be the embedded chain; a development chain is never a public
   network); a bundle without one (issued before they existed) passes, saying so;
2. ``content_hash``: SHA-256 of the document (the file given AND the bundle's text) is
   ``document.content_hash``;
3. ``leaf``: ``leaf.value`` is derived from the document (its own ``doc_type``, its
   content hash, ``document.salt``), ``leaf.encoding`` is Trellis's and ``leaf.hash`` is
   the OpenZeppelin standard leaf of that value;
4. ``merkle_path``: the proof leads from the leaf to ``merkle.root`` in a tree of
   ``merkle.leaf_count`` leaves;
5. ``chain_id``: the node is on ``anchor.chain_id``;
6. ``trusted``: ``anchor.contract_address`` is a registry this verifier was told to trust
   on that chain (see :mod:`trellis.chain.trust`);
7. ``contract_code``: the code there is Trellis's registry (``anchor.contract_code_hash``);
8. ``anchored``: the contract says the root was anchored at ``anchor.block_number``;
9. ``transaction``: ``anchor.tx_hash`` was mined successfully in that block, sent to the
   registry, calling ``anchor(root, leaf_count, manifest_hash)`` with the bundle's values,
   and its receipt holds the registry's ``Anchored`` event with the same values;
10. ``anchorer``: the event's submitter (the transaction's sender) is a trusted anchoring
    account of that registry;
11. ``canonical_block``: the block's hash is still ``anchor.block_hash`` (no reorg since);
12. ``manifest`` (only when the batch's manifest, its ``tree.json``, is given): it hashes to
    ``anchor.manifest_hash``, rebuilds the root and holds the leaf among ``leaf_count``.

The verdict holds only when all pass. Steps 5-11 (:mod:`trellis.chain.onchain`) need a
node: ``--rpc URL`` (else ``TRELLIS_CHAIN_URL``); a page passes the application's own
chain and trust.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from trellis import safejson
from trellis.chain import canonical, merkle, onchain
from trellis.chain import scope as scope_mod
from trellis.chain import trust as trust_mod
from trellis.chain.bundles import FIELDS, FORMAT, SCOPE_FIELDS
from trellis.chain.errors import BundleError, CanonicalFormError
from trellis.messages import N_, Message, msg

if TYPE_CHECKING:
    from trellis.chain.client import Chain

STEP_LABELS = {
    "bundle": "Bundle holds exactly the fields of " + FORMAT,
    "scope": "Scope statement (who can check the bundle) fits its chain",
    "content_hash": "Content hash (SHA-256 of the document)",
    "leaf": "Leaf value and hash derived from the document",
    "merkle_path": "Merkle path from the leaf to the root",
    "chain_id": "Chain id",
    "trusted": "Registry is one this verifier trusts",
    "contract_code": "Contract code is Trellis's registry",
    "anchored": "Root anchored at the recorded block",
    "transaction": "Anchoring transaction carries this root",
    "anchorer": "Anchored by a trusted account",
    "canonical_block": "Anchoring block still canonical",
    "manifest": "Batch manifest matches",
}
REQUIRED = tuple(name for name in STEP_LABELS if name != "manifest")


@dataclass
class Step:
    """One check of a verification: its name, outcome (None: could not be checked) and
    what it found."""

    name: str
    ok: bool | None  # None: could not be checked
    detail: str   # English, for the command line and logs
    data: dict[str, Any] = field(default_factory=dict)  # values a page puts in a translated message
    message: Message | None = None   # the detail as a template and parameters, for pages

    @property
    def label(self) -> str:
        """The step's name as a person reads it (English; pages translate it)."""
        return STEP_LABELS.get(self.name, self.name)


@dataclass
class Report:
    """The steps of one verification, in the order they ran."""

    steps: list[Step] = field(default_factory=list)
    #: the chain id the bundle says it was anchored on (None: the bundle has none)
    chain_id: int | None = None

    @property
    def scope(self) -> scope_mod.ChainScope | None:
        """Who can check the anchoring this report verified (:func:`trellis.chain.scope.of_node`
        of its chain id, no node): the verdict carries it, since "the anchoring stands"
        on the embedded chain is evidence to nobody outside this platform (reader 13, J8)."""
        return None if self.chain_id is None else scope_mod.of_node(None, self.chain_id)

    @property
    def ok(self) -> bool:
        """True when every required step ran and every step passed."""
        names = [s.name for s in self.steps]
        return all(n in names for n in REQUIRED) and all(s.ok for s in self.steps)

    @property
    def complete(self) -> bool:
        """True when no step was left unchecked (a node away leaves some unchecked)."""
        return all(s.ok is not None for s in self.steps)

    def step(self, name: str) -> Step | None:
        """The step called *name*, or None when it did not run."""
        return next((s for s in self.steps if s.name == name), None)

    @property
    def untrusted_contract(self) -> str | None:
        """The bundle's contract when the verifier does not trust it, else None."""
        step = self.step("trusted")
        if step is None or step.ok is not False:
            return None
        contract = step.data.get("contract")
        return str(contract) if contract is not None else None

    def add(self, name: str, ok: bool | None, detail: str | Message, **data: Any
            ) -> bool | None:
        """Record a step; returns *ok* so a caller can chain on it."""
        message = detail if isinstance(detail, Message) else Message(str(detail))
        self.steps.append(Step(name, ok, str(message), data, message))
        return ok

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON data (``ok``, ``untrusted_contract``, ``steps``)."""
        return {"ok": self.ok, "untrusted_contract": self.untrusted_contract,
                "steps": [{k: v for k, v in asdict(s).items() if k != "message"}
                          | {"label": s.label} for s in self.steps]}


def load_bundle(text: str | bytes) -> dict[str, Any]:
    """The proof bundle in *text* (JSON); raises BundleError when it is not JSON, is an old
    ``trellis-proof-v1`` bundle or lacks a section."""
    try:
        bundle: Any = safejson.loads(text)
    except ValueError as exc:
        raise BundleError(msg(N_("the bundle is not JSON: %(error)s"), error=str(exc))) from None
    if isinstance(bundle, dict) and bundle.get("format") == "trellis-proof-v1":
        raise BundleError(msg(N_("this is a %(old)s bundle, whose extra fields nobody checks: "
                              "download a fresh proof (%(format)s)"),
                              old="trellis-proof-v1", format=FORMAT))
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError(msg(N_("not a Trellis proof bundle (format %(format)s expected)"),
                              format=FORMAT))
    for part in ("document", "leaf", "merkle", "anchor"):
        if not isinstance(bundle.get(part), dict):
            raise BundleError(msg(N_("the bundle has no section for %(section)s (%(name)s)"),
                              section=msg(SECTION_WORDS[part]), name=part))
    return bundle


#: a bundle's sections and the kinds of its fields, as a person reads them (the
#: English field names stay in the English text, for the command line)
SECTION_WORDS = {"format": N_("the format"), "document": N_("the document"),
                 "leaf": N_("the leaf"), "merkle": N_("the Merkle path"),
                 "anchor": N_("the anchoring record"),
                 "scope": N_("the statement of who can check it")}
KIND_WORDS = {"int": N_("a whole number"), "hex32": N_("a 32-byte hexadecimal value"),
              "address": N_("an account address"),
              "hex32 list": N_("a list of 32-byte hexadecimal values"),
              "text list": N_("a list of texts"), "text": N_("text")}


def _difference(got: Any, want: Any) -> dict[str, Any]:
    """Missing and unknown names of a section, counted and named."""
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    return {"missing": len(missing), "extra": len(extra),
            "names": ", ".join([*missing, *extra]) or "-"}


def shape_problem(bundle: Any) -> Message | None:
    """Why *bundle* is not exactly a :data:`FORMAT` bundle (a field missing, extra or of
    the wrong type), as a message (its English text names the fields), or None."""
    if not isinstance(bundle, dict):
        return msg(N_("the bundle is not a JSON object"))
    want = ["format", *FIELDS, *(["scope"] if "scope" in bundle else [])]
    if set(bundle) != set(want):
        return msg(N_("the bundle's parts are not those of %(format)s (%(missing)s missing, "
                      "%(extra)s unknown: %(names)s)"), format=FORMAT,
                   **_difference(bundle, want))
    if bundle["format"] != FORMAT:
        return msg(N_("format is %(got)s, not %(format)s"), got=repr(bundle["format"])[:80],
                   format=FORMAT)
    sections = {**FIELDS, **({"scope": SCOPE_FIELDS} if "scope" in bundle else {})}
    for part, kinds in sections.items():
        section = bundle[part]
        if not isinstance(section, dict):
            return msg(N_("%(section)s is not a section of fields"),
                       section=msg(SECTION_WORDS[part]))
        if set(section) != set(kinds):
            return msg(N_("%(section)s has the wrong fields (%(missing)s missing, %(extra)s "
                          "unknown: %(names)s)"), section=msg(SECTION_WORDS[part]),
                       **_difference(section, kinds))
        for name, kind in kinds.items():
            value = section[name]
            if not _of_kind(value, kind):
                return msg(N_("in %(section)s, %(name)s is not %(kind)s"),
                           section=msg(SECTION_WORDS[part]), name=f"{part}.{name}",
                           kind=msg(KIND_WORDS[kind]))
    return None


def _of_kind(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "hex32":
        return _is_hex(value, 32)
    if kind == "address":
        return isinstance(value, str) and trust_mod.ADDRESS_RE.match(value) is not None
    if kind == "hex32 list":
        return isinstance(value, list) and all(_is_hex(v, 32) for v in value)
    if kind == "text list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, str)


def _is_hex(value: Any, size: int) -> bool:
    return (isinstance(value, str) and len(value) == 2 + 2 * size and value.startswith("0x")
            and all(c in "0123456789abcdef" for c in value[2:]))


def verify_bundle(bundle: dict[str, Any], *, document: bytes | None = None,
                  rpc_url: str | None = None, chain: Chain | None = None,
                  trust: trust_mod.Trust | None = None,
                  manifest: bytes | None = None) -> Report:
    """Check *bundle* (see the module docstring). *document*: the original file's bytes
    (checked beside the canonical text in the bundle). *chain* (a Chain) or *rpc_url* for
    the on-chain steps; with neither they are reported as not checked. *trust*: the
    registries and anchoring accounts to accept (None or empty: none is trusted).
    *manifest*: the batch's ``tree.json``, checked when given."""
    report = Report()
    problem = shape_problem(bundle)
    if report.add("bundle", problem is None,
                  msg(N_("not a proof's fields: %(problem)s"), problem=problem) if problem
                  else msg(N_("every field present, none extra"))) is False:
        return report
    doc, leaf, tree, anchor = (bundle["document"], bundle["leaf"], bundle["merkle"],
                               bundle["anchor"])
    report.chain_id = anchor["chain_id"]
    _scope_step(report, bundle.get("scope"), anchor["chain_id"])
    _document_steps(report, doc, leaf, tree, document)
    if manifest is not None:
        _manifest_step(report, manifest, leaf, tree, anchor)
    reader = onchain.reader(rpc_url, chain)
    if reader is None:
        for name in onchain.CHAIN_STEPS:
            report.add(name, None, msg(N_("not checked: no node given (use --rpc URL)")))
        return report
    onchain.chain_steps(report, reader, tree, anchor, trust or trust_mod.Trust())
    return report


#: the scope kinds in words, for the scope step's messages
SCOPE_WORDS = {scope_mod.EMBEDDED: N_("the test chain inside the issuing server"),
               scope_mod.LOCAL: N_("a development chain"),
               scope_mod.NETWORK: N_("a public network")}


def _scope_step(report: Report, said: dict[str, Any] | None, chain_id: int) -> None:
    """The ``scope`` step: the statement is Trellis's for its kind and fits the chain."""
    if said is None:
        report.add("scope", True, msg(N_("no statement of who can check it (a bundle issued "
                                         "before bundles carried one)")))
        return
    kind = said["kind"]
    known = scope_mod.STATEMENTS.get(kind)
    words = {"en": said["en"], "zh": said["zh"]}
    if known is None:
        report.add("scope", False, msg(N_("the scope %(kind)s is none of embedded, local or "
                                          "network"), kind=repr(kind)[:40]))
    elif words not in known:
        report.add("scope", False, msg(N_("the statement of who can check it is not "
                                          "Trellis's wording for %(kind)s"),
                                       kind=msg(SCOPE_WORDS[kind])))
    elif not scope_mod.consistent(kind, chain_id):
        report.add("scope", False, msg(N_("the bundle says it is anchored on %(kind)s, "
                                          "which chain %(chain_id)s is not"),
                                       kind=msg(SCOPE_WORDS[kind]), chain_id=str(chain_id)))
    else:
        report.add("scope", True, msg(N_("anchored on %(kind)s, as chain %(chain_id)s "
                                         "allows"),
                                      kind=msg(SCOPE_WORDS[kind]), chain_id=str(chain_id)),
                   kind=kind)


def _document_steps(report: Report, doc: dict[str, Any], leaf: dict[str, Any], tree: dict[str, Any],
                    document: bytes | None) -> None:
    text = doc["canonical"].encode("utf-8")
    digest = hashlib.sha256(text).hexdigest()
    bad = []
    if digest != doc["content_hash"]:
        bad.append(msg(N_("the bundle's text hashes to %(hash)s"), hash=digest))
    if document is not None and hashlib.sha256(document).hexdigest() != doc["content_hash"]:
        bad.append(msg(N_("the file given hashes to %(hash)s"),
                       hash=hashlib.sha256(document).hexdigest()))
    report.add("content_hash", not bad,
               msg(N_("SHA-256 %(hash)s"), hash=doc["content_hash"]) if not bad else
               msg(N_("%(problems)s, but the bundle says %(hash)s"), problems=bad,
                   hash=doc["content_hash"]))
    unreadable: Message | None = None
    try:
        own_type, _ = canonical.parse(text)
    except CanonicalFormError as exc:
        # a changed field can break the document's own rules (a USCC's check character):
        # say which, in words, never the parser's English
        own_type, unreadable = "", Message(exc.template, exc.params)
    derived = [own_type, "0x" + digest, "0x" + doc["salt"].lower()]
    bad = []
    if unreadable is not None:
        bad.append(msg(N_("the document breaks its own rules (%(why)s): it is not the "
                          "document that was anchored"), why=unreadable))
    elif own_type != doc["doc_type"]:
        bad.append(msg(N_("the document is a %(own)s, the bundle says %(said)s"), own=own_type,
                       said=doc["doc_type"]))
    if leaf["encoding"] != list(merkle.LEAF_ENCODING):
        bad.append(msg(N_("encoding %(got)s is not %(want)s"), got=str(leaf["encoding"]),
                       want=str(list(merkle.LEAF_ENCODING))))
    if not _is_hex("0x" + doc["salt"], 32):
        bad.append(msg(N_("the salt is not 64 lower-case hex digits")))
    elif leaf["value"] != derived:
        # Each part that differs, in words: never the list itself (a reader saw a Python
        # list with the English document type).
        got = list(leaf["value"]) + [None] * 3
        parts = (N_("the leaf names the document type %(got)s; the document is %(want)s"),
                 N_("the leaf records the content hash %(got)s; the document's text hashes to "
                    "%(want)s (the document was changed)"),
                 N_("the leaf records the salt %(got)s; the bundle's salt is %(want)s"))
        for template, was, want in zip(parts, got[:3], derived, strict=True):
            if was != want and not (unreadable is not None and template is parts[0]):
                bad.append(msg(template, got=str(was), want=str(want)))
        if not bad:   # the three parts agree, but the value has more
            bad.append(msg(N_("the leaf value has %(n)s parts; a leaf has 3"),
                           n=len(leaf["value"])))
    computed = None
    if not bad:
        computed = merkle.to_hex(merkle.leaf_hash(merkle.LEAF_ENCODING, derived))
        if computed != leaf["hash"]:
            bad.append(msg(N_("the leaf of that value is %(computed)s, the bundle says "
                              "%(said)s"), computed=computed, said=leaf["hash"]))
    report.add("leaf", not bad, msg(N_("leaf %(hash)s"), hash=computed) if not bad
               else msg(N_("%(problems)s"), problems=bad))
    reached = merkle.to_hex(merkle.process_proof(
        merkle.from_hex(leaf["hash"]), [merkle.from_hex(p) for p in tree["proof"]]))
    bad = []
    if tree["tree"] != merkle.TREE_NAME:
        bad.append(msg(N_("tree %(got)s is not %(want)s"), got=repr(tree["tree"]),
                       want=merkle.TREE_NAME))
    if reached != tree["root"]:
        bad.append(msg(N_("the path reaches %(reached)s, not the root %(root)s"),
                       reached=reached, root=tree["root"]))
    depths = merkle.leaf_depths(tree["leaf_count"])
    if len(tree["proof"]) not in depths:
        bad.append(msg(N_("a tree of %(n)s leaves has no leaf %(steps)s steps deep"),
                       n=tree["leaf_count"], steps=len(tree["proof"])))
    report.add("merkle_path", not bad,
               msg(N_("%(steps)s steps reach %(reached)s in a tree of %(n)s leaves"),
                   steps=len(tree["proof"]), reached=reached, n=tree["leaf_count"])
               if not bad else msg(N_("%(problems)s"), problems=bad))


def _manifest_step(report: Report, data: bytes, leaf: dict[str, Any], tree: dict[str, Any],
                   anchor: dict[str, Any]) -> None:
    digest = "0x" + hashlib.sha256(data).hexdigest()
    bad = []
    if digest != anchor["manifest_hash"]:
        bad.append(msg(N_("the manifest hashes to %(hash)s, the bundle says %(said)s"),
                       hash=digest, said=anchor["manifest_hash"]))
    try:
        loaded = merkle.StandardMerkleTree.load(safejson.loads(data))
    except (ValueError, KeyError, TypeError) as exc:
        bad.append(msg(N_("the manifest is not a standard-v1 tree"),  # the parser's text:
                       detail=f"{type(exc).__name__}: {exc}"))   # a detail, never shown
    else:
        if loaded.root != tree["root"]:
            bad.append(msg(N_("the manifest's root is %(root)s"), root=loaded.root))
        if len(loaded) != tree["leaf_count"]:
            bad.append(msg(N_("the manifest has %(n)s leaves"), n=len(loaded)))
        if leaf["value"] not in loaded.values:
            bad.append(msg(N_("the manifest does not hold this leaf")))
    report.add("manifest", not bad, msg(N_("SHA-256 %(hash)s"), hash=digest) if not bad
               else msg(N_("%(problems)s"), problems=bad))


def main(argv: list[str] | None = None) -> int:
    """``python -m trellis.chain.verify BUNDLE.json [--document FILE] [--rpc URL]
    [--contract ADDRESS]... [--anchorer ADDRESS]... [--trusted FILE] [--manifest FILE]``.
    Exit 0 when every step holds, 1 when one fails, 2 when one could not be checked."""
    parser = argparse.ArgumentParser(prog="trellis verify", description=__doc__.split("\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--document")
    parser.add_argument("--manifest")
    parser.add_argument("--rpc", default=os.environ.get("TRELLIS_CHAIN_URL") or None)
    parser.add_argument("--contract", action="append", default=[])
    parser.add_argument("--anchorer", action="append", default=[])
    parser.add_argument("--chain-id", type=int)
    parser.add_argument("--trusted", action="append", default=[])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return run_cli(args.bundle, args.document, args.rpc, as_json=args.json,
                   contracts=args.contract, anchorers=args.anchorer, chain_id=args.chain_id,
                   trusted=args.trusted, manifest_path=args.manifest)


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as fh:
        return fh.read()


def run_cli(bundle_path: str, document_path: str | None, rpc: str | None, *,
            as_json: bool = False, echo: Callable[[str], object] = print,
            contracts: Iterable[str] = (), anchorers: Iterable[str] = (),
            chain_id: int | None = None, trusted: Iterable[str] = (),
            manifest_path: str | None = None,
            say: Callable[[Message], str] = str) -> int:
    """Verify the bundle at *bundle_path* and print the report through *echo*; the exit
    code of :func:`main` (0 verified, 1 a step failed, 2 a step could not be checked).
    The report says on which chain the bundle is anchored and who can check it
    (:func:`trellis.chain.scope.bundle_claim`), through *say* (English by default; ``trellis
    verify`` says it in the deployment's language)."""
    try:
        bundle = load_bundle(_read(bundle_path) or b"")
        document, manifest = _read(document_path), _read(manifest_path)
        trust = trust_mod.from_args(contracts, anchorers, chain_id)
        for path in trusted:
            trust = trust + trust_mod.load(path)
    except (OSError, BundleError) as exc:
        echo(f"error: {getattr(exc, 'message', exc)}")
        return 2
    report = verify_bundle(bundle, document=document, rpc_url=rpc, trust=trust,
                           manifest=manifest)
    anchored_on = bundle["anchor"].get("chain_id")
    found = scope_mod.of_node(rpc, anchored_on if _of_kind(anchored_on, "int") else None)
    claim = say(scope_mod.bundle_claim(found))
    if as_json:
        echo(json.dumps(report.as_dict() | {"chain_scope": scope_mod.as_dict(found)
                                            | {"claim": claim}}, indent=2))
    else:
        echo(f"chain: {claim}")
        for step in report.steps:
            mark = {True: "PASS", False: "FAIL", None: "SKIP"}[step.ok]
            echo(f"{mark}  {step.label}: {step.detail}")
        if report.untrusted_contract:
            echo(f"FAIL  untrusted contract {report.untrusted_contract}: give the registry "
                 "you trust with --contract/--anchorer or --trusted FILE")
        echo("VERIFIED" if report.ok else "NOT VERIFIED")
    if report.ok:
        return 0
    return 1 if any(s.ok is False for s in report.steps) else 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
