"""Scheduled jobs of the vouchers area."""

from __future__ import annotations

import logging
from datetime import date

from trellis.db import transaction
from trellis.messages import N_, line
from trellis.vouchers.settlement import settle_matured

logger = logging.getLogger(__name__)


def settle_vouchers(*, session_factory, settings) -> str:
    """Settle every voucher that has matured: the anchor pays each holder (or the loan)."""
    with transaction(session_factory) as session:
        count = settle_matured(session=session, as_of=date.today())
    return line(N_("settled %(n)s matured voucher(s)"), n=count)
