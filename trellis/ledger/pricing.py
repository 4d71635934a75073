"""Prices from the scoring area, seen from the ledger.

The LPR and the legal cap live in scoring's tables: ``trellis.scoring.pricing.quote_rate``
gives the contract rate (base + spread for the grade - discount when the anchor
confirmed; it raises ``RateAboveCap``) and ``legal_cap`` the cap in force on a date. The
ledger adds two rules of its own: the annualised rate of an offer *including fees* (its
IRR) must be within the cap too, and so must the contract rate plus the penalty rate
(the penalty is cut down to fit).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from trellis.ledger.apr import rate_micro
from trellis.ledger.errors import OfferAboveCap
from trellis.messages import N_, Message, Percent, msg
from trellis.scoring.errors import RateAboveCap
from trellis.scoring.pricing import legal_cap as cap
from trellis.scoring.pricing import quote_rate


def contract_rate(*, session: Session, grade: str, anchor_confirmed: bool,
                  spreads_bps: dict[str, int], confirmed_discount_bps: int,
                  as_of: date) -> Decimal:
    """The annual contract rate for *grade*; raises :class:`OfferAboveCap` when scoring
    refuses it as above the legal cap."""

    try:
        return Decimal(quote_rate(session=session, grade=grade,
                                  anchor_confirmed=anchor_confirmed, spreads_bps=spreads_bps,
                                  confirmed_discount_bps=confirmed_discount_bps, as_of=as_of))
    except RateAboveCap as exc:
        raise OfferAboveCap(N_("No offer: %(why)s"),
                            params={"why": Message(exc.template, exc.params)}) from exc


def legal_cap(*, session: Session, as_of: date) -> Decimal:
    """The legal cap on the annual rate in force on *as_of* (from scoring's tables)."""

    return Decimal(cap(session=session, as_of=as_of))


def penalty_within_cap(*, rate_micro_: int, penalty_bps: int, cap: Decimal) -> int:
    """The penalty rate (millionths) to use: the product's, cut so that contract rate +
    penalty rate stays within *cap*."""
    room = rate_micro(cap) - rate_micro_
    return max(0, min(penalty_bps * 100, room))


def overdue_rate(rate_micro_: int, penalty_micro: int) -> Message:
    """The annual rate on principal past its due date, as every page and statement states
    it: the whole rate (contract rate + the penalty on top), then its two parts in
    brackets. One way everywhere: the offer once said the penalty alone (+4.00%) and the
    statement the whole rate (12.00%)."""
    def pct(micro: int) -> Percent:
        return Percent(Decimal(micro) / 1_000_000)

    return msg(N_("%(total)s a year (contract rate %(rate)s + penalty %(extra)s)"),
               total=pct(rate_micro_ + penalty_micro), rate=pct(rate_micro_),
               extra=pct(penalty_micro))
