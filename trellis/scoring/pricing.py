"""Price: the 1-year LPR in force, plus the grade's spread, less a discount where the
anchor confirmed the receivable; never above the legal cap in force on the date.

Rates are annual Decimals (``Decimal("0.0650")`` is 6.50%); spreads and discounts are
basis points (1 bp = 0.0001). The LPR and the cap are rows of ``base_rates`` and
``rate_caps`` with the date each applies from (seeded by the migration; admins add rows).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlmodel import Session, col

from trellis.errors import ValidationError
from trellis.messages import N_, Percent, msg
from trellis.scoring.errors import NoBaseRate, RateAboveCap
from trellis.scoring.models import BaseRate, RateCap

BP = Decimal("0.0001")
QUANTUM = Decimal("0.0001")


def lpr(*, session: Session, as_of: date, tenor: str = "1y") -> Decimal:
    """The LPR for *tenor* in force on *as_of*. Raises :class:`NoBaseRate` if none."""
    row = session.execute(select(BaseRate).where(col(BaseRate.tenor) == tenor,
                                                 col(BaseRate.effective_from) <= as_of)
                          .order_by(col(BaseRate.effective_from).desc()).limit(1)).scalars().first()
    if row is None:
        raise NoBaseRate(msg(N_("No %(tenor)s LPR is in force on %(day)s; an admin must "
                                "enter the LPR with the date it applies from."),
                             tenor=tenor, day=as_of))
    return Decimal(str(row.rate))


def legal_cap(*, session: Session, as_of: date) -> Decimal:
    """min(absolute cap, multiple x 1-year LPR) in force on *as_of*."""
    row = session.execute(select(RateCap).where(col(RateCap.effective_from) <= as_of)
                          .order_by(col(RateCap.effective_from).desc()).limit(1)).scalars().first()
    if row is None:
        raise NoBaseRate(msg(N_("No legal rate cap is in force on %(day)s; an admin must "
                                "enter one."), day=as_of))
    base = lpr(session=session, as_of=as_of)
    return min(Decimal(str(row.absolute_cap)), Decimal(str(row.lpr_multiple)) * base)


def quote_rate(*, session: Session, grade: str, anchor_confirmed: bool,
               spreads_bps: dict[str, int], confirmed_discount_bps: int,
               as_of: date) -> Decimal:
    """The annual rate for *grade* on *as_of* (4 decimals, e.g. ``Decimal("0.0650")``).

    Never below the LPR (the discount cannot price under the base rate). Raises
    :class:`ValidationError` for a grade with no spread or a negative spread or discount,
    and :class:`RateAboveCap` when the rate would exceed the legal cap.
    """
    if grade not in spreads_bps:
        raise ValidationError(msg(N_("The product sets no spread for grade %(grade)s."),
                                  grade=grade), field="grade")
    spread = int(spreads_bps[grade])
    if spread < 0 or confirmed_discount_bps < 0:
        raise ValidationError(N_("Spreads and the confirmation discount must not be negative."),
                              field="spreads_bps")
    base = lpr(session=session, as_of=as_of)
    rate = base + spread * BP
    if anchor_confirmed:
        rate = max(base, rate - int(confirmed_discount_bps) * BP)
    rate = rate.quantize(QUANTUM, rounding=ROUND_HALF_UP)
    cap = legal_cap(session=session, as_of=as_of)
    if rate > cap:
        raise RateAboveCap(
            N_("Grade %(grade)s would be priced at %(rate)s, above the legal cap of %(cap)s "
               "in force on %(day)s; lower the product's spread for this grade."),
            params={"grade": grade, "rate": Percent(rate), "cap": Percent(cap), "day": as_of})
    return rate
