"""A loan's life as a pure function of its terms and its payments.

Given the opening balances at the start of a day, the payments received from that day on
and the day up to which interest must be booked, :func:`replay` returns every posting the
loan should have on those days and its closing balances. The service posts the
*difference* between this and what the journal already holds for those days, so a
payment dated in the past (back-dated) re-computes every later accrual and allocation
exactly, and an on-time payment posts just its allocation. The same arithmetic drives the
set-based daily accrual in :mod:`trellis.ledger.accrual`; a test holds the two equal.

Conventions (all integers, fen):

* Day ``d``'s interest is booked for the night from ``d`` to ``d + 1`` on the principal
  outstanding at the end of ``d``: a loan paid out on day 0 and repaid in full on day n
  pays n days of interest. ``daily_interest`` rounds each day half up to the fen (the
  usual rule for daily accrual; the residual is below half a fen a day).
* Payments dated ``d`` are applied before day ``d``'s interest, in the order received.
* Penalty interest accrues on principal for each day after the due date (grace included).
* Waterfall: the product's order (default penalty, fees, interest, principal); anything
  left is a surplus owed to the vendor (``VENDOR_PAYABLE``).
* Cooling-off (first loans only): when payments received within ``cooling_off_days`` of
  disbursement reach the principal lent, every fee and all interest are waived: the
  receivables still open are reversed out of income, and money those payments had already
  applied to fees or interest is re-applied to principal. The loan closes as cooled off.

Every posting carries the loan id, and the postings of each day balance on their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from trellis.ledger.chart import COMPONENTS, DEFAULT_WATERFALL, Acct
from trellis.ledger.journal import Posting

MICRO = 1_000_000


def daily_interest(principal_fen: int, rate_micro: int, day_count: int) -> int:
    """One day's interest, half up to the fen: principal x rate / day_count.

    ``rate_micro`` is the annual rate in millionths (65_000 = 6.5 %). Exact integer
    arithmetic; the SQL accrual uses the same expression.
    """
    denominator = MICRO * day_count
    return (2 * principal_fen * rate_micro + denominator) // (2 * denominator)


@dataclass(frozen=True, slots=True)
class Terms:
    """What a replay needs to know about a loan (copied from its row)."""

    loan_id: int
    amount_fen: int
    fee_fen: int
    rate_micro: int
    penalty_rate_micro: int
    day_count: int
    disbursed_on: date
    due_date: date
    cooling_off_days: int = 0
    first_loan: bool = False
    waterfall: tuple[str, ...] = DEFAULT_WATERFALL

    @property
    def cooling_off_until(self) -> date | None:
        """The last day a full repayment waives interest and fees (None: no right)."""
        if not self.first_loan or self.cooling_off_days <= 0:
            return None
        return self.disbursed_on + timedelta(days=self.cooling_off_days)


@dataclass(frozen=True, slots=True)
class Balances:
    principal_fen: int = 0
    interest_fen: int = 0
    penalty_fen: int = 0
    fees_fen: int = 0

    @property
    def total_fen(self) -> int:
        """Everything owed, in fen."""
        return self.principal_fen + self.interest_fen + self.penalty_fen + self.fees_fen

    def get(self, component: str) -> int:
        """The balance (fen) of waterfall *component*: penalty, fees, interest, principal."""
        value: int = getattr(self, COMPONENTS[component][2])
        return value

    def add(self, component: str, amount: int) -> Balances:
        """These balances with *amount* fen (signed) added to *component*."""
        col = COMPONENTS[component][2]
        return replace(self, **{col: getattr(self, col) + amount})


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received: ``amount_fen`` > 0 with value date ``paid_on``."""

    key: str
    amount_fen: int
    paid_on: date


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one payment was applied (fen per component; surplus to the vendor)."""

    key: str
    paid_on: date
    amount_fen: int
    penalty_fen: int = 0
    fees_fen: int = 0
    interest_fen: int = 0
    principal_fen: int = 0
    surplus_fen: int = 0
    cooling_off: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    postings: tuple[Posting, ...]
    balances: Balances
    allocations: tuple[Allocation, ...]
    closed_on: date | None
    cooled_off: bool
    daily: tuple[tuple[date, int, int], ...] = field(default=())  # (day, interest, penalty)


def start_for(terms: Terms, wanted: date) -> date:
    """The day a replay must start from to re-apply payments dated *wanted* or later.

    Inside the cooling-off window the whole loan is replayed, because a payment there can
    change how earlier payments in the window were applied.
    """
    until = terms.cooling_off_until
    if until is not None and wanted <= until:
        return terms.disbursed_on
    return max(wanted, terms.disbursed_on)


def disbursement_postings(terms: Terms) -> tuple[Posting, ...]:
    """The pay-out's postings, in fen on the disbursement day: principal out of cash and,
    if any, the fee charged (receivable against fee income)."""
    d, lid = terms.disbursed_on, terms.loan_id
    out = [Posting(Acct.LOANS, terms.amount_fen, lid, d),
           Posting(Acct.CASH, -terms.amount_fen, lid, d)]
    if terms.fee_fen:
        out += [Posting(Acct.FEES_RECEIVABLE, terms.fee_fen, lid, d),
                Posting(Acct.FEE_INCOME, -terms.fee_fen, lid, d)]
    return tuple(out)


def replay(terms: Terms, *, start: date, until: date, opening: Balances,
           payments: Iterable[Payment], closed: bool = False,
           resume: bool = False) -> Outcome:
    """Replay the loan from the start of *start* to the start of *until*.

    *opening* is the balance at the start of *start* (ignored when *start* is the
    disbursement day: the disbursement is replayed). Payments dated *start* .. *until*
    (inclusive) are applied; interest is booked for days *start* .. *until* - 1.
    *closed* says the loan had already been repaid before *start* (payments then are
    surpluses). With *resume*, *opening* is instead the balance after everything already
    booked on *start* (its pay-out, its earlier payments): nothing of that is replayed,
    and *payments* are only the new ones, applied after it (an on-time payment, outside
    the cooling-off window, whose allocation is then the whole difference).
    Raises ``ValueError`` for a payment outside the range.
    """
    lid = terms.loan_id
    posts: list[Posting] = []
    allocations: list[Allocation] = []
    daily: list[tuple[date, int, int]] = []
    by_day: dict[date, list[Payment]] = defaultdict(list)
    for p in payments:
        if not start <= p.paid_on <= until:
            raise ValueError(f"payment {p.key} dated {p.paid_on} outside {start}..{until}")
        by_day[p.paid_on].append(p)
    bal = opening
    if start == terms.disbursed_on and not resume:
        posts.extend(disbursement_postings(terms))
        bal, closed = Balances(terms.amount_fen, 0, 0, terms.fee_fen), False
    window_end = terms.cooling_off_until
    if resume and window_end is not None and start <= window_end:
        raise ValueError("a replay inside the cooling-off window starts at the pay-out")
    window_paid = 0
    paid_to: dict[str, int] = defaultdict(int)   # window money applied to fees/interest
    closed_on: date | None = None
    cooled = False
    day = start
    while day <= until:
        for pay in by_day.get(day, ()):
            cash = [Posting(Acct.CASH, pay.amount_fen, lid, day)]
            if closed:
                posts += cash + [Posting(Acct.VENDOR_PAYABLE, -pay.amount_fen, lid, day)]
                allocations.append(Allocation(pay.key, day, pay.amount_fen,
                                              surplus_fen=pay.amount_fen))
                continue
            in_window = window_end is not None and day <= window_end
            if in_window and window_paid + pay.amount_fen >= terms.amount_fen:
                bal, legs = _cool_off(terms, bal, paid_to, day)
                posts += legs
                principal = min(pay.amount_fen, bal.principal_fen)
                bal = bal.add("principal", -principal)
                surplus = pay.amount_fen - principal
                posts += cash + [Posting(Acct.LOANS, -principal, lid, day)] * bool(principal)
                posts += [Posting(Acct.VENDOR_PAYABLE, -surplus, lid, day)] * bool(surplus)
                allocations.append(Allocation(pay.key, day, pay.amount_fen,
                                              principal_fen=principal, surplus_fen=surplus,
                                              cooling_off=True))
                closed, cooled, closed_on = True, True, day
                continue
            left, parts = pay.amount_fen, {}
            for comp in terms.waterfall:
                take = min(left, bal.get(comp))
                if take:
                    bal = bal.add(comp, -take)
                    posts.append(Posting(COMPONENTS[comp][0], -take, lid, day))
                    left -= take
                parts[comp] = take
            posts += cash + [Posting(Acct.VENDOR_PAYABLE, -left, lid, day)] * bool(left)
            allocations.append(Allocation(pay.key, day, pay.amount_fen,
                                          penalty_fen=parts["penalty"], fees_fen=parts["fees"],
                                          interest_fen=parts["interest"],
                                          principal_fen=parts["principal"], surplus_fen=left))
            if in_window:
                window_paid += pay.amount_fen
                for comp in ("penalty", "fees", "interest"):
                    paid_to[comp] += parts[comp]
            if bal.total_fen == 0:
                closed, closed_on = True, day
        if day < until and not closed and bal.principal_fen:
            interest = daily_interest(bal.principal_fen, terms.rate_micro, terms.day_count)
            penalty = (daily_interest(bal.principal_fen, terms.penalty_rate_micro,
                                      terms.day_count) if day > terms.due_date else 0)
            if interest:
                bal = bal.add("interest", interest)
                posts += [Posting(Acct.INTEREST_RECEIVABLE, interest, lid, day),
                          Posting(Acct.INTEREST_INCOME, -interest, lid, day)]
            if penalty:
                bal = bal.add("penalty", penalty)
                posts += [Posting(Acct.PENALTY_RECEIVABLE, penalty, lid, day),
                          Posting(Acct.PENALTY_INCOME, -penalty, lid, day)]
            daily.append((day, interest, penalty))
        day += timedelta(days=1)
    return Outcome(postings=tuple(posts), balances=bal, allocations=tuple(allocations),
                   closed_on=closed_on, cooled_off=cooled, daily=tuple(daily))


def _cool_off(terms: Terms, bal: Balances, paid_to: dict[str, int], day: date
              ) -> tuple[Balances, list[Posting]]:
    """Waive open interest, penalty and fees; re-apply window money paid to them."""
    lid, legs = terms.loan_id, []
    for comp in ("penalty", "fees", "interest"):
        receivable, income, _col = COMPONENTS[comp]
        open_ = bal.get(comp)
        if open_:
            legs += [Posting(income, open_, lid, day), Posting(receivable, -open_, lid, day)]
            bal = bal.add(comp, -open_)
        paid = paid_to.get(comp, 0)
        if paid:
            legs += [Posting(income, paid, lid, day), Posting(Acct.LOANS, -paid, lid, day)]
            bal = bal.add("principal", -paid)
    return bal, legs


def project(terms: Terms, *, until: date) -> Outcome:
    """The loan from disbursement to *until* (a date on or after the pay-out) with no
    payment: what would be owed, in fen (offers, schedules)."""
    return replay(terms, start=terms.disbursed_on, until=until, opening=Balances(),
                  payments=())
