"""The planted facts: defaulters, a trading ring, a burst of sales, duplicate invoices,
firms sharing a phone, bank account or address, past loans and tax data.

Each function records what it planted in the :class:`~trellis.demo.data.Truth`.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from trellis.demo.data import Truth
from trellis.demo.flows import Deal, round_amount
from trellis.demo.structure import SimEdge, SimFirm, Structure

RING_SIZE = 4
LOOKBACK_DAYS = 28  # the burst lies in the four weeks before the application


def defaulters(rng: random.Random, st: Structure, start: date, end: date,
               truth: Truth) -> None:
    """Pick a few fragile tier-1 vendors whose sales fade for 5-8 months, then default."""
    n = max(3, round(len(st.vendors) * 0.03))
    recent = {e.supplier.uscc for e in st.edges if e.since > start - timedelta(days=90)}
    pool = sorted((v for v in st.vendors if v.tier == 1 and v.uscc not in recent
                   and v.founded_on < start - timedelta(days=365)), key=lambda v: v.health)
    chosen = rng.sample(pool[:max(n, len(pool) * 3 // 10)], n)
    earliest = start + timedelta(days=100 + 150)
    latest = end - timedelta(days=30)
    for v in chosen:
        v.default_on = earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
        room = (v.default_on - start).days - 100
        v.decline_from = v.default_on - timedelta(days=rng.randint(150, max(150, min(240, room))))
        v.health = min(v.health, 0.45)
        truth.defaulters.add(v.uscc)
        truth.default_dates[v.uscc] = v.default_on
        truth.decline_dates[v.uscc] = v.decline_from


def ring(rng: random.Random, st: Structure, start: date, end: date,
         truth: Truth) -> list[Deal]:
    """Four tier-2 vendors selling the same amount round a circle every two to three weeks,
    with no order or delivery behind the invoices."""
    pool = [v for v in st.vendors if v.tier == 2 and v.default_on is None
            and v.founded_on < start]
    members = rng.sample(pool, min(RING_SIZE, len(pool)))
    truth.ring = [m.uscc for m in members]
    since = start + timedelta(days=rng.randint(60, 120))
    edges = []
    for i, seller in enumerate(members):
        edge = SimEdge(supplier=seller, buyer=members[(i + 1) % len(members)], since=since,
                       terms=30, monthly_volume=0, orders=0, kind="ring")
        st.edges.append(edge)
        edges.append(edge)
    deals = []
    day = since + timedelta(days=rng.randint(3, 10))
    while day + timedelta(days=8) <= end:
        amount = rng.randint(25, 70) * 10_000_00 + rng.randint(0, 99) * 100_00
        leg_day = day
        for edge in edges:
            deals.append(Deal(seller=edge.supplier, buyer=edge.buyer, edge=edge,
                              amount=amount, order_date=None, deliveries=[],
                              issue_date=leg_day, kind="ring"))
            leg_day += timedelta(days=rng.randint(1, 2))
        day += timedelta(days=rng.randint(14, 24))
    return deals


def burst(rng: random.Random, st: Structure, deals: list[Deal], end: date,
          truth: Truth, exclude: set[str]) -> list[Deal]:
    """One healthy tier-1 vendor invoices its anchor about five months' worth of sales in
    the four weeks before it applies for financing."""
    sales: dict[str, int] = defaultdict(int)
    first_sale: dict[str, date] = {}
    for d in deals:
        if d.issue_date is not None:
            sales[d.seller.uscc] += d.amount
            first_sale[d.seller.uscc] = min(first_sale.get(d.seller.uscc, d.issue_date),
                                            d.issue_date)
    pool = [e for e in st.edges if e.kind == "trade" and e.supplier.tier == 1
            and e.supplier.uscc not in exclude and e.supplier.default_on is None
            and e.supplier.founded_on < end - timedelta(days=720) and sales[e.supplier.uscc]]
    edge = rng.choice(pool)
    firm = edge.supplier
    applied_on = end - timedelta(days=rng.randint(2, 8))
    truth.burst[firm.uscc] = applied_on
    history_months = max(1.0, (applied_on - first_sale[firm.uscc]).days / 30.4)
    monthly = sales[firm.uscc] / history_months
    n = rng.randint(8, 12)
    total = monthly * rng.uniform(4.5, 6.0)
    weights = [rng.uniform(0.5, 1.5) for _ in range(n)]
    out = []
    for w in weights:
        issue = applied_on - timedelta(days=rng.randint(0, LOOKBACK_DAYS - 1))
        amount = round_amount(rng, total * w / sum(weights))
        with_order = rng.random() < 0.5
        order_date = issue - timedelta(days=rng.randint(1, 3)) if with_order else None
        out.append(Deal(seller=firm, buyer=edge.buyer, edge=edge, amount=amount,
                        order_date=order_date,
                        deliveries=[(issue, amount)] if with_order else [],
                        issue_date=issue, kind="burst"))
    return out


def duplicates(rng: random.Random, deals: list[Deal], end: date, exclude: set[str],
               n: int) -> list[Deal]:
    """Copies of a few anchor-facing invoices: same seller, buyer, amount and date."""
    pool = [d for d in deals if d.kind == "trade" and d.issue_date is not None
            and d.buyer.role == "anchor" and d.seller.uscc not in exclude
            and d.seller.default_on is None and (end - d.issue_date).days < 270]
    copies, sellers = [], set()
    for d in rng.sample(pool, min(len(pool), n * 3)):
        if d.seller.uscc in sellers:
            continue
        sellers.add(d.seller.uscc)
        copies.append(Deal(seller=d.seller, buyer=d.buyer, edge=d.edge, amount=d.amount,
                           order_date=None, deliveries=[], issue_date=d.issue_date,
                           kind="dup", dup_of=d))
        if len(copies) == n:
            break
    return copies


def shared_identities(rng: random.Random, st: Structure, truth: Truth) -> None:
    """Hidden related parties: firms registered with one phone, bank account or address."""
    ring = [f for f in st.vendors if f.uscc in truth.ring]
    ring.sort(key=lambda f: truth.ring.index(f.uscc))
    taken = set(truth.ring)
    pool = [v for v in st.vendors if v.tier in (2, 3, -1) and v.uscc not in taken]
    defaulters = [v for v in st.vendors if v.uscc in truth.defaulters]

    def pick(k: int, extra: Sequence[SimFirm] = ()) -> list[SimFirm]:
        chosen = list(extra)
        for f in rng.sample(pool, len(pool)):
            if len(chosen) == k:
                break
            if f.uscc not in taken and f not in chosen:
                chosen.append(f)
        taken.update(f.uscc for f in chosen)
        return chosen

    phone_groups = [[ring[0], ring[2 % len(ring)]], pick(3, defaulters[:1]), pick(2)]
    for group in phone_groups:
        for f in group[1:]:
            f.phone = group[0].phone
        truth.shared_phone.append({f.uscc for f in group})
    bank_groups = [[ring[1], ring[-1]], pick(2)]
    for group in bank_groups:
        for f in group[1:]:
            f.bank_account = group[0].bank_account
        truth.shared_bank_account.append({f.uscc for f in group})
    address_groups = [[ring[1], ring[2 % len(ring)]], pick(2)]
    for group in address_groups:
        for f in group[1:]:
            f.address = group[0].address
            f.region = group[0].region
        truth.shared_address.append({f.uscc for f in group})


def loans(rng: random.Random, st: Structure, deals: list[Deal], start: date, end: date,
          truth: Truth) -> list[dict]:
    """Outcomes of past loans: one defaulted loan per defaulter, repaid loans for many."""
    sales: dict[str, int] = defaultdict(int)
    for d in deals:
        if d.issue_date is not None and d.kind == "trade":
            sales[d.seller.uscc] += d.amount
    months = max(1.0, (end - start).days / 30.4)
    share = {1: 0.6, 2: 0.45, 3: 0.25, -1: 0.35}
    rows = []
    for v in st.vendors:
        size = max(50_000_00, sales[v.uscc] / months)
        if v.default_on is not None:
            if rng.random() < 0.5:
                rows.append(_loan(rng, v, v.default_on - timedelta(days=rng.randint(300, 420)),
                                  size, False))
            rows.append(_loan(rng, v, v.default_on - timedelta(days=rng.randint(60, 150)),
                              size, True))
        elif rng.random() < share[v.tier]:
            first = max(v.founded_on + timedelta(days=365), start - timedelta(days=180))
            last = end - timedelta(days=90)
            if first > last:
                continue
            for _ in range(rng.choice((1, 1, 2))):
                day = first + timedelta(days=rng.randint(0, (last - first).days))
                rows.append(_loan(rng, v, day, size, False))
    rows.sort(key=lambda r: (r["disbursed_on"], r["firm_uscc"]))
    return rows


def _loan(rng: random.Random, v: SimFirm, day: date, size: float, defaulted: bool) -> dict:
    amount = max(10_000_00, int(size * rng.uniform(0.5, 2.0)) // 1_000_00 * 1_000_00)
    return {"firm_uscc": v.uscc, "disbursed_on": day, "amount_fen": amount,
            "defaulted": defaulted, "source": "history"}


def tax(rng: random.Random, st: Structure, deals: list[Deal], end: date, truth: Truth,
        rows: dict[str, dict]) -> None:
    """VAT sales and tax paid for the last calendar year, for about a third of vendors.

    Declared sales follow invoiced sales in the year (scaled up when the simulated window
    covers only part of it), with some under- and over-statement.
    """
    year = end.year - 1
    sales: dict[str, int] = defaultdict(int)
    first_seen: dict[str, date] = {}
    for d in deals:
        if d.issue_date is None or d.kind == "dup":
            continue
        # Distributors sell outside the cluster: their sales are purchases plus a margin.
        u = d.buyer.uscc if d.buyer.tier == -1 else d.seller.uscc
        amount = d.amount * 5 // 4 if d.buyer.tier == -1 else d.amount
        first_seen[u] = min(first_seen.get(u, d.issue_date), d.issue_date)
        if d.issue_date.year == year:
            sales[u] += amount
    candidates = [v for v in st.vendors if sales[v.uscc]]
    chosen = {v.uscc for v in rng.sample(candidates, min(len(candidates),
                                                         round(len(st.vendors) / 3)))}
    for v in st.vendors:
        if v.uscc not in chosen:
            continue
        covered_from = max(date(year, 1, 1), first_seen[v.uscc], v.founded_on)
        covered = max(30, (date(year, 12, 31) - covered_from).days + 1)
        declared = int(sales[v.uscc] * min(12.0, 365 / covered) * rng.uniform(0.8, 1.1))
        if v.founded_on.year >= year:  # not a full year in business: report what was
            declared = int(sales[v.uscc] * rng.uniform(0.8, 1.1))
        rate = 0.01 if v.micro or declared < 500_000_000 else rng.uniform(0.02, 0.04)
        row = rows[v.uscc]
        row["tax_vat_sales_fen"] = declared // 100 * 100
        row["tax_paid_fen"] = int(declared * rate) // 100 * 100
        row["tax_period"] = str(year)
        truth.with_tax.add(v.uscc)
