"""The chain's re-anchoring in the admin audit trail.

A root the chain lost (a reorg, a restarted or rewound chain) goes back to be anchored
again, and is anchored again later: the chain core records both for the auditor
(``chain_reanchors``) and tells :mod:`trellis.chain.events`, which this module listens to.
It writes the audit events (``chain.root_lost``, ``chain.reanchored``) that the admin's
audit trail shows in words (``trellis.platform.admin.words``), done by Trellis itself
(no person), on the batch, in the same transaction as the chain's record.
"""

from __future__ import annotations

from sqlmodel import Session

from trellis.accounts import services as accounts
from trellis.chain import events

NAME = "audit_trail"


def record(session: Session, event: events.Event) -> None:
    """Write *event* into the audit trail (flushes; the caller commits)."""
    if isinstance(event, events.RootLost):
        accounts.record(session=session, action="chain.root_lost", record_type="chain_batch",
                        record_id=event.batch_id,
                        detail={"reanchor_id": event.reanchor_id, "root": event.root,
                                "why": event.reason, "chain_id": event.chain_id,
                                "lost_tx_hash": event.tx_hash,
                                "lost_block": event.block_number})
    elif isinstance(event, events.RootReanchored):
        accounts.record(session=session, action="chain.reanchored", record_type="chain_batch",
                        record_id=event.batch_id,
                        detail={"reanchor_id": event.reanchor_id, "root": event.root,
                                "chain_id": event.chain_id, "new_tx_hash": event.tx_hash,
                                "new_block": event.block_number,
                                "lost_block": event.old_block_number})


def install() -> None:
    """Listen to the chain's events (again: one listener however many apps are built)."""
    events.listen(NAME, record)
