"""Nonces of the signing account: taken from the database record of signed transactions
and the node's pending count, and gaps in them filled.

A transaction with nonce ``n`` is mined only after every lower nonce of the account. A
nonce handed out for a transaction that then never reached the node (the send failed and
its record was rolled back, or a record was left ``signed`` and abandoned) is a gap: the
node keeps every later transaction of the account waiting, across restarts.

- :func:`held` lists the nonces at or above the node's pending count that recorded,
  live (``signed`` or ``sent``) transactions hold; :meth:`Chain.next_nonce` hands out the
  lowest one that is free, so a gap left by a failed send is taken by the next
  transaction.
- :func:`fill_gaps` (run by every tracking pass) looks at the nonces from the node's
  pending count up to the highest live recorded one: a recorded transaction the node
  does not know is sent again (the very same signed bytes); a nonce nothing holds gets a
  transfer of nothing to ourselves (``kind="filler"``), so the transactions behind it
  are mined.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import Session, col

from trellis.chain.errors import TxRefused
from trellis.chain.models import ChainTx, TxState
from trellis.clock import utcnow

if TYPE_CHECKING:
    from trellis.chain.client import Chain

logger = logging.getLogger(__name__)

LIVE = (TxState.SIGNED, TxState.SENT)


def held(session: Session, chain: Chain, floor: int) -> set[int]:
    """Nonces >= *floor* held by recorded, live transactions of the signing account."""
    return set(session.scalars(select(col(ChainTx.nonce)).where(
        col(ChainTx.chain_id) == chain.chain_id, col(ChainTx.sender) == chain.address,
        col(ChainTx.nonce) >= floor, col(ChainTx.state).in_(LIVE))))


def fill_gaps(*, session: Session, chain: Chain) -> int:
    """Fill every gap in front of a live recorded transaction; returns how many nonces
    were filled (resent or given a filler). Flushes."""
    with chain.lock:
        pending = chain.pending_count()
        live = list(session.scalars(select(ChainTx).where(
            col(ChainTx.chain_id) == chain.chain_id, col(ChainTx.sender) == chain.address,
            col(ChainTx.nonce) >= pending, col(ChainTx.state).in_(LIVE))
            .order_by(col(ChainTx.nonce), col(ChainTx.id).desc())))
        if not live:
            return 0
        by_nonce: dict[int, ChainTx] = {}
        for record in live:
            by_nonce.setdefault(record.nonce, record)  # the newest record of each nonce
        reserved = chain.reserved()
        filled = 0
        for nonce in range(pending, max(by_nonce)):
            if nonce in reserved:
                break  # this process is signing it right now
            tx: ChainTx | None = by_nonce.get(nonce)
            if tx is not None and (chain.is_pending(tx.tx_hash)
                                   or chain.receipt(tx.tx_hash) is not None):
                continue
            if tx is not None:
                try:
                    chain.send_raw(tx.raw)
                except TxRefused as exc:
                    tx.state, tx.error = TxState.DROPPED, exc.message
                    tx = None
                else:
                    tx.state, tx.sent_at = TxState.SENT, tx.sent_at or utcnow()
                    logger.warning("nonce %s: recorded transaction %s was not on the node; "
                                   "sent it again", nonce, tx.tx_hash)
            if tx is None:
                signed = chain.sign_filler(nonce, chain.fees())
                chain.send_raw(signed.raw)
                session.add(ChainTx(kind="filler", chain_id=signed.chain_id,
                                    sender=signed.sender, nonce=nonce,
                                    tx_hash=signed.tx_hash, raw=signed.raw,
                                    max_fee_per_gas=signed.max_fee_per_gas,
                                    max_priority_fee_per_gas=signed.max_priority_fee_per_gas,
                                    state=TxState.SENT, sent_at=utcnow()))
                logger.warning("nonce gap at %s in front of transaction %s: filled with %s",
                               nonce, by_nonce[max(by_nonce)].tx_hash, signed.tx_hash)
            filled += 1
        session.flush()
        return filled
