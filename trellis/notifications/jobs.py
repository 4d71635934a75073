"""The scheduled job and the task of the notifications area.

``notify`` (a job, every minute) writes what firms must be told, including the due-date,
cooling-off and overdue reminders, then enqueues ``deliver_outbox``; the task sends the
outbox through the configured sender. Web requests never send anything themselves.
"""

from __future__ import annotations

from datetime import date

from trellis import clock, tasks
from trellis.accounts import reset
from trellis.db import transaction
from trellis.messages import N_, line
from trellis.notifications import delivery, events


def notify(*, session_factory, settings, as_of: str | None = None) -> str:
    """Job: collect the notifications due on *as_of* (ISO date, today by default) and enqueue their
    delivery; returns a summary line."""
    day = date.fromisoformat(as_of) if as_of else clock.today()
    with transaction(session_factory) as session:
        new = events.collect(session=session, as_of=day)
        if new:
            tasks.enqueue("deliver_outbox", session=session)
    return line(N_("%(n)s new notification(s)"), n=new)


def deliver_outbox(*, session_factory, settings) -> str:
    """Send every queued outbox message, a batch per transaction (idempotent)."""
    sender = delivery.sender_for(settings)
    total_sent = total_failed = 0
    while True:
        with transaction(session_factory) as session:
            sent, failed = delivery.deliver(session=session, sender=sender)
        total_sent, total_failed = total_sent + sent, total_failed + failed
        if sent + failed == 0:
            break
    return line(N_("sent %(sent)s, failed %(failed)s"), sent=total_sent, failed=total_failed)


def send_password_reset(*, session_factory, settings, reset_id: int, link_prefix: str) -> str:
    """Give password reset request *reset_id* its one-time link through the outbox (if its
    e-mail has an account), then send the outbox. Idempotent: a processed request is
    left alone."""
    with transaction(session_factory) as session:
        sent = reset.issue(session=session, reset_id=reset_id, link_prefix=link_prefix,
                           send=events.tell_user, minutes=settings.password_reset_minutes)
        if sent:
            tasks.enqueue("deliver_outbox", session=session)
    return (line(N_("link queued")) if sent
            else line(N_("no link (no such active account, or done before)")))
