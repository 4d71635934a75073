"""Proof bundles: everything needed to check one document against the chain, in one JSON
file, with no access to Trellis's database.

A bundle (``format: trellis-proof-v2``) holds exactly the fields of :data:`FIELDS`, and
:mod:`trellis.chain.verify` checks every one of them against the facts: the document's
canonical text, its SHA-256 content hash and salt; the leaf (OpenZeppelin standard leaf of
[type, hash, salt]) with its value; the Merkle proof, root and leaf count; and the
anchoring: chain id, contract address and code hash, transaction, block number and hash,
and the manifest hash (SHA-256 of the batch's ``tree.json``). Nothing that cannot be
checked without Trellis's database (database ids, states, confirmations, the issuing
time, the leaf's position in the tree) is in a bundle. Bundles are issued only once the
batch is included on chain.

A bundle made with the instance's settings also carries :data:`SCOPE_FIELDS`, a ``scope``
section saying in words (English and Chinese) who can check it: on the demo's embedded
chain, nobody outside the platform (reader 13, H12: the proof page said so, the file did
not). It is one of the fixed statements of :data:`trellis.chain.scope.STATEMENTS`, and a
verifier holds it to them and to ``anchor.chain_id``. Bundles issued before it existed
have no such section and verify as before.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session, col

from trellis.chain import contract as contract_mod
from trellis.chain import scope as chain_scope
from trellis.chain.anchoring import batch_tree, leaf_value
from trellis.chain.errors import DocumentNotFound, ProofNotReady
from trellis.chain.merkle import LEAF_ENCODING, TREE_NAME
from trellis.chain.models import ON_CHAIN_STATES, Batch, BatchLeaf, Document
from trellis.messages import N_, msg

if TYPE_CHECKING:
    from trellis.config import Settings

FORMAT = "trellis-proof-v2"
# Every field of a bundle, by section, with its kind (what verify checks it is).
FIELDS: dict[str, dict[str, str]] = {
    "document": {"doc_type": "text", "canonical": "text", "content_hash": "text",
                 "salt": "text"},
    "leaf": {"encoding": "text list", "value": "text list", "hash": "hex32"},
    "merkle": {"tree": "text", "root": "hex32", "proof": "hex32 list", "leaf_count": "int"},
    "anchor": {"chain_id": "int", "contract_address": "address",
               "contract_code_hash": "hex32", "tx_hash": "hex32", "block_number": "int",
               "block_hash": "hex32", "manifest_hash": "hex32"},
}


# The optional section: the scope statement (trellis.chain.scope.statement).
SCOPE_FIELDS: dict[str, str] = {"kind": "text", "en": "text", "zh": "text"}


def find_document(*, session: Session, ref: str | int) -> Document:
    """A document by its number (``Document.id``) or by ``TYPE/DOC_ID``
    (e.g. ``invoice/42``, ``confirmation/invoice:42``)."""
    text = str(ref).strip()
    doc = None
    if text.isdigit():
        doc = session.get(Document, int(text))
    elif "/" in text:
        doc_type, doc_id = text.split("/", 1)
        doc = session.scalars(select(Document).where(col(Document.doc_type) == doc_type,
                                                     col(Document.doc_id) == doc_id)).first()
    if doc is None:
        raise DocumentNotFound(msg(N_("no committed document %(text)s (give its number or "
                                      "TYPE/ID, e.g. %(example)s)"), text=text,
                                   example="invoice/42"))
    return doc


#: a batch's state before it is on chain, as words in a message
_STATE_WORDS = {"queued": N_("queued"), "pending": N_("pending"), "submitted": N_("submitted")}


def make_bundle(*, session: Session, document: Document,
                settings: Settings | None = None) -> dict[str, Any]:
    """The proof bundle of *document*; raises ProofNotReady until its batch is included.
    With *settings* (the instance's), it carries the ``scope`` statement of the chain its
    batch was anchored on (:func:`trellis.chain.scope.of_anchoring`)."""
    batch = session.get(Batch, document.batch_id) if document.batch_id else None
    if batch is None or batch.id is None or batch.state not in ON_CHAIN_STATES:
        state = msg(_STATE_WORDS.get(batch.state if batch is not None else "queued",
                                     N_("in an unknown state")))
        raise ProofNotReady(msg(N_("document %(document)s is not anchored yet (its batch is "
                                   "%(state)s); a proof is issued once the batch is included"),
                                document=document.id, state=state))
    place = session.scalars(
        select(BatchLeaf).where(col(BatchLeaf.document_id) == document.id)).one()
    tree = batch_tree(session=session, batch_id=batch.id)
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "document": {"doc_type": document.doc_type, "canonical": document.canonical,
                     "content_hash": document.content_hash, "salt": document.salt},
        "leaf": {"encoding": list(LEAF_ENCODING), "value": leaf_value(document),
                 "hash": place.leaf},
        "merkle": {"tree": TREE_NAME, "root": batch.root,
                   "proof": tree.get_proof(place.value_index),
                   "leaf_count": batch.leaf_count},
        "anchor": {"chain_id": batch.chain_id,
                   "contract_address": (batch.contract_address or "").lower(),
                   "contract_code_hash": contract_mod.runtime_code_hash(),
                   "tx_hash": batch.tx_hash, "block_number": batch.block_number,
                   "block_hash": batch.block_hash, "manifest_hash": batch.manifest_hash},
    }
    if settings is not None:
        bundle["scope"] = chain_scope.statement(
            chain_scope.of_anchoring(settings, batch.chain_id).kind)
    return bundle


def dumps(bundle: dict[str, Any]) -> str:
    """The bundle file's text (indented, UTF-8, one trailing newline)."""
    return json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
