"""The annualised rate a borrower is shown: the IRR of the actual cash flows.

Disclosure rules ask for the annualised rate to include every fee and to be computed as
the internal rate of return of the cash flows. :func:`xirr` solves, in ``Decimal``
arithmetic (34 digits), for the effective annual rate ``r`` with

    sum(amount_i / (1 + r) ** (days_i / 365)) = 0

where ``days_i`` counts calendar days from the first flow (the convention of Excel's
XIRR; it is never below the nominal rate, so checking it against a cap errs on the side
of the borrower). Newton's method with a bisection safeguard; the result is exact to
1e-12 or an error is raised.

:func:`quote` builds the offer figures of a bullet loan: interest from the same daily
arithmetic the ledger books, the fee, the schedule, the total cost and the IRR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from trellis.ledger.replay import Terms, project

TOLERANCE = Decimal("1e-12")
YEAR = Decimal(365)


class NoSolution(ArithmeticError):
    """Raised when cash flows have no IRR (all one sign) or the solver cannot bracket it."""


def npv(rate: Decimal, flows: Sequence[tuple[date, Decimal]]) -> Decimal:
    """Net present value at effective annual *rate* of dated *flows*."""
    t0 = flows[0][0]
    base = 1 + rate
    return sum((Decimal(a) / base ** (Decimal((d - t0).days) / YEAR) for d, a in flows),
               Decimal(0))


def _dnpv(rate: Decimal, flows: Sequence[tuple[date, Decimal]]) -> Decimal:
    t0 = flows[0][0]
    base = 1 + rate
    total = Decimal(0)
    for d, a in flows:
        t = Decimal((d - t0).days) / YEAR
        total -= t * Decimal(a) / base ** (t + 1)
    return total


def xirr(flows: Sequence[tuple[date, int | Decimal]], guess: Decimal = Decimal("0.1")
         ) -> Decimal:
    """Effective annual IRR of dated flows (any order; amounts signed, e.g. fen).

    Raises :class:`NoSolution` if the flows do not change sign or no root lies in
    (-99.9999 %, 1e6 %).
    """
    dated = sorted(((d, Decimal(a)) for d, a in flows), key=lambda f: f[0])
    if not (any(a > 0 for _, a in dated) and any(a < 0 for _, a in dated)):
        raise NoSolution("cash flows must contain both payments and receipts")
    with localcontext() as ctx:
        ctx.prec = 34
        lo, hi = Decimal("-0.999999"), Decimal("10000")
        f_lo, f_hi = npv(lo, dated), npv(hi, dated)
        if f_lo * f_hi > 0:
            raise NoSolution("no IRR between -99.9999 % and 1,000,000 %")
        rate = guess
        for _ in range(200):
            value = npv(rate, dated)
            if abs(value) < TOLERANCE * max(abs(a) for _, a in dated):
                break
            if (value > 0) == (f_lo > 0):
                lo, f_lo = rate, value
            else:
                hi, f_hi = rate, value
            slope = _dnpv(rate, dated)
            step = rate - value / slope if slope else None
            # take Newton's step only if it stays inside the bracket, else bisect
            rate = step if step is not None and lo < step < hi else (lo + hi) / 2
            if hi - lo < TOLERANCE:
                break
        else:
            raise NoSolution("IRR did not converge")
        return +rate


@dataclass(frozen=True, slots=True)
class Quote:
    """The figures of an offer for a single-payment (bullet) loan."""

    amount_fen: int
    rate: Decimal           # contract rate, annual (e.g. 0.0650)
    fee_fen: int
    interest_fen: int
    start_date: date
    due_date: date
    apr: Decimal            # IRR of the cash flows incl. fees, effective annual
    schedule: tuple[dict[str, Any], ...]

    @property
    def total_cost_fen(self) -> int:
        """Interest plus fees over the loan's life, in fen (>= 0)."""
        return self.interest_fen + self.fee_fen

    @property
    def tenor_days(self) -> int:
        """Days from pay-out to the due date (> 0)."""
        return (self.due_date - self.start_date).days


def rate_micro(rate: Decimal) -> int:
    """An annual rate as integer millionths (half up), the ledger's accrual unit."""
    return int((Decimal(rate) * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fee_for(amount_fen: int, fee_bps: int, fee_min_fen: int = 0) -> int:
    """The arrangement fee: *fee_bps* of the amount, half up, at least *fee_min_fen*
    (no fee at all when *fee_bps* is zero)."""
    if not fee_bps:
        return 0
    fee = (Decimal(amount_fen) * fee_bps / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(int(fee), fee_min_fen)


def quote(*, amount_fen: int, rate: Decimal, fee_fen: int, start: date, due: date,
          day_count: int = 360, penalty_rate: Decimal = Decimal(0)) -> Quote:
    """Price a bullet loan of *amount_fen* paid out on *start* and repaid on *due*."""
    if due <= start:
        raise ValueError("the due date must be after the start date")
    terms = Terms(loan_id=0, amount_fen=amount_fen, fee_fen=fee_fen,
                  rate_micro=rate_micro(rate), penalty_rate_micro=rate_micro(penalty_rate),
                  day_count=day_count, disbursed_on=start, due_date=due)
    outcome = project(terms, until=due)
    interest = outcome.balances.interest_fen
    total = amount_fen + interest + fee_fen
    apr = xirr([(start, -amount_fen), (due, total)])
    schedule = ({"date": due.isoformat(), "principal_fen": amount_fen,
                 "interest_fen": interest, "fees_fen": fee_fen, "total_fen": total},)
    return Quote(amount_fen=amount_fen, rate=Decimal(rate), fee_fen=fee_fen,
                 interest_fen=interest, start_date=start, due_date=due,
                 apr=apr.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP),
                 schedule=schedule)
