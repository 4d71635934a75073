"""The cooling-off right as a borrower sees it, from the ledger's one rule.

The rule lives in :func:`trellis.ledger.replay.replay`: on a first loan, money paid from
the pay-out day to :attr:`~trellis.ledger.replay.Terms.cooling_off_until` (inclusive)
that adds up to the principal lent closes the loan with no interest and no fees. These
helpers answer the two questions a page asks, so no page works the rule out again.
Amounts are integer fen; days are calendar dates.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from trellis.db import id_of
from trellis.ledger.lifecycle import stored_payments, terms_of
from trellis.ledger.models import Loan, LoanStatus


def window_end(loan: Loan) -> date | None:
    """The last day of the loan's cooling-off window; None without the right or before
    the pay-out."""
    if loan.disbursed_on is None:
        return None
    return terms_of(loan).cooling_off_until


def payoff_in_window(*, session: Session, loan: Loan, on: date) -> int | None:
    """What paid on *on* closes the active loan under the cooling-off right: the
    principal lent less the money already paid in the window (fen, at least 0); None
    outside the window, without the right, or for a loan that is not active."""
    until = window_end(loan)
    if until is None or on > until or loan.status != LoanStatus.ACTIVE:
        return None
    paid = sum(p.amount_fen for p in stored_payments(session, id_of(loan)) if p.paid_on <= until)
    return max(loan.amount_fen - paid, 0)
