"""Prices from the scoring area, seen from the ledger.

The LPR, the spreads' base and the legal cap live in scoring's tables; the only agreed
entry point is ``trellis.scoring.pricing.quote_rate`` (annual rate = base + spread for the
grade - discount when the anchor confirmed; raises ``RateAboveCap``). The contract rate is
asked for directly. Whether an offer's annualised rate *including fees* (its IRR) is
within the cap is asked the same way: the IRR is expressed as a spread over the base
(rounded up to a whole basis point, so the test errs on the borrower's side) and
``quote_rate`` says whether that price would be refused.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, Decimal

from sqlmodel import Session

from trellis.ledger.errors import OfferAboveCap


def _quote_rate():
    from trellis.scoring.pricing import quote_rate

    return quote_rate


def contract_rate(*, session: Session, grade: str, anchor_confirmed: bool,
                  spreads_bps: dict[str, int], confirmed_discount_bps: int,
                  as_of: date) -> Decimal:
    """The annual contract rate for *grade*; raises :class:`OfferAboveCap` when scoring
    refuses it as above the legal cap."""
    from trellis.scoring.errors import RateAboveCap

    try:
        return Decimal(_quote_rate()(session=session, grade=grade,
                                     anchor_confirmed=anchor_confirmed,
                                     spreads_bps=spreads_bps,
                                     confirmed_discount_bps=confirmed_discount_bps,
                                     as_of=as_of))
    except RateAboveCap as exc:
        raise OfferAboveCap(f"No offer: the rate for grade {grade} would exceed the legal "
                            f"cap ({exc.message}).") from exc


def within_cap(*, session: Session, grade: str, annual_rate: Decimal, as_of: date) -> bool:
    """True if an all-in annual rate of *annual_rate* is allowed on *as_of*."""
    from trellis.scoring.errors import RateAboveCap

    quote = _quote_rate()
    base = Decimal(quote(session=session, grade=grade, anchor_confirmed=False,
                         spreads_bps={grade: 0}, confirmed_discount_bps=0, as_of=as_of))
    spread = int(((annual_rate - base) * 10_000).to_integral_value(rounding=ROUND_CEILING))
    try:
        quote(session=session, grade=grade, anchor_confirmed=False,
              spreads_bps={grade: max(spread, 0)}, confirmed_discount_bps=0, as_of=as_of)
    except RateAboveCap:
        return False
    return True


def max_rate_micro(*, session: Session, grade: str, as_of: date, ceiling_micro: int,
                   floor_micro: int = 0) -> int:
    """The highest annual rate (millionths, at most *ceiling_micro*) that is within the cap,
    found by bisection on whole basis points; used to keep contract + penalty rate legal."""
    lo, hi = floor_micro // 100, ceiling_micro // 100
    if within_cap(session=session, grade=grade, annual_rate=Decimal(hi) / 10_000, as_of=as_of):
        return ceiling_micro
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if within_cap(session=session, grade=grade, annual_rate=Decimal(mid) / 10_000,
                      as_of=as_of):
            lo = mid
        else:
            hi = mid
    return lo * 100
