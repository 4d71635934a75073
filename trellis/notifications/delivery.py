"""Deliver the outbox: render each message in its reader's language and send it.

:func:`deliver` sends queued rows through a :class:`~trellis.notifications.senders.Sender`;
a row is claimed with one conditional UPDATE (its attempt count), so two workers never
send it twice, and a failed row stays queued until ``MAX_ATTEMPTS``, then is marked
failed with the reason. A row whose event is stale at send time
(:func:`~trellis.notifications.events.stale`: an offer signed since) is not sent: it is
marked failed at once, with why. Texts come from :mod:`trellis.notifications.render`. A message
holding a one-time link (``models.SECRET_KINDS``) has its stored text replaced once it is
sent or given up.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlmodel import Session, col

from trellis.accounts.models import utcnow
from trellis.notifications import events, render
from trellis.notifications.models import (
    SECRET_KINDS,
    DeliveryState,
    NotificationEvent,
    OutboxMessage,
)
from trellis.notifications.senders import DeliveryFailed, Outgoing, Sender, from_settings

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def deliver(*, session: Session, sender: Sender, limit: int = 200) -> tuple[int, int]:
    """Send up to *limit* queued outbox messages; return (sent, failed). Commits nothing:
    the caller commits after each call (a task does, per batch)."""
    sent = failed = 0
    rows = session.execute(select(col(OutboxMessage.id), col(OutboxMessage.attempts))
                           .where(col(OutboxMessage.state) == DeliveryState.QUEUED.value)
                           .order_by(col(OutboxMessage.id)).limit(limit)).all()
    for outbox_id, attempts in rows:
        claimed = cast(CursorResult[Any], session.execute(update(OutboxMessage).where(
            OutboxMessage.id == outbox_id, OutboxMessage.attempts == attempts,
            col(OutboxMessage.state) == DeliveryState.QUEUED.value)
            .values(attempts=attempts + 1)
            .execution_options(synchronize_session=False))).rowcount
        if claimed != 1:
            continue   # another worker has it
        row = session.get_one(OutboxMessage, outbox_id)
        session.refresh(row)
        event = session.get_one(NotificationEvent, row.event_id)
        # the state at send time decides (reader 12, G19): a message whose subject has
        # changed since it was written (an offer signed meanwhile) is not sent, and the
        # row says why; it counts with the rows not delivered
        why = events.stale(session, event)
        if why is not None:
            row.state, row.last_error = DeliveryState.FAILED.value, why[:1000]
            failed += 1
            session.flush()
            continue
        subject, body = render.subject(event.kind, row.locale), render.text(event.message,
                                                                            row.locale)
        try:
            sender.send(Outgoing(row.channel, row.address, subject, body, str(row.id)))
        except DeliveryFailed as exc:
            row.last_error = exc.message[:1000]
            if row.attempts >= MAX_ATTEMPTS:
                row.state = DeliveryState.FAILED.value
                failed += 1
            logger.warning("outbox %s to %s: %s", row.id, row.channel, exc.message)
        else:
            row.state, row.sent_at, row.last_error = DeliveryState.SENT.value, utcnow(), ""
            sent += 1
        if event.kind in SECRET_KINDS and row.state != DeliveryState.QUEUED.value:
            # sent or given up: the one-time link is not kept at rest
            event.message = dict(render.REDACTED)
            session.add(event)
        session.flush()
    return sent, failed


def sender_for(settings) -> Sender:
    """The sender the settings configure (SMTP, SMS adapter or a file sink in the instance
    folder)."""
    return from_settings(settings)
