"""The journal's hash chain, anchored on chain entry by entry, and checked against it.

:func:`queue_entries` commits every journal entry not yet committed as a chain document
(``ledger_entry``, id ``CNY:<seq>``, payload ``{"currency", "seq", "hash"}``); the
chain's anchoring job puts them into Merkle batches whose roots go on chain. The latest
entry is the head, so the head is anchored whenever this runs: every 10 minutes (the
``anchor_ledger_head`` job) and at the end of each daily job.

:func:`anchored_problems` is the other half, used by ``trellis ledger check``: for every
entry whose batch is on chain it re-derives the leaf and the batch root from the stored
documents, asks the chain (when one is given) whether it holds that root, and compares
the anchored hash with the journal's entry of that number. A history rewritten with every
later hash recomputed passes the chain's own links, but not this: the first entry whose
hash differs from its anchored hash is named. Entries after the latest anchored one are
only as good as the chain's links and the reconciliation with the loans' facts.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict

from sqlalchemy import func, select, text
from sqlmodel import Session

from trellis.ledger.models import JournalEntry

logger = logging.getLogger(__name__)

DOC_TYPE = "ledger_entry"
SOURCE = "journal_entries"
ADVISORY_KEY = 0x6C656467   # "ledg": serialises committers of entries, nothing else


def queue_entries(*, session: Session, currency: str = "CNY") -> tuple[int, int, str]:
    """Commit every entry of *currency* not yet committed; returns (how many, head seq,
    head hash). Idempotent: an entry is committed once (by its row id)."""
    from trellis.chain.commitments import enqueue
    from trellis.chain.models import Document
    from trellis.db import is_postgres

    if is_postgres(session):   # one committer at a time (SQLite: BEGIN IMMEDIATE already)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY})
    last = session.scalar(select(func.max(Document.source_id)).where(
        Document.doc_type == DOC_TYPE, Document.source == SOURCE,
        Document.doc_id.like(f"{currency}:%"))) or 0
    rows = session.execute(select(JournalEntry.id, JournalEntry.seq, JournalEntry.hash)
                           .where(JournalEntry.currency == currency, JournalEntry.id > last)
                           .order_by(JournalEntry.seq)).all()
    for entry_id, seq, digest in rows:
        enqueue(session=session, doc_type=DOC_TYPE, doc_id=f"{currency}:{seq}",
                payload={"currency": currency, "seq": seq, "hash": digest},
                source=SOURCE, source_id=entry_id)
    head = session.execute(select(JournalEntry.seq, JournalEntry.hash)
                           .where(JournalEntry.currency == currency)
                           .order_by(JournalEntry.seq.desc()).limit(1)).first()
    return len(rows), (head[0] if head else 0), (head[1] if head else "")


def anchored_problems(*, session: Session, chain=None, currency: str = "CNY") -> list[str]:
    """Problems between the journal and the entries anchored on chain (see the module).

    *chain*: a :class:`~trellis.chain.client.Chain` to ask whether each batch root is on
    chain (None: the stored batch records are trusted for that step)."""
    from trellis.chain import merkle
    from trellis.chain.anchoring import leaf_value
    from trellis.chain.canonical import content_hash
    from trellis.chain.models import ON_CHAIN_STATES, Batch, BatchLeaf, Document
    from trellis.errors import TrellisError

    problems: list[str] = []
    rows = session.execute(
        select(Document, Batch).join(Batch, Batch.id == Document.batch_id)
        .where(Document.doc_type == DOC_TYPE, Document.doc_id.like(f"{currency}:%"),
               Batch.state.in_([s.value for s in ON_CHAIN_STATES]))).tuples().all()
    anchored: dict[int, tuple[str, int]] = {}
    batches: dict[int, Batch] = {}
    for doc, batch in rows:
        batches[batch.id] = batch
        if content_hash(doc.canonical.encode("utf-8")) != doc.content_hash:
            problems.append(f"The anchored record of ledger {doc.doc_id} was edited (batch "
                            f"{batch.id}).")
            continue
        payload = json.loads(doc.canonical)
        anchored[int(payload["seq"])] = (payload["hash"], batch.id)
    for batch in batches.values():
        leaves = session.execute(
            select(Document).join(BatchLeaf, BatchLeaf.document_id == Document.id)
            .where(BatchLeaf.batch_id == batch.id).order_by(BatchLeaf.value_index)
        ).scalars().all()
        root = merkle.StandardMerkleTree.of([leaf_value(d) for d in leaves]).root
        if root != batch.root:
            problems.append(f"Batch {batch.id}'s stored records no longer rebuild its "
                            "anchored root.")
        elif chain is not None:
            try:
                if not chain.anchored_at(batch.root):
                    problems.append(f"The chain does not hold batch {batch.id}'s root "
                                    f"{batch.root}.")
            except TrellisError as exc:
                problems.append(f"The chain could not be asked about batch {batch.id}: "
                                f"{exc.message}")
    if not anchored:
        return problems
    journal = dict(session.execute(select(JournalEntry.seq, JournalEntry.hash).where(
        JournalEntry.currency == currency, JournalEntry.seq.in_(list(anchored)))).all())
    differing = []
    for seq in sorted(anchored):
        digest, batch_id = anchored[seq]
        if journal.get(seq) != digest:
            differing.append((seq, batch_id, journal.get(seq), digest))
    if differing:
        seq, batch_id, have, want = differing[0]
        if have is None:
            problems.append(f"Entry {seq} was anchored on chain (batch {batch_id}) but is "
                            "missing from the journal.")
        else:
            problems.append(f"Entry {seq} differs from the entry anchored on chain (batch "
                            f"{batch_id}): the journal has hash {have}, the chain {want}; "
                            "the history was rewritten from this entry on.")
        if len(differing) > 1:
            problems.append(f"{len(differing) - 1} later anchored entries differ as well.")
    logger.debug("%s anchored ledger entries compared", len(anchored))
    return problems


def anchored_summary(*, session: Session, currency: str = "CNY") -> dict[str, int]:
    """How far the journal is anchored: {"anchored_seq": latest on chain, "queued": ...}."""
    from trellis.chain.models import ON_CHAIN_STATES, Batch, Document

    out: dict[str, int] = defaultdict(int)
    for doc_id, state in session.execute(
            select(Document.doc_id, Batch.state).outerjoin(Batch, Batch.id == Document.batch_id)
            .where(Document.doc_type == DOC_TYPE, Document.doc_id.like(f"{currency}:%"))):
        seq = int(doc_id.split(":", 1)[1])
        if state in {s.value for s in ON_CHAIN_STATES}:
            out["anchored_seq"] = max(out["anchored_seq"], seq)
        else:
            out["queued"] += 1
    return dict(out)
