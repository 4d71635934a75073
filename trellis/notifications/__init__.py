"""Notifications: in-app messages for a firm's people, and an outbox that delivers them.

Every event a vendor must hear of (a decision, an offer, a pay-out, a due date three days
and one day ahead, the end of the cooling-off period, an overdue loan, a warning) becomes
one :class:`~trellis.notifications.models.Notification` per firm, keyed so that noticing
the same event twice writes it once. Each notification gets one
:class:`~trellis.notifications.models.OutboxMessage` per channel and address (e-mail to
each of the firm's users, SMS when a phone is known), delivered by a task on
``trellis.tasks`` through a pluggable :class:`~trellis.notifications.senders.Sender`:
SMTP (standard library), an SMS/WeChat adapter interface, or in development a local file
sink, so ``make run`` shows what would have been sent.

Events are found by :func:`~trellis.notifications.events.collect`, which reads the ledger's
own records (decisions, offers, loans) rather than being called from inside the ledger:
the ledger does not know this package exists, and a missed call cannot lose a message.
No Flask here; texts are :class:`~trellis.messages.Message` templates, rendered in each
reader's language by the web layer and, for e-mail, by :mod:`~trellis.notifications.render`.
"""

from trellis.accounts.services import on_joining_a_firm


def _share_with_new_user(session, user) -> None:
    # imported when a user joins: events reads the ledger and scoring, which this package's
    # import (by trellis.schema, through models) must not pull in
    from trellis.notifications.events import share_with_new_user

    share_with_new_user(session, user=user)


on_joining_a_firm(_share_with_new_user)
