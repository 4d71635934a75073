"""Proof bundles: everything needed to check one document against the chain, in one JSON
file, with no access to Trellis's database.

A bundle (``format: trellis-proof-v1``) holds the document's canonical text, its SHA-256
content hash and salt; the leaf (OpenZeppelin standard leaf of [type, hash, salt]); the
Merkle proof, tree index and root; and the anchoring: chain id, contract address and code
hash, transaction, block number and block hash. Bundles are issued only once the batch is
included on chain. :mod:`trellis.chain.verify` checks one.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session

from trellis.accounts.models import utcnow
from trellis.chain import contract as contract_mod
from trellis.chain.anchoring import batch_tree, leaf_value
from trellis.chain.errors import DocumentNotFound, ProofNotReady
from trellis.chain.merkle import LEAF_ENCODING
from trellis.chain.models import ON_CHAIN_STATES, Batch, BatchLeaf, Document

FORMAT = "trellis-proof-v1"


def find_document(*, session: Session, ref: str | int) -> Document:
    """A document by its number (``Document.id``) or by ``TYPE/DOC_ID``
    (e.g. ``invoice/42``, ``confirmation/invoice:42``)."""
    text = str(ref).strip()
    doc = None
    if text.isdigit():
        doc = session.get(Document, int(text))
    elif "/" in text:
        doc_type, doc_id = text.split("/", 1)
        doc = session.scalars(select(Document).where(Document.doc_type == doc_type,
                                                     Document.doc_id == doc_id)).first()
    if doc is None:
        raise DocumentNotFound(f"no committed document {text!r} (give its number or "
                               "TYPE/ID, e.g. invoice/42)")
    return doc


def make_bundle(*, session: Session, document: Document) -> dict:
    """The proof bundle of *document*; raises ProofNotReady until its batch is included."""
    batch = session.get(Batch, document.batch_id) if document.batch_id else None
    if batch is None or batch.state not in ON_CHAIN_STATES:
        state = batch.state if batch is not None else "queued"
        raise ProofNotReady(f"document {document.id} is not anchored yet (its batch is "
                            f"{state}); a proof is issued once the batch is included")
    place = session.scalars(select(BatchLeaf).where(BatchLeaf.document_id == document.id)).one()
    tree = batch_tree(session=session, batch_id=batch.id)
    return {
        "format": FORMAT,
        "document": {"id": document.id, "doc_type": document.doc_type,
                     "doc_id": document.doc_id, "canonical": document.canonical,
                     "content_hash": document.content_hash, "salt": document.salt},
        "leaf": {"encoding": list(LEAF_ENCODING), "value": leaf_value(document),
                 "hash": place.leaf},
        "merkle": {"tree": "openzeppelin-standard-v1", "root": batch.root,
                   "proof": tree.get_proof(place.value_index),
                   "tree_index": place.tree_index, "value_index": place.value_index,
                   "leaf_count": batch.leaf_count},
        "anchor": {"chain_id": batch.chain_id, "contract_address": batch.contract_address,
                   "contract_code_hash": contract_mod.runtime_code_hash(),
                   "tx_hash": batch.tx_hash, "block_number": batch.block_number,
                   "block_hash": batch.block_hash, "manifest_hash": batch.manifest_hash,
                   "batch_id": batch.id, "state": batch.state,
                   "confirmations": batch.confirmations},
        "issued_at": utcnow().isoformat(timespec="seconds"),
    }


def dumps(bundle: dict) -> str:
    """The bundle file's text (indented, UTF-8, one trailing newline)."""
    return json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
