"""Scheduled jobs of the vouchers area."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy.exc import DBAPIError

from trellis.db import is_retryable, run
from trellis.messages import N_, line
from trellis.vouchers.errors import SettlementConflict
from trellis.vouchers.settlement import settle_matured

logger = logging.getLogger(__name__)

#: Attempts at the settlement transaction before a conflict is reported: a conflict
#: (deadlock, serialisation failure) rolls it back and it runs again after a short
#: jittered pause (:func:`trellis.db.run`).
SETTLE_ATTEMPTS = 4


def settle_vouchers(*, session_factory, settings) -> str:
    """Settle every voucher that has matured: the anchor pays each holder (or the loan).

    One transaction, run again (at most :data:`SETTLE_ATTEMPTS` times in all) when the
    database ends it with a deadlock or serialisation failure; after the last, raises
    :class:`~trellis.vouchers.errors.SettlementConflict` (nothing settled; the next run
    tries again)."""
    today = date.today()
    try:
        count = run(session_factory, lambda s: settle_matured(session=s, as_of=today),
                    attempts=SETTLE_ATTEMPTS)
    except DBAPIError as exc:
        if not is_retryable(exc):
            raise
        raise SettlementConflict(
            N_("Matured vouchers could not be settled: payments to the same loans conflicted "
               "%(n)s times in a row. Nothing was settled; the next run of the job tries "
               "again."), params={"n": SETTLE_ATTEMPTS}) from exc
    return line(N_("settled %(n)s matured voucher(s)"), n=count)
