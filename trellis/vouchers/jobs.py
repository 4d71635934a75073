"""Scheduled jobs of the vouchers area."""

from __future__ import annotations

import logging

from trellis import clock
from trellis.messages import N_, Message, Money, line
from trellis.vouchers.errors import SettlementIncomplete
from trellis.vouchers.settlement import settle_matured

logger = logging.getLogger(__name__)

#: Attempts at each voucher's settlement transaction before a conflict is reported for
#: it: a conflict (deadlock, serialisation failure) rolls that voucher back and it runs
#: again after a short jittered pause (:func:`trellis.db.run`).
SETTLE_ATTEMPTS = 4


def settle_vouchers(*, session_factory, settings) -> str:
    """Settle every voucher that has matured: the anchor pays each holder (or the loan).

    Each voucher in a transaction of its own (:func:`~trellis.vouchers.settlement.
    settle_matured`), run again at most :data:`SETTLE_ATTEMPTS` times in all on a
    conflict. Returns how many were settled; when some could not be, raises
    :class:`~trellis.vouchers.errors.SettlementIncomplete`, whose message says how many
    were settled and, for each of the others (left active for the next run), its code,
    what it still owes and why."""
    done = settle_matured(session_factory=session_factory, as_of=clock.today(),
                          attempts=SETTLE_ATTEMPTS)
    if done.unsettled:
        raise SettlementIncomplete(
            N_("Settled %(n)s matured voucher(s); %(failed)s could not be settled and "
               "stay for the next run: %(why)s"),
            params={"n": len(done.settled), "failed": len(done.unsettled),
                    "why": [Message(N_("%(code)s (%(amount)s): %(why)s"),
                                    {"code": u.code, "amount": Money(u.amount_fen),
                                     "why": u.reason}) for u in done.unsettled]})
    return line(N_("settled %(n)s matured voucher(s)"), n=len(done.settled))
