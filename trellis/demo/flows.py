"""Trade flows: orders, deliveries and invoices drawn per supply edge and month, then
numbered, confirmed, credited and paid.

A :class:`Deal` is one sale: an optional purchase order, its deliveries and the invoice
that follows them. Deals are drawn first and numbered afterwards in date order, so that
every buyer's order numbers and every seller's invoice numbers rise with time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate

from trellis.demo import season
from trellis.demo.structure import SimEdge, SimFirm

MIN_AMOUNT_FEN = 20_000  # 200 yuan
REJECT_REASONS = ("金额与订单不符", "货物未验收", "重复开票", "价格有争议")
CREDIT_REASONS = (("return", 60), ("discount", 25), ("dispute", 15))
# Chance that an anchor pays an invoice late, and how late at most (days).
ANCHOR_LATENESS = {"manufacturing": (0.08, 45), "construction": (0.35, 120),
                   "wholesale_retail": (0.12, 40)}
ANCHOR_PAY_DAYS = (10, 25)  # anchors pay in two payment runs a month
CST = 8  # confirmations happen in China's working hours (UTC+8)


@dataclass(slots=True)
class Deal:
    seller: SimFirm
    buyer: SimFirm
    edge: SimEdge | None
    amount: int
    order_date: date | None
    deliveries: list[tuple[date, int]]
    issue_date: date | None
    kind: str = "trade"  # trade, ring, burst, dup
    seq: int = 0
    dup_of: Deal | None = None
    order_number: str | None = None
    invoice_number: str | None = None
    status: str = "pending"
    paid: int = 0
    credit: int = 0
    extra: dict = field(default_factory=dict)


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method; *lam* is small here)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@lru_cache(maxsize=512)
def _cum_weights(year: int, month: int) -> tuple[float, ...]:
    return tuple(accumulate(season.day_weights(year, month)))


def draw_day(rng: random.Random, year: int, month: int, last_day: int) -> date:
    """A trading day of the month up to *last_day*, weighted by :func:`season.day_weights`."""
    cum = _cum_weights(year, month)[:last_day]
    return date(year, month, rng.choices(range(1, last_day + 1), cum_weights=cum)[0])


def activity(firm: SimFirm, day: date) -> float:
    """How much of its normal trade a firm still does on *day* (decline before default)."""
    if firm.default_on is None:
        return 1.0
    if day >= firm.default_on:
        return 0.0
    if firm.decline_from is None or day < firm.decline_from:
        return 1.0
    span = (firm.default_on - firm.decline_from).days
    # A step down (a lost customer, a key worker gone) and then a steady fade.
    return max(0.05, 0.7 * (1.0 - (day - firm.decline_from).days / span) ** 1.2)


def round_amount(rng: random.Random, fen: float) -> int:
    """An invoice amount in integer fen from *fen* (at least MIN_AMOUNT_FEN): usually whole yuan,
    sometimes exact."""
    fen = max(MIN_AMOUNT_FEN, fen)
    if rng.random() < 0.6:  # most invoices are for whole yuan
        return int(fen // 100) * 100
    return int(fen)


def regular_deals(rng: random.Random, edges: list[SimEdge], month_list: list[tuple[int, int]],
                  end: date) -> list[Deal]:
    """Draw the ordinary sales along every trade edge, month by month."""
    deals: list[Deal] = []
    start = date(*month_list[0], 1)
    # One lead-in month, so that the first month's invoices include the orders placed
    # before it; nothing dated before *start* is kept except those orders.
    lead_in = month_list[0][0] * 12 + month_list[0][1] - 2
    month_list = [(lead_in // 12, lead_in % 12 + 1), *month_list]
    for edge in edges:
        if edge.kind != "trade":
            continue
        s, b = edge.supplier, edge.buyer
        # Fragile firms' sales jump about; a planted decline should stand out of the noise.
        sigma = 0.15 if s.decline_from else 0.1 + 0.3 * (1.0 - s.health)
        noise = 0.0
        for k, (y, m) in enumerate(month_list):
            noise = 0.5 * noise + rng.gauss(0.0, sigma)
            first = date(y, m, 1)
            last_day = end.day if (y, m) == (end.year, end.month) else \
                len(season.day_weights(y, m))
            if date(y, m, last_day) < edge.since:
                continue
            mid = first + timedelta(days=14)
            act = activity(s, mid) * activity(b, mid)
            if act <= 0.0:
                continue
            f = season.month_factor(s.chain, y, m)
            age_months = (mid - edge.since).days / 30.4
            ramp = min(1.0, max(0.25, (age_months + 1) / 5))
            volume = edge.monthly_volume * f * act * ramp * math.exp(s.growth * k + noise)
            lam = edge.orders * min(1.5, max(0.25, f * act * ramp))
            # The month's volume is shared among its orders, so that a month's total
            # moves with the firm's fortunes, not with how many orders happened to come.
            weights = [math.exp(rng.gauss(0.0, 0.35)) for _ in range(poisson(rng, lam))]
            for w in weights:
                order_date = draw_day(rng, y, m, last_day)
                if order_date < edge.since or not activity(s, order_date) \
                        or not activity(b, order_date):
                    continue
                amount = round_amount(rng, volume * w / sum(weights))
                deal = _fulfil(rng, s, b, edge, amount, order_date, end)
                if deal.issue_date is not None and deal.issue_date >= start or \
                        deal.issue_date is None and order_date >= start:
                    deals.append(deal)
    return deals


def _fulfil(rng: random.Random, s: SimFirm, b: SimFirm, edge: SimEdge, amount: int,
            order_date: date, end: date) -> Deal:
    lead_max = 5 if s.chain == "construction" else 12
    first = order_date + timedelta(days=rng.randint(1, lead_max))
    if rng.random() < 0.12 and amount >= 2 * MIN_AMOUNT_FEN:
        part = int(amount * rng.uniform(0.4, 0.7))
        planned = [(first, part), (first + timedelta(days=rng.randint(3, 15)), amount - part)]
    else:
        planned = [(first, amount)]
    stop = min(end, (s.default_on or end + timedelta(days=1)) - timedelta(days=1))
    done = [(d, a) for d, a in planned if d <= stop]
    issue = None
    if len(done) == len(planned):
        issue = planned[-1][0] + timedelta(days=rng.randint(0, 3))
        if issue > stop:
            issue = None
    return Deal(seller=s, buyer=b, edge=edge, amount=amount, order_date=order_date,
                deliveries=done, issue_date=issue)


def confirmed_at(day: date, hour: int) -> datetime:
    """A confirmation time on *day* at *hour* China time, as an aware UTC datetime."""
    local = datetime.combine(day, time(hour, 0))
    return (local - timedelta(hours=CST)).replace(tzinfo=UTC)
