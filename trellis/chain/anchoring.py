"""Batches and their anchoring transactions: cut, sign-and-record, send, track, heal.

Crash safety: a transaction is signed and RECORDED (hash, nonce, raw bytes, fees) and
committed before it is sent. Whatever point a process dies at, the next run finds one of:

- a batch ``pending`` with a recorded ``signed`` transaction: it is sent again (a node that
  already has it says so; one that mined it refuses the nonce, and then the receipt or
  ``anchoredAt(root)`` shows it was included);
- a batch ``submitted``: its receipt is looked for.

The contract refuses a repeated root, so a root can never be anchored twice; a root that
is already anchored (by us, before the crash) is adopted as included.

Each step takes a session and flushes; :mod:`trellis.chain.jobs` commits between steps.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, overload

from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from trellis.chain import events, nonces
from trellis.chain.errors import (
    ChainError,
    ChainMisconfigured,
    ChainUnavailable,
    FeeCeilingReached,
    TransactionReverted,
    TxRefused,
)
from trellis.chain.merkle import LEAF_ENCODING, StandardMerkleTree
from trellis.chain.models import (
    ON_CHAIN_STATES,
    Batch,
    BatchLeaf,
    BatchState,
    ChainTx,
    Document,
    DocumentStatus,
    Reanchor,
    TxState,
)
from trellis.chain.transactions import Receipt, SignedTx
from trellis.clock import utcnow
from trellis.db import id_of, is_postgres, table_of
from trellis.messages import N_, Message, msg, stored

if TYPE_CHECKING:
    from trellis.chain.client import Chain
    from trellis.config import Settings


logger = logging.getLogger(__name__)


def for_people(exc: ChainError) -> str:
    """*exc* as ``Batch.last_error`` keeps it for the batch page: the catalogued message
    and its parameters, a library's text only as the hidden ``detail`` (the English text
    of a message without parameters, such as the fee ceiling's, is kept as it is: the
    ceiling's batches are found by its prefix)."""
    return stored(Message(exc.template, exc.params))

STUCK_AFTER_SECONDS = 180  # default of settings.chain_stuck_seconds


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: datetime | None) -> datetime | None: ...
def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _saved_id(row: Batch | Document | Reanchor) -> int:
    """The primary key of a row already flushed (rows get theirs on flush)."""
    if row.id is None:
        raise AssertionError(f"{type(row).__name__} has no id: flush it first")
    return row.id


def leaf_value(doc: Document) -> list[str]:
    """The leaf's value in the npm library's JSON form: [doc type, hash, salt]."""
    return [doc.doc_type, "0x" + doc.content_hash, "0x" + doc.salt]


# --- cutting ----------------------------------------------------------------------------


def should_cut(*, session: Session, settings: Settings, now: datetime | None = None,
               force: bool = False) -> bool:
    """Enough documents wait (``batch_max_documents``), or the oldest has waited
    ``batch_max_wait_seconds``, or *force* and any waits."""
    now = now or utcnow()
    count, oldest = session.execute(
        select(func.count(), func.min(Document.created_at))
        .where(col(Document.status) == DocumentStatus.QUEUED)).one()
    if not count:
        return False
    if force or count >= settings.batch_max_documents:
        return True
    waited_since = _aware(oldest) or now  # a count above 0 has an oldest document
    return now - waited_since >= timedelta(seconds=settings.batch_max_wait_seconds)


def cut_batch(*, session: Session, settings: Settings, now: datetime | None = None,
              force: bool = False) -> Batch | None:
    """Cut one batch of up to ``batch_max_documents`` queued documents (oldest first) if
    :func:`should_cut`; returns it (state ``pending``) or None."""
    if not should_cut(session=session, settings=settings, now=now, force=force):
        return None
    docs = list(session.scalars(
        select(Document).where(col(Document.status) == DocumentStatus.QUEUED)
        .order_by(col(Document.id)).limit(settings.batch_max_documents)
        .with_for_update(skip_locked=True)))
    if not docs:
        return None
    tree = StandardMerkleTree.of([leaf_value(d) for d in docs], LEAF_ENCODING)
    batch = Batch(root=tree.root, leaf_count=len(docs),
                  manifest_hash="0x" + hashlib.sha256(tree.dump_json().encode()).hexdigest(),
                  state=BatchState.PENDING, created_at=now or utcnow(), updated_at=utcnow())
    session.add(batch)
    session.flush()
    batch_id = _saved_id(batch)
    session.execute(update(Document).where(col(Document.id).in_([d.id for d in docs]))
                    .values(status=DocumentStatus.BATCHED, batch_id=batch_id))
    session.add_all(BatchLeaf(batch_id=batch_id, document_id=_saved_id(d), value_index=i,
                              tree_index=tree.tree_indices[i], leaf=tree.leaf(i))
                    for i, d in enumerate(docs))
    session.flush()
    logger.info("cut batch %s: %s documents, root %s", batch.id, len(docs), batch.root)
    return batch


@dataclass(frozen=True)
class Cut:
    """One batch planned by :func:`plan_cuts`: its documents (oldest first) and tree."""

    document_ids: tuple[int, ...]
    tree: StandardMerkleTree


def plan_cuts(*, session: Session, settings: Settings, now: datetime | None = None,
              force: bool = False) -> list[Cut]:
    """The batches :func:`cut_all` would cut, with their trees, writing nothing: the
    queued documents are read in one query (oldest first; on PostgreSQL locked, skipping
    rows another cutter holds) and cut into batches of ``batch_max_documents``. A last,
    partial batch is planned only when *force* or its oldest document has waited
    ``batch_max_wait_seconds`` (as :func:`should_cut`)."""
    now = now or utcnow()
    rows = session.execute(
        select(col(Document.id), col(Document.doc_type), col(Document.content_hash),
               col(Document.salt), col(Document.created_at))
        .where(col(Document.status) == DocumentStatus.QUEUED).order_by(col(Document.id))
        .with_for_update(skip_locked=True)).all()
    size = settings.batch_max_documents
    wait = timedelta(seconds=settings.batch_max_wait_seconds)
    cuts: list[Cut] = []
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        if len(chunk) < size and not force and (
                now - min(_aware(r.created_at) for r in chunk) < wait):
            break
        values = [[r.doc_type, "0x" + r.content_hash, "0x" + r.salt] for r in chunk]
        cuts.append(Cut(tuple(r.id for r in chunk), StandardMerkleTree.of(values, LEAF_ENCODING)))
    return cuts


def write_cuts(*, session: Session, cuts: list[Cut], now: datetime | None = None) -> list[int]:
    """Write the batches *cuts* planned (pending), with bulk statements; returns their ids.
    Raises :class:`ChainError` and writes nothing of a batch whose documents are no longer
    all queued (cut meanwhile by another run: plan again); the caller rolls back."""
    now = now or utcnow()
    ids: list[int] = []
    for cut in cuts:
        tree = cut.tree
        batch = Batch(root=tree.root, leaf_count=len(cut.document_ids),
                      manifest_hash="0x" + hashlib.sha256(tree.dump_json().encode()).hexdigest(),
                      state=BatchState.PENDING, created_at=now, updated_at=utcnow())
        session.add(batch)
        session.flush()
        done = session.execute(update(Document).where(
            col(Document.id).in_(cut.document_ids),
            col(Document.status) == DocumentStatus.QUEUED)
            .values(status=DocumentStatus.BATCHED, batch_id=batch.id))
        if done.rowcount != len(cut.document_ids):   # type: ignore[attr-defined]
            raise ChainError(N_("Documents were batched by another run meanwhile; the cut "
                                "is planned again on the next run."))
        session.connection().execute(insert(table_of(BatchLeaf)), [
            {"batch_id": batch.id, "document_id": doc_id, "value_index": i,
             "tree_index": tree.tree_indices[i], "leaf": tree.leaf(i)}
            for i, doc_id in enumerate(cut.document_ids)])
        ids.append(id_of(batch))
    if ids:
        logger.info("cut %s batches (%s documents)", len(ids),
                    sum(len(c.document_ids) for c in cuts))
    return ids


def cut_all(*, session: Session, settings: Settings, now: datetime | None = None,
            force: bool = False) -> list[int]:
    """Cut every due batch at once, set-based: :func:`plan_cuts` then :func:`write_cuts`
    in the caller's transaction. Returns the new batch ids; the caller commits. (The
    anchoring job plans outside SQLite's write lock and writes in short transactions:
    :func:`trellis.chain.jobs.anchor_all`.)"""
    now = now or utcnow()
    return write_cuts(session=session, now=now,
                      cuts=plan_cuts(session=session, settings=settings, now=now, force=force))


def batch_documents(*, session: Session, batch_id: int) -> list[tuple[BatchLeaf, Document]]:
    """The leaves of batch *batch_id* with their documents, in tree value order."""
    return list(session.execute(
        select(BatchLeaf, Document).join(Document, col(Document.id) == col(BatchLeaf.document_id))
        .where(col(BatchLeaf.batch_id) == batch_id).order_by(col(BatchLeaf.value_index))).tuples())


def batch_tree(*, session: Session, batch_id: int) -> StandardMerkleTree:
    """Rebuild a batch's tree from its documents (value order as when it was cut)."""
    rows = batch_documents(session=session, batch_id=batch_id)
    return StandardMerkleTree.of([leaf_value(doc) for _, doc in rows], LEAF_ENCODING)


# --- recording and sending --------------------------------------------------------------


def _record(session: Session, batch: Batch, signed: SignedTx, chain: Chain) -> ChainTx:
    # The very same transaction can be signed again (a restarted embedded chain hands
    # out the same nonce and fees): it is then the same record, to be sent again.
    tx = session.scalars(select(ChainTx).where(col(ChainTx.tx_hash) == signed.tx_hash)).first()
    if tx is None:
        tx = ChainTx(kind="anchor", batch_id=batch.id, chain_id=signed.chain_id,
                     sender=signed.sender, nonce=signed.nonce, tx_hash=signed.tx_hash,
                     raw=signed.raw, max_fee_per_gas=signed.max_fee_per_gas,
                     max_priority_fee_per_gas=signed.max_priority_fee_per_gas)
        session.add(tx)
    tx.state, tx.sent_at, tx.error = TxState.SIGNED, None, None
    batch.tx_hash, batch.nonce = signed.tx_hash, signed.nonce
    batch.max_fee_per_gas = signed.max_fee_per_gas
    batch.max_priority_fee_per_gas = signed.max_priority_fee_per_gas
    batch.chain_id, batch.contract_address = signed.chain_id, chain.contract_address
    batch.updated_at = utcnow()
    session.flush()
    return tx


def _txs(session: Session, batch: Batch, *states: str) -> list[ChainTx]:
    query = select(ChainTx).where(col(ChainTx.batch_id) == batch.id, col(ChainTx.kind) == "anchor")
    if states:
        query = query.where(col(ChainTx.state).in_(states))
    return list(session.scalars(query.order_by(col(ChainTx.id).desc())))


def prepare(*, session: Session, chain: Chain, batch: Batch) -> ChainTx | None:
    """Sign and record the anchoring transaction of a ``pending`` batch (or return the one
    already recorded and not yet sent). Returns None when the root turns out to be on
    chain already: the batch is then adopted as included."""
    if batch.state != BatchState.PENDING:
        return None
    if is_postgres(session):
        # Two submitters (the scheduler, an admin's "run now") must not both sign for
        # one batch: the first holds its row until it commits the record, the second
        # skips it. (SQLite: every transaction takes the write lock when it begins.)
        mine = session.scalars(select(col(Batch.id)).where(col(Batch.id) == batch.id)
                               .with_for_update(skip_locked=True)).first()
        if mine is None:
            logger.info("batch %s is being prepared by another submitter", batch.id)
            return None
        session.refresh(batch)
        if batch.state != BatchState.PENDING:
            return None
    unsent = _txs(session, batch, TxState.SIGNED)
    if unsent:
        return unsent[0]
    # No look at anchoredAt first: estimating the gas runs the call, and the contract
    # refuses a root that is already anchored (handled below).
    fn = chain.contract.functions.anchor(bytes.fromhex(batch.root[2:]), batch.leaf_count,
                                         bytes.fromhex(batch.manifest_hash[2:]))
    try:
        signed = chain.sign(fn, held=lambda floor: nonces.held(session, chain, floor))
    except TransactionReverted as exc:
        at = chain.anchored_at(batch.root)
        if at:
            _adopt(session, chain, batch, at)
            return None
        raise exc
    return _record(session, batch, signed, chain)


def send(*, session: Session, chain: Chain, batch: Batch) -> bool:
    """Send the batch's newest recorded, unsent transaction. Returns True when sent (or
    found mined). A refused nonce means the tx (or another one) was mined: the receipt
    or the root decides; otherwise the tx is dropped and the batch waits for a new one."""
    unsent = _txs(session, batch, TxState.SIGNED)
    if not unsent:
        return False
    tx = unsent[0]
    try:
        chain.send_raw(tx.raw)
    except TxRefused as exc:
        receipt = chain.receipt(tx.tx_hash)
        if receipt is not None:
            tx.state, tx.sent_at = TxState.SENT, tx.sent_at or utcnow()
            _include(session, chain, batch, tx, receipt)
            return True
        at = chain.anchored_at(batch.root)
        if at:
            tx.state = TxState.DROPPED
            _adopt(session, chain, batch, at)
            return True
        tx.state, tx.error = TxState.DROPPED, exc.message
        batch.last_error = for_people(exc)
        if batch.state == BatchState.SUBMITTED and not _txs(session, batch, TxState.SENT):
            batch.state = BatchState.PENDING
        session.flush()
        logger.warning("batch %s: transaction %s refused (%s); a new one will be signed",
                       batch.id, tx.tx_hash, exc.message)
        return False
    except TransactionReverted as exc:  # the embedded chain runs it at once
        tx.state, tx.error = TxState.FAILED, exc.reason
        session.flush()
        at = chain.anchored_at(batch.root)
        if at:
            _adopt(session, chain, batch, at)
            return True
        raise
    mark_sent(session=session, batch=batch, tx=tx)
    return True


def mark_sent(*, session: Session, batch: Batch, tx: ChainTx) -> None:
    """Record that the node took *tx*: the batch is ``submitted`` (an older transaction
    of the same nonce is replaced)."""
    now = utcnow()
    tx.state, tx.sent_at = TxState.SENT, now
    for older in _txs(session, batch, TxState.SENT):
        if older.id != tx.id and older.nonce == tx.nonce:
            older.state = TxState.REPLACED
    if batch.state == BatchState.PENDING:
        batch.state, batch.submitted_at = BatchState.SUBMITTED, now
        batch.anchor_count += 1
    batch.tx_hash, batch.last_error, batch.updated_at = tx.tx_hash, None, now
    session.flush()
    logger.info("batch %s: sent anchoring transaction %s (nonce %s)", batch.id, tx.tx_hash,
                tx.nonce)


def _anchor_call(chain: Chain, batch: Batch) -> Any:
    return chain.contract.functions.anchor(bytes.fromhex(batch.root[2:]), batch.leaf_count,
                                           bytes.fromhex(batch.manifest_hash[2:]))


def prepare_many(*, session: Session, chain: Chain,
                 batches: list[Batch]) -> tuple[list[tuple[Batch, ChainTx]], list[int]]:
    """:func:`prepare` for many ``pending`` batches at once on a node: gas estimated in
    JSON-RPC batch requests, nonces handed out together, fees read once, every
    transaction signed locally and recorded (the caller commits before sending).

    Returns (recorded (batch, transaction) pairs to send, ids of batches to go through
    :func:`prepare` one by one: those whose estimate the node refused, such as a root
    already anchored, which :func:`prepare` adopts). A batch with a recorded, unsent
    transaction gets that one back, to be sent again."""
    batches = [b for b in batches if b.state == BatchState.PENDING]
    if not batches:
        return [], []
    if is_postgres(session):  # as prepare: a batch another submitter holds is skipped
        mine = set(session.scalars(select(col(Batch.id)).where(
            col(Batch.id).in_([b.id for b in batches])).with_for_update(skip_locked=True)))
        batches = [b for b in batches if b.id in mine]
        for b in batches:
            session.refresh(b)
        batches = [b for b in batches if b.state == BatchState.PENDING]
    unsent: dict[int, ChainTx] = {}
    for tx in session.scalars(select(ChainTx).where(
            col(ChainTx.batch_id).in_([b.id for b in batches]), col(ChainTx.kind) == "anchor",
            col(ChainTx.state) == TxState.SIGNED).order_by(col(ChainTx.id).desc())):
        if tx.batch_id is not None:  # always: the query picks its batches' transactions
            unsent.setdefault(tx.batch_id, tx)
    out = [(b, unsent[b.id]) for b in batches if b.id in unsent]
    fresh = [b for b in batches if b.id not in unsent]
    if not fresh:
        return out, []
    datas = [_anchor_call(chain, b)._encode_transaction_data() for b in fresh]
    gases = chain.estimate_many(datas)
    ready = [(b, d, g) for b, d, g in zip(fresh, datas, gases, strict=True)
             if isinstance(g, int)]
    one_by_one = [id_of(b) for b, g in zip(fresh, gases, strict=True)
                  if not isinstance(g, int)]
    if not ready:
        return out, one_by_one
    fees = chain.fees()
    numbers = chain.next_nonces(len(ready), held=lambda floor: nonces.held(session, chain,
                                                                           floor))
    try:
        for (batch, data, gas), nonce in zip(ready, numbers, strict=True):
            signed = chain.sign_call(data, gas=gas, nonce=nonce, fees=fees)
            out.append((batch, _record(session, batch, signed, chain)))
    except BaseException:
        for nonce in numbers:
            chain.forget_nonce(nonce)
        raise
    return out, one_by_one


def track_receipts(*, session: Session, chain: Chain, batch_ids: list[int],
                   head: int) -> tuple[list[int], list[int]]:
    """Look for the receipts of many ``submitted`` batches in one pass (JSON-RPC batch
    requests): a successful receipt includes its batch. Returns (ids still waiting for a
    receipt, ids whose receipt shows a revert, to go through :func:`track`)."""
    batches = {id_of(b): b for b in session.scalars(select(Batch).where(
        col(Batch.id).in_(batch_ids), col(Batch.state) == BatchState.SUBMITTED))}
    txs = list(session.scalars(select(ChainTx).where(
        col(ChainTx.batch_id).in_(list(batches)), col(ChainTx.kind) == "anchor",
        col(ChainTx.state).in_([TxState.SENT, TxState.REPLACED]))
        .order_by(col(ChainTx.id).desc())))
    receipts = chain.receipts_many([tx.tx_hash for tx in txs])
    found: dict[int, tuple[ChainTx, Receipt]] = {}
    reverted: set[int] = set()
    for tx, receipt in zip(txs, receipts, strict=True):
        if receipt is None or tx.batch_id is None or tx.batch_id in found:
            continue
        if receipt.status == 1:
            found[tx.batch_id] = (tx, receipt)
        else:
            reverted.add(tx.batch_id)
    for batch_id, (tx, receipt) in found.items():
        _include(session, chain, batches[batch_id], tx, receipt,
                 head=max(head, receipt.block_number))
    reverted -= set(found)
    waiting = [b for b in batches if b not in found and b not in reverted]
    return waiting, sorted(reverted)


# --- inclusion, confirmations, replacement, reorgs --------------------------------------


def _include(session: Session, chain: Chain, batch: Batch, tx: ChainTx | None,
             receipt: Receipt, head: int | None = None) -> None:
    batch.block_number, batch.block_hash = receipt.block_number, receipt.block_hash
    batch.gas_used, batch.effective_gas_price = receipt.gas_used, receipt.effective_gas_price
    batch.fee_wei = receipt.gas_used * receipt.effective_gas_price
    batch.tx_hash = receipt.tx_hash
    batch.chain_id, batch.contract_address = chain.chain_id, chain.contract_address
    if batch.state in (BatchState.PENDING, BatchState.SUBMITTED):
        batch.state = BatchState.INCLUDED
    batch.included_at = batch.included_at or utcnow()
    head = chain.head() if head is None else head
    batch.confirmations = max(head - receipt.block_number + 1, 1)
    batch.last_error, batch.updated_at = None, utcnow()
    for other in _txs(session, batch, TxState.SIGNED, TxState.SENT):
        if tx is None or other.id != tx.id:
            same_nonce = tx is not None and other.nonce == tx.nonce
            other.state = TxState.REPLACED if same_nonce else TxState.DROPPED
    if tx is not None:
        tx.state = TxState.MINED
    _reanchored(session, batch)
    session.flush()
    logger.info("batch %s included in block %s", batch.id, receipt.block_number)


def _reanchored(session: Session, batch: Batch) -> None:
    """Complete the batch's open :class:`Reanchor` (its root was lost) with the anchoring
    that is now on chain."""
    for event in list(session.scalars(select(Reanchor).where(
            col(Reanchor.batch_id) == batch.id, col(Reanchor.reanchored_at).is_(None)))):
        event.reanchored_at = utcnow()
        event.new_chain_id, event.new_contract_address = batch.chain_id, batch.contract_address
        event.new_tx_hash, event.new_block_number = batch.tx_hash, batch.block_number
        events.tell(session, events.RootReanchored(
            reanchor_id=_saved_id(event), batch_id=event.batch_id, root=event.root,
            chain_id=batch.chain_id, tx_hash=batch.tx_hash, block_number=batch.block_number,
            old_block_number=event.old_block_number))
        logger.warning("batch %s (root %s) re-anchored: transaction %s, block %s (was %s, "
                       "block %s)", batch.id, batch.root, batch.tx_hash, batch.block_number,
                       event.old_tx_hash, event.old_block_number)


def _adopt(session: Session, chain: Chain, batch: Batch, at_block: int) -> bool:
    """The root is already anchored (by us before a crash, or re-included after a reorg):
    take the anchoring block from the chain. Returns False, changing nothing, when the
    node fails to give the anchoring event (a log query refused): the next pass tries
    again, and the other batches of this pass go on."""
    try:
        submitter, event_tx = chain.anchoring_event(batch.root, at_block) or (None, None)
    except (ChainUnavailable, ChainMisconfigured):
        raise
    except ChainError as exc:
        batch.last_error, batch.updated_at = for_people(exc), utcnow()
        session.flush()
        logger.warning("batch %s: root found in block %s but its event could not be read "
                       "(%s); trying again next pass", batch.id, at_block, exc.message)
        return False
    if submitter and submitter != chain.address:
        logger.warning("batch %s: root %s was anchored by %s, not by us; accepting it",
                       batch.id, batch.root, submitter)
    mined = None
    for tx in _txs(session, batch, TxState.SIGNED, TxState.SENT, TxState.MINED,
                   TxState.REPLACED, TxState.DROPPED):
        receipt = chain.receipt(tx.tx_hash)
        if receipt is not None and receipt.status == 1 and receipt.block_number == at_block:
            mined = (tx, receipt)
            break
    if mined is not None:
        _include(session, chain, batch, *mined)
    else:
        block_hash = chain.block_hash(at_block) or ""
        _include(session, chain, batch, None, Receipt(
            tx_hash=event_tx or batch.tx_hash or "", status=1, block_number=at_block,
            block_hash=block_hash, gas_used=batch.gas_used or 0,
            effective_gas_price=batch.effective_gas_price or 0))
    logger.info("batch %s: root already anchored in block %s; recorded as included",
                batch.id, at_block)
    return True


def _back_to_pending(session: Session, chain: Chain, batch: Batch,
                     why: str | Message) -> None:
    """Send *batch* back to ``pending`` to be anchored (again). A batch recorded on chain
    (it has a block) lost its root: that is recorded as a :class:`Reanchor`, with *why*
    and the anchoring that was lost, for the auditor."""
    if batch.block_number is not None:
        lost = Reanchor(batch_id=_saved_id(batch), root=batch.root, reason=stored(why),
                        old_chain_id=batch.chain_id,
                        old_contract_address=batch.contract_address,
                        old_tx_hash=batch.tx_hash, old_block_number=batch.block_number,
                        old_block_hash=batch.block_hash)
        session.add(lost)
        session.flush()
        # the admin audit trail (outside this core) records it too: trellis.chain.events
        events.tell(session, events.RootLost(
            reanchor_id=_saved_id(lost), batch_id=lost.batch_id, root=lost.root,
            reason=lost.reason, chain_id=lost.old_chain_id, tx_hash=lost.old_tx_hash,
            block_number=lost.old_block_number))
    for tx in _txs(session, batch, TxState.SIGNED, TxState.SENT, TxState.MINED):
        tx.state = TxState.DROPPED
    batch.state = BatchState.PENDING
    batch.block_number = batch.block_hash = batch.included_at = None
    batch.confirmations = 0
    batch.last_error, batch.updated_at = stored(why), utcnow()
    chain.forget_nonce()
    session.flush()
    logger.warning("batch %s (root %s): %s; re-anchoring", batch.id, batch.root, why)


def track(*, session: Session, chain: Chain, batch: Batch, settings: Settings, head: int,
          now: datetime | None = None,
          tags: tuple[int | None, int | None] = (None, None)) -> ChainTx | None:
    """Advance a submitted or on-chain batch: receipts, confirmations, safe/finalized,
    reorgs (block hash at the recorded height changed, or root no longer anchored), and
    stuck transactions. *tags* are the node's (safe, finalized) block numbers
    (:meth:`Chain.finality`). Returns a replacement transaction that was recorded and
    must be sent (after a commit) with :func:`send`, else None."""
    now = now or utcnow()
    if batch.state == BatchState.SUBMITTED:
        for tx in _txs(session, batch, TxState.SENT, TxState.REPLACED):
            receipt = chain.receipt(tx.tx_hash)
            if receipt is None:
                continue
            if receipt.status == 1:
                # Just mined: the receipt names its block; the next pass confirms it.
                _include(session, chain, batch, tx, receipt, head=max(head,
                                                                      receipt.block_number))
                return None
            at = chain.anchored_at(batch.root)
            if at:
                _adopt(session, chain, batch, at)
                return None
            _back_to_pending(session, chain, batch, f"transaction {tx.tx_hash} reverted")
            return None
        sent = _txs(session, batch, TxState.SENT)
        if not sent or not any(chain.is_pending(tx.tx_hash) for tx in sent):
            at = chain.anchored_at(batch.root)
            if at:
                _adopt(session, chain, batch, at)
                return None
            _back_to_pending(session, chain, batch, "the anchoring transaction is gone")
            return None
        waited = now - (_aware(sent[0].sent_at) or now)
        stuck_after = getattr(settings, "chain_stuck_seconds", STUCK_AFTER_SECONDS)
        if waited >= timedelta(seconds=stuck_after):
            try:
                return replace(session=session, chain=chain, batch=batch, tx=sent[0])
            except FeeCeilingReached as exc:
                batch.last_error, batch.updated_at = exc.message, now
                session.flush()
                logger.error("batch %s: %s", batch.id, exc.message)
        return None
    if batch.state in (BatchState.INCLUDED, BatchState.SAFE):
        _confirm(session, chain, batch, settings, head, tags)
    return None


def _confirm(session: Session, chain: Chain, batch: Batch, settings: Settings, head: int,
             tags: tuple[int | None, int | None] = (None, None)) -> None:
    at = chain.anchored_at(batch.root)
    canonical_hash = chain.block_hash(batch.block_number) if batch.block_number else None
    if not at:
        _back_to_pending(session, chain, batch, _reorg(batch))
        return None
    if at != batch.block_number or canonical_hash != batch.block_hash:
        logger.warning("batch %s: reorg moved the anchoring from block %s to %s", batch.id,
                       batch.block_number, at)
        previous, batch.state = batch.state, BatchState.INCLUDED
        if not _adopt(session, chain, batch, at):
            batch.state = previous
            return None
    batch.confirmations = max(head - (batch.block_number or head) + 1, 0)
    batch.state = _finality(batch, settings, tags)
    batch.updated_at = utcnow()
    session.flush()
    return None


def _finality(batch: Batch, settings: Settings, tags: tuple[int | None, int | None]) -> str:
    """``finalized`` / ``safe`` by the node's own tags where it has them (a block at or
    below its ``finalized`` block cannot be reorganised away), else by confirmations."""
    safe_tag, final_tag = tags
    if final_tag is not None and batch.block_number is not None:
        if batch.block_number <= final_tag:
            return BatchState.FINALIZED
        if safe_tag is not None:
            return BatchState.SAFE if batch.block_number <= safe_tag else BatchState.INCLUDED
    if batch.confirmations >= settings.chain_confirmations_final:
        return BatchState.FINALIZED
    if batch.confirmations >= settings.chain_confirmations_safe:
        return BatchState.SAFE
    return BatchState.INCLUDED


def replace(*, session: Session, chain: Chain, batch: Batch, tx: ChainTx) -> ChainTx:
    """Record a replacement of stuck *tx*: same nonce and call, fees raised 25% (held to
    the ceiling). Raises FeeCeilingReached when the ceiling leaves no room."""
    max_fee, tip = chain.bumped(tx.max_fee_per_gas, tx.max_priority_fee_per_gas,
                                chain.fees())
    fn = chain.contract.functions.anchor(bytes.fromhex(batch.root[2:]), batch.leaf_count,
                                         bytes.fromhex(batch.manifest_hash[2:]))
    signed = chain.sign(fn, nonce=tx.nonce, fees=(max_fee, tip))
    logger.warning("batch %s: transaction %s stuck; replacing it with %s (max fee %s -> %s)",
                   batch.id, tx.tx_hash, signed.tx_hash, tx.max_fee_per_gas, max_fee)
    return _record(session, batch, signed, chain)


def at_fee_ceiling(*, session: Session) -> list[Batch]:
    """Submitted batches whose stuck transaction the fee ceiling keeps from replacing."""
    return list(session.scalars(select(Batch).where(
        col(Batch.state) == BatchState.SUBMITTED,
        col(Batch.last_error).like(f"{FeeCeilingReached.PREFIX}%")).order_by(col(Batch.id))))


def _why_lost(chain: Chain, batch: Batch, head: int) -> Message:
    if batch.contract_address and chain.contract_address and (
            batch.contract_address.lower() != chain.contract_address.lower()):
        return msg(N_("anchored on another registry (%(contract)s), not on this one"),
                   contract=batch.contract_address)
    if chain.kind == "embedded" and chain.fresh:
        return msg(N_("not on this chain: the embedded chain restarted"))
    if batch.block_number is not None and head < batch.block_number:
        return msg(N_("the chain was rewound below the anchoring block %(block)s (head "
                      "%(head)s): the root is gone"), block=str(batch.block_number),
                   head=str(head))
    return _reorg(batch, head)


def _reorg(batch: Batch, head: int | None = None) -> Message:
    if head is None:
        return msg(N_("reorg: the root is no longer anchored (was block %(block)s)"),
                   block=str(batch.block_number))
    return msg(N_("reorg: the root is no longer anchored (was block %(block)s, head "
                  "%(head)s)"), block=str(batch.block_number), head=str(head))


def sweep(*, session: Session, chain: Chain) -> dict[str, Any]:
    """Re-check every batch recorded as on chain, finalized ones included, with one
    ``anchoredAt`` call per batch sent in batch requests: a root the chain lost (a reorg,
    a rewound or restarted chain, a new contract) sends its batch back to ``pending``
    (proofs are refused from then on; the caller re-anchors it), and a root found in
    another block is adopted there. Submitted batches are left to :func:`track` on a
    node (the transaction may still be in its pool). Returns ``{"lost": n, "moved": n}``.
    """
    states = [*ON_CHAIN_STATES] + ([BatchState.SUBMITTED] if chain.kind != "rpc" else [])
    batches = list(session.scalars(select(Batch).where(col(Batch.state).in_(states))
                                   .order_by(col(Batch.id))))
    if not batches:
        return {"lost": 0, "moved": 0}
    found = chain.anchored_at_many([b.root for b in batches])
    head = chain.head()
    lost = moved = 0
    for batch, at in zip(batches, found, strict=True):
        if not at:
            lost += 1
            _back_to_pending(session, chain, batch, _why_lost(chain, batch, head))
        elif batch.state != BatchState.SUBMITTED and at != batch.block_number:
            moved += 1
            logger.warning("batch %s (%s): reorg moved the anchoring from block %s to %s",
                           batch.id, batch.state, batch.block_number, at)
            previous, batch.state = batch.state, BatchState.INCLUDED
            if not _adopt(session, chain, batch, at):
                batch.state = previous
    if lost:
        logger.warning("%s recorded batches are not on the %s chain (contract %s): "
                       "re-anchoring them", lost, chain.kind, chain.contract_address)
    return {"lost": lost, "moved": moved}


def lost_batches(*, session: Session) -> list[Batch]:
    """Batches that were anchored once and are not (again) on chain: the chain lost them
    and they wait to be re-anchored."""
    return list(session.scalars(select(Batch).where(
        col(Batch.state) == BatchState.PENDING, col(Batch.anchor_count) > 0)
        .order_by(col(Batch.id))))


def reanchors(*, session: Session, batch_id: int | None = None,
              limit: int | None = None) -> list[Reanchor]:
    """Re-anchorings of lost roots, newest first (of one batch with *batch_id*; at most
    *limit*)."""
    query = select(Reanchor).order_by(col(Reanchor.lost_at).desc(), col(Reanchor.id).desc())
    if batch_id is not None:
        query = query.where(col(Reanchor.batch_id) == batch_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def heal(*, session: Session, chain: Chain) -> int:
    """Every batch recorded as on chain whose root this chain does not have goes back to
    pending to be re-anchored (:func:`sweep`). Returns how many."""
    return int(sweep(session=session, chain=chain)["lost"])
