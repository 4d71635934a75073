"""The journal's hash chain, anchored on chain entry by entry, and checked against it.

:func:`queue_entries` commits every journal entry not yet committed as a chain document
(``ledger_entry``, id ``CNY:<seq>`` in shard 0 and ``CNY.<shard>:<seq>`` in the others,
payload ``{"currency", "seq", "hash"}`` plus ``"shard"`` outside shard 0); the chain's
anchoring job puts them into Merkle batches whose roots go on chain. Each shard's latest
entry is its head, so every shard's head is anchored whenever this runs: every 10
minutes (the ``anchor_ledger_head`` job) and at the end of each daily job. Entries are
taken per shard by sequence number, not by row id: writers of different shards commit
in any order of their ids, one shard's entries only in the order of their numbers.

:func:`anchored_problems` is the other half, used by ``trellis ledger check``: for every
entry (of every shard) whose batch is on chain it re-derives the leaf and the batch root
from the stored documents, asks the chain (when one is given) whether it holds that root,
and compares the anchored hash with the journal's entry of that shard and number. A
history rewritten with every later hash recomputed passes the chain's own links, but not
this: the first entry of each shard whose hash differs from its anchored hash is named.
Entries after the latest anchored one are only as good as the chain's links and the
reconciliation with the loans' facts (:mod:`trellis.ledger.explained`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlmodel import Session, col

from trellis.chain import merkle
from trellis.chain.anchoring import leaf_value
from trellis.chain.canonical import content_hash
from trellis.chain.commitments import enqueue
from trellis.chain.models import ON_CHAIN_STATES, Batch, BatchLeaf, Document
from trellis.db import is_postgres
from trellis.errors import TrellisError
from trellis.ledger.journal import entry_label
from trellis.ledger.models import JournalEntry
from trellis.ledger.reports import head

if TYPE_CHECKING:
    from trellis.chain.client import Chain

logger = logging.getLogger(__name__)

DOC_TYPE = "ledger_entry"
SOURCE = "journal_entries"
ADVISORY_KEY = 0x6C656467   # "ledg": serialises committers of entries, nothing else


def doc_id(currency: str, shard: int, seq: int) -> str:
    """The chain document id of entry *seq* of *shard*: ``CNY:12``, ``CNY.3:12``."""
    return f"{currency}:{seq}" if shard == 0 else f"{currency}.{shard}:{seq}"


def _is_currency(currency: str) -> ColumnElement[bool]:

    return or_(col(Document.doc_id).like(f"{currency}:%"),
               col(Document.doc_id).like(f"{currency}.%"))


def queue_entries(*, session: Session, currency: str = "CNY") -> tuple[int, int, str]:
    """Commit every entry of *currency* not yet committed, in every shard; returns (how
    many, entries in the journal, fingerprint of the heads: see
    :func:`trellis.ledger.reports.head`). Idempotent: an entry is committed once."""

    if is_postgres(session):   # one committer at a time (SQLite: BEGIN IMMEDIATE already)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY})
    done: dict[int, int] = dict(session.execute(
        select(col(JournalEntry.shard), func.max(col(JournalEntry.seq)))
        .join(Document, col(Document.source_id) == col(JournalEntry.id))
        .where(col(Document.doc_type) == DOC_TYPE, col(Document.source) == SOURCE,
               col(JournalEntry.currency) == currency)
        .group_by(col(JournalEntry.shard))).tuples().all())
    rows = session.execute(
        select(col(JournalEntry.id), col(JournalEntry.shard), col(JournalEntry.seq),
               col(JournalEntry.hash))
        .where(col(JournalEntry.currency) == currency,
               or_(col(JournalEntry.shard).not_in(list(done)),
                   *(and_(col(JournalEntry.shard) == shard, col(JournalEntry.seq) > seq)
                     for shard, seq in done.items())))
        .order_by(col(JournalEntry.shard), col(JournalEntry.seq))).all()
    for entry_id, shard, seq, digest in rows:
        payload = {"currency": currency, "seq": seq, "hash": digest}
        if shard:
            payload["shard"] = shard
        enqueue(session=session, doc_type=DOC_TYPE, doc_id=doc_id(currency, shard, seq),
                payload=payload, source=SOURCE, source_id=entry_id)
    entries, fingerprint = head(session=session, currency=currency)
    return len(rows), entries, fingerprint


def anchored_problems(*, session: Session, chain: Chain | None = None,
                      currency: str = "CNY") -> list[str]:
    """Problems between the journal and the entries anchored on chain (see the module).

    *chain*: a :class:`~trellis.chain.client.Chain` to ask whether each batch root is on
    chain (None: the stored batch records are trusted for that step)."""

    problems: list[str] = []
    rows = session.execute(
        select(Document, Batch).join(Batch, col(Batch.id) == col(Document.batch_id))
        .where(col(Document.doc_type) == DOC_TYPE, _is_currency(currency),
               col(Batch.state).in_([s.value for s in ON_CHAIN_STATES]))).tuples().all()
    anchored: dict[tuple[int, int], tuple[str, int]] = {}
    batches: dict[int, Batch] = {}
    for doc, batch in rows:
        batches[batch.id] = batch
        if content_hash(doc.canonical.encode("utf-8")) != doc.content_hash:
            problems.append(f"The anchored record of ledger {doc.doc_id} was edited (batch "
                            f"{batch.id}).")
            continue
        payload = json.loads(doc.canonical)
        anchored[(int(payload.get("shard", 0)), int(payload["seq"]))] = (payload["hash"],
                                                                         batch.id)
    for batch in batches.values():
        leaves = session.execute(
            select(Document).join(BatchLeaf, col(BatchLeaf.document_id) == col(Document.id))
            .where(col(BatchLeaf.batch_id) == batch.id).order_by(col(BatchLeaf.value_index))
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
    journal = {(shard, seq): digest for shard, seq, digest in session.execute(
        select(col(JournalEntry.shard), col(JournalEntry.seq), col(JournalEntry.hash)).where(
            col(JournalEntry.currency) == currency,
            col(JournalEntry.seq).in_({seq for _shard, seq in anchored})))}
    # shard -> differences, in order: (seq, batch id, hash in the journal, hash anchored)
    differing: dict[int, list[tuple[int, int, str | None, str]]] = defaultdict(list)
    for shard, seq in sorted(anchored):
        digest, batch_id = anchored[(shard, seq)]
        if journal.get((shard, seq)) != digest:
            differing[shard].append((seq, batch_id, journal.get((shard, seq)), digest))
    for shard, found in sorted(differing.items()):
        seq, batch_id, have, want = found[0]
        name = entry_label(seq, shard)
        if have is None:
            problems.append(f"{name} was anchored on chain (batch {batch_id}) but is "
                            "missing from the journal.")
        else:
            problems.append(f"{name} differs from the entry anchored on chain (batch "
                            f"{batch_id}): the journal has hash {have}, the chain {want}; "
                            "the history was rewritten from this entry on.")
        if len(found) > 1:
            problems.append(f"{len(found) - 1} later anchored entries of "
                            f"{'the chain' if shard == 0 else f'shard {shard}'} differ as "
                            "well.")
    logger.debug("%s anchored ledger entries compared", len(anchored))
    return problems


def anchored_summary(*, session: Session, currency: str = "CNY") -> dict[str, int]:
    """How far the journal is anchored: {"anchored": entries on chain, "queued": entries
    committed and waiting for a batch on chain}."""

    on_chain = {s.value for s in ON_CHAIN_STATES}
    out = {"anchored": 0, "queued": 0}
    for (state,) in session.execute(
            select(col(Batch.state)).select_from(Document)
            .outerjoin(Batch, col(Batch.id) == col(Document.batch_id))
            .where(col(Document.doc_type) == DOC_TYPE, _is_currency(currency))):
        out["anchored" if state in on_chain else "queued"] += 1
    return out
