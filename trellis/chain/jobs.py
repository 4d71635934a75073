"""Scheduled jobs of the chain area (declared in :mod:`trellis.jobs`).

Each job commits in small steps through :func:`trellis.db.transaction`, so that a crash
loses nothing: documents are collected and batches cut with the database alone (they
keep queueing while the node is down), and each transaction is recorded before it is
sent. A node that is down or misconfigured ends the run with a one-line outcome, logged,
and shown on the health page; the next run resumes.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from trellis.chain import anchoring, commitments, health, nonces
from trellis.chain.client import Chain, get_chain
from trellis.chain.errors import ChainError, ChainMisconfigured, ChainUnavailable, detail_of
from trellis.chain.health import record_error
from trellis.chain.models import Batch, BatchState, ChainTx
from trellis.db import id_of, is_postgres, reset_reading, set_reading, transaction
from trellis.messages import N_, Message, line, msg

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    from trellis.config import Settings


logger = logging.getLogger(__name__)

#: Batches written per transaction when a cut planned outside the write lock is written.
CUT_WRITE_BATCHES = 16

#: On SQLite, the pause between two of a job's transactions once it has worked
#: :data:`SQLITE_WORK_SECONDS` since the last, so that a page's write waiting for the lock
#: (its busy handler retries every 100 ms after the first few) gets it: back to back, the
#: job took the lock again within a millisecond, and on the demo's first anchoring (182
#: batches, each a transaction holding the lock while the embedded chain mines, 0.2-0.7 s
#: on a loaded machine) a person's click waited 1-4 s. A short run never pauses.
SQLITE_HANDOFF_SECONDS = 0.1
SQLITE_WORK_SECONDS = 0.25


class _Handoff:
    """Called between two of a job's transactions: pauses on SQLite when due."""

    def __init__(self, session_factory: sessionmaker[Session]):
        with session_factory() as session:
            self.sqlite = not is_postgres(session)
        self.since = time.monotonic()

    def __call__(self) -> None:
        if self.sqlite and time.monotonic() - self.since >= SQLITE_WORK_SECONDS:
            time.sleep(SQLITE_HANDOFF_SECONDS)
            self.since = time.monotonic()


def _cut(session_factory: sessionmaker[Session], settings: Settings, force: bool) -> int:
    """Cut every due batch. The trees are built in a reading transaction (on SQLite it
    does not hold the write lock: on a loaded demo one transaction for the whole cut held
    it 16 s, and every page's write waited) and written in transactions of
    :data:`CUT_WRITE_BATCHES`; on PostgreSQL, one transaction as before (the documents
    stay locked from the read to the write)."""
    with session_factory() as probe:
        postgres = is_postgres(probe)
    if postgres:
        with transaction(session_factory) as session:
            return len(anchoring.cut_all(session=session, settings=settings, force=force))
    token = set_reading(True)
    try:
        with transaction(session_factory) as session:
            cuts = anchoring.plan_cuts(session=session, settings=settings, force=force)
    finally:
        reset_reading(token)
    done, handoff = 0, _Handoff(session_factory)
    for start in range(0, len(cuts), CUT_WRITE_BATCHES):
        if start:
            handoff()
        with transaction(session_factory) as session:
            done += len(anchoring.write_cuts(session=session,
                                             cuts=cuts[start:start + CUT_WRITE_BATCHES]))
    return done


def _heal_once(session_factory: sessionmaker[Session], chain: Chain) -> int:
    if chain.healed:
        return 0
    with transaction(session_factory) as session:
        lost = anchoring.heal(session=session, chain=chain)
    chain.healed = True
    return lost


def _ids(session_factory: sessionmaker[Session], *states: str) -> list[int]:
    with transaction(session_factory) as session:
        return list(session.scalars(select(col(Batch.id)).where(col(Batch.state).in_(states))
                                    .order_by(col(Batch.id))))


RECEIPT_WAIT_SECONDS = 3.0


def _submit(session_factory: sessionmaker[Session], chain: Chain, batch_id: int,
            settings: Settings, *, look: bool = True) -> bool:
    """Record (commit), then send (commit), then (*look*) look once for the receipt: a
    node that mines at once (anvil, the embedded chain) gets the batch included in the
    same run. :func:`anchor_all` sends every batch first and looks for all the receipts
    afterwards, in one pass."""
    with transaction(session_factory) as session:
        batch = session.get_one(Batch, batch_id)
        tx = anchoring.prepare(session=session, chain=chain, batch=batch)
        if tx is None:
            return batch.state != BatchState.PENDING
    with transaction(session_factory) as session:
        batch = session.get_one(Batch, batch_id)
        sent = anchoring.send(session=session, chain=chain, batch=batch)
    if sent and look:
        _track(session_factory, chain, batch_id, settings)
    return sent


def _track(session_factory: sessionmaker[Session], chain: Chain, batch_id: int, settings: Settings,
           head: int | None = None) -> bool:
    """Look once for the batch's receipt; True while it is still only submitted."""
    with transaction(session_factory) as session:
        batch = session.get_one(Batch, batch_id)
        anchoring.track(session=session, chain=chain, batch=batch, settings=settings,
                        head=chain.head() if head is None else head)
        return batch.state == BatchState.SUBMITTED


def _submit_many(session_factory: sessionmaker[Session], chain: Chain, batch_ids: list[int],
                 settings: Settings) -> list[int]:
    """Send many pending batches on a node: every transaction signed and recorded in one
    transaction (committed before anything is sent), then sent in JSON-RPC batch
    requests without waiting, and the batches marked submitted in one transaction. What
    the node refused, or would not estimate, goes through :func:`_submit` one by one
    (which adopts a root already anchored and sorts a used nonce from a refusal).
    Returns the ids sent."""
    with transaction(session_factory) as session:
        batches = list(session.scalars(select(Batch).where(col(Batch.id).in_(batch_ids))
                                       .order_by(col(Batch.id))))
        recorded, one_by_one = anchoring.prepare_many(session=session, chain=chain,
                                                      batches=batches)
        pairs = [(id_of(b), id_of(tx), tx.raw) for b, tx in recorded]
    errors = chain.send_many([raw for _, _, raw in pairs]) if pairs else []
    sent: list[int] = []
    with transaction(session_factory) as session:
        for (batch_id, tx_id, _), error in zip(pairs, errors, strict=True):
            if error is None:
                anchoring.mark_sent(session=session, batch=session.get_one(Batch, batch_id),
                                    tx=session.get_one(ChainTx, tx_id))
                sent.append(batch_id)
            else:
                logger.info("batch %s: the node refused the batched send (%s); sending "
                            "it on its own", batch_id, error)
                one_by_one.append(batch_id)
    for batch_id in sorted(one_by_one):
        if _submit(session_factory, chain, batch_id, settings, look=False):
            sent.append(batch_id)
    return sent


def _await_receipts(session_factory: sessionmaker[Session], chain: Chain, batch_ids: list[int],
                    settings: Settings) -> None:
    """A node that mines at once still needs a moment under load: look again for the
    receipts of this run's batches for up to RECEIPT_WAIT_SECONDS in all (not per batch),
    then leave the rest to track_confirmations. On a node every pass looks for all the
    receipts in JSON-RPC batch requests and records them in one transaction."""
    deadline = time.monotonic() + RECEIPT_WAIT_SECONDS
    waiting = list(batch_ids)
    first = True
    while waiting and time.monotonic() < deadline:
        if not first or chain.kind != "rpc":
            time.sleep(0.1)
        first = False
        head = chain.head()
        if chain.kind != "rpc":
            still, handoff = [], _Handoff(session_factory)
            for i, b in enumerate(waiting):
                if i:
                    handoff()
                if _track(session_factory, chain, b, settings, head):
                    still.append(b)
            waiting = still
            continue
        with transaction(session_factory) as session:
            waiting, reverted = anchoring.track_receipts(
                session=session, chain=chain, batch_ids=waiting, head=head)
        for batch_id in reverted:
            _track(session_factory, chain, batch_id, settings, head)


def anchor_all(*, session_factory: sessionmaker[Session], settings: Settings,
               force: bool = False, collect_limit: int | None = None) -> dict[str, Any]:
    """Collect trade documents, cut every due batch, and send every pending batch.
    *collect_limit*: collect at most this many new documents (the rest wait for the next
    run; ``trellis chain anchor-now --limit``).

    Returns counts: ``collected``, ``batches_cut``, ``sent``, ``healed``, ``queued``.
    Raises ChainUnavailable / ChainMisconfigured after the database work is committed.
    """
    with transaction(session_factory) as session:
        # Committed chunk by chunk: on SQLite every transaction holds the write lock, and
        # the first collection of a loaded cluster would keep the pages waiting.
        collected = sum(commitments.collect(session=session, limit=collect_limit,
                                            commit_chunks=True).values())
    cut = _cut(session_factory, settings, force)
    chain = get_chain(settings)
    chain.check()
    healed = _heal_once(session_factory, chain)
    sent = []
    pending = _ids(session_factory, BatchState.PENDING)
    if chain.kind == "rpc" and len(pending) > 1:
        sent = _submit_many(session_factory, chain, pending, settings)
    else:
        handoff = _Handoff(session_factory)
        for i, batch_id in enumerate(pending):
            if i:
                handoff()
            if _submit(session_factory, chain, batch_id, settings, look=False):
                sent.append(batch_id)
    with transaction(session_factory) as session:
        submitted = [b for b in sent if session.get_one(Batch, b).state == BatchState.SUBMITTED]
    _await_receipts(session_factory, chain, submitted, settings)
    with transaction(session_factory) as session:
        queued = commitments.queue_length(session=session)
    chain.persist()
    record_error(settings, None)
    return {"collected": collected, "batches_cut": cut, "sent": len(sent), "healed": healed,
            "queued": queued}


def _why(exc: ChainError) -> Message:
    """*exc*'s message for people, without its technical detail (kept apart)."""
    return Message(exc.template, {k: v for k, v in exc.params.items() if k != "detail"})


def anchor_pending(*, session_factory: sessionmaker[Session], settings: Settings) -> str:
    """Cut batches that are due and anchor every pending batch (job).

    A node that is down or on the wrong chain fails the run (the error, re-raised with
    the queue's length in its message, makes the run recorded not ok and ``trellis jobs
    run --once`` exit 1); the documents collected and batches cut are committed."""
    try:
        n = anchor_all(session_factory=session_factory, settings=settings)
    except (ChainUnavailable, ChainMisconfigured) as exc:
        record_error(settings, exc)
        logger.error("anchoring stopped: %s", exc.message)
        with transaction(session_factory) as session:
            queued = commitments.queue_length(session=session)
            waiting = len(list(session.scalars(select(col(Batch.id)).where(
                col(Batch.state) == BatchState.PENDING))))
        raise type(exc)(msg(N_("Anchoring stopped: %(why)s %(queued)s documents queued, "
                               "%(waiting)s batches waiting."), why=_why(exc), queued=queued,
                            waiting=waiting), detail=detail_of(exc)) from exc
    healed = msg(N_(", %(n)s lost batches re-anchored"), n=n["healed"]) if n["healed"] else ""
    return line(N_("collected %(collected)s documents, cut %(cut)s batches, sent %(sent)s"
                   "%(healed)s; %(queued)s documents queued"), collected=n["collected"],
                cut=n["batches_cut"], sent=n["sent"], healed=healed, queued=n["queued"])


def track_all(*, session_factory: sessionmaker[Session], settings: Settings) -> dict[str, Any]:
    """One pass of confirmation tracking: fill nonce gaps, re-check every anchored root
    (finalized ones too, :func:`anchoring.sweep`), advance every unsettled batch, replace
    stuck transactions, and re-anchor at once what the chain lost. Raises the
    ``roots_lost`` alert while any anchored batch is off the chain, the ``fee_ceiling``
    one while a stuck transaction sits at the ceiling."""
    chain = get_chain(settings)
    chain.check()
    with transaction(session_factory) as session:
        filled = nonces.fill_gaps(session=session, chain=chain)
    with transaction(session_factory) as session:
        swept = anchoring.sweep(session=session, chain=chain)
        _alert_lost(session)
    chain.healed = True
    head = chain.head()
    tags = chain.finality()
    replaced = 0
    failed: list[str] = []
    handoff = _Handoff(session_factory)
    for i, batch_id in enumerate(_ids(session_factory, BatchState.SUBMITTED,
                                      BatchState.INCLUDED, BatchState.SAFE)):
        if i:
            handoff()
        try:
            with transaction(session_factory) as session:
                batch = session.get_one(Batch, batch_id)
                replacement = anchoring.track(session=session, chain=chain, batch=batch,
                                              settings=settings, head=head, tags=tags)
            if replacement is not None:
                with transaction(session_factory) as session:
                    anchoring.send(session=session, chain=chain,
                                   batch=session.get_one(Batch, batch_id))
                replaced += 1
        except (ChainUnavailable, ChainMisconfigured):
            raise
        except ChainError as exc:  # one batch's trouble does not end the pass
            failed.append(f"batch {batch_id}: {exc.message}")
            logger.warning("tracking batch %s failed: %s", batch_id, exc.message)
    # Batches the chain lost (a reorg, a rewound chain) are re-anchored at once.
    reanchored = 0
    for batch_id in _ids(session_factory, BatchState.PENDING):
        with transaction(session_factory) as session:
            anchored_before = session.get_one(Batch, batch_id).anchor_count > 0
        try:
            if anchored_before and _submit(session_factory, chain, batch_id, settings):
                reanchored += 1
        except (ChainUnavailable, ChainMisconfigured):
            raise
        except ChainError as exc:
            failed.append(f"batch {batch_id}: {exc.message}")
            logger.warning("re-anchoring batch %s failed: %s", batch_id, exc.message)
    with transaction(session_factory) as session:
        states = dict.fromkeys([s.value for s in BatchState], 0)
        for state in session.scalars(select(col(Batch.state))):
            states[state] += 1
        _alert_lost(session)
        capped = anchoring.at_fee_ceiling(session=session)
        if capped:
            health.raise_alert(session=session, key="fee_ceiling", message=(
                f"{len(capped)} anchoring transactions are stuck at the fee ceiling "
                f"(batches {', '.join(str(b.id) for b in capped[:10])}): "
                f"{capped[0].last_error}"))
        else:
            health.clear_alert(session=session, key="fee_ceiling")
    chain.persist()
    record_error(settings, None)
    return {"head": head, "replaced": replaced, "reanchored": reanchored,
            "lost": swept["lost"], "moved": swept["moved"], "states": states,
            "nonces_filled": filled, "failed": failed}


def _alert_lost(session: Session) -> None:
    lost = anchoring.lost_batches(session=session)
    if lost:
        health.raise_alert(session=session, key="roots_lost", message=(
            f"the chain lost the anchoring of {len(lost)} batches (first: batch "
            f"{lost[0].id}, {lost[0].last_error}); their proofs are withheld until they "
            f"are re-anchored"))
    else:
        health.clear_alert(session=session, key="roots_lost")


def track_confirmations(*, session_factory: sessionmaker[Session], settings: Settings) -> str:
    """Count confirmations, mark safe/finalized, replace stuck transactions, re-check
    every anchored root and re-anchor what the chain lost (job)."""
    try:
        n = track_all(session_factory=session_factory, settings=settings)
    except (ChainUnavailable, ChainMisconfigured) as exc:
        record_error(settings, exc)
        logger.error("confirmation tracking stopped: %s", exc.message)
        raise type(exc)(msg(N_("Confirmation tracking stopped: %(why)s"), why=_why(exc)),
                        detail=detail_of(exc)) from exc
    except ChainError as exc:
        record_error(settings, exc)
        raise
    states = [msg(STATE_COUNTS[k], n=v) for k, v in n["states"].items() if v]
    lost = msg(N_(", %(n)s lost by the chain"), n=n["lost"]) if n["lost"] else ""
    filled = (msg(N_(", %(n)s nonce gaps filled"), n=n["nonces_filled"])
              if n["nonces_filled"] else "")
    failed = (msg(N_("; %(n)s batches failed (%(first)s)"), n=len(n["failed"]),
                  first=n["failed"][0]) if n["failed"] else "")
    return line(N_("head %(head)s; %(states)s; replaced %(replaced)s, re-anchored "
                   "%(reanchored)s%(lost)s%(filled)s%(failed)s"), head=n["head"],
                states=states or msg(N_("no batches")), replaced=n["replaced"],
                reanchored=n["reanchored"], lost=lost, filled=filled, failed=failed)


#: a count of batches in each state, as the jobs page says it
STATE_COUNTS = {
    BatchState.PENDING.value: N_("pending %(n)s"),
    BatchState.SUBMITTED.value: N_("submitted %(n)s"),
    BatchState.INCLUDED.value: N_("included %(n)s"),
    BatchState.SAFE.value: N_("safe %(n)s"),
    BatchState.FINALIZED.value: N_("finalized %(n)s"),
}
