"""What the chain core tells others it did, for records it does not keep itself.

The admin audit trail lives in ``trellis.accounts``, which the chain core does not import
(imports point inward). So the core says what happened here, as a small event, and the
platform, which may import both, listens and writes the audit event
(``trellis.platform.web.audit_chain_event``), in the same session and so in the same transaction as
the chain's own record: both are kept or neither.

- :class:`RootLost`: an anchored root is no longer on the chain (a reorg, a restarted or
  rewound chain): its batch goes back to be anchored again (a
  :class:`~trellis.chain.models.Reanchor` row, shown to the auditor).
- :class:`RootReanchored`: that batch's root is on chain again.

A listener is ``f(session, event) -> None``; it must not commit. Registered by name, so
registering again (every application built in one process) replaces rather than adds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RootLost:
    """Batch *batch_id*'s *root*, anchored in block *block_number* by *tx_hash* on chain
    *chain_id*, is not on the chain any more; *reason* is a stored message
    (:func:`trellis.messages.stored`); *reanchor_id* the :class:`Reanchor` row."""

    reanchor_id: int
    batch_id: int
    root: str
    reason: str
    chain_id: int | None
    tx_hash: str | None
    block_number: int | None


@dataclass(frozen=True)
class RootReanchored:
    """Batch *batch_id*'s lost *root* is anchored again by *tx_hash* in block
    *block_number* on chain *chain_id* (it was in *old_block_number*)."""

    reanchor_id: int
    batch_id: int
    root: str
    chain_id: int | None
    tx_hash: str | None
    block_number: int | None
    old_block_number: int | None


Event = RootLost | RootReanchored
Listener = Callable[[Session, Event], None]
_listeners: dict[str, Listener] = {}


def listen(name: str, listener: Listener) -> None:
    """Call *listener* for every event from now on (replacing one of the same *name*)."""
    _listeners[name] = listener


def forget(name: str) -> None:
    """Stop calling the listener registered as *name* (none: nothing happens)."""
    _listeners.pop(name, None)


def tell(session: Session, event: Event) -> None:
    """Tell every listener about *event*, in *session*'s transaction. A listener's error
    propagates: the chain's record and the listener's are kept together or not at all."""
    for listener in list(_listeners.values()):
        listener(session, event)
