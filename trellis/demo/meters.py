"""The park's meters: monthly electricity use and social-insurance headcount per vendor.

Industrial parks meter their tenants. About 70% of vendors have power readings and 60% a
headcount record (the rest: the park never sent them). Power follows a vendor's real
activity (its ordinary trade, not paper invoices): a base load plus use in proportion to
the goods it ships, a summer bump, and noise; a defaulter's use falls from its decline
date and nearly stops after its default. Headcount is sticky: it moves a little with
activity and drops when a firm declines. The ring's invoices have no goods behind them, so
its members' power does not rise with them, which is what the paper-trade screen looks
for. A separate random stream (seeded from the simulation's seed) keeps every other
simulated row unchanged.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from decimal import Decimal

from trellis.demo.flows import Deal
from trellis.demo.structure import Structure

POWER_SHARE, HEADCOUNT_SHARE = 0.70, 0.60
MISSING_READING = 0.02
KWH_PER_YUAN = {"manufacturing": 0.08, "construction": 0.03, "retail": 0.02}
SUMMER = {6: 1.15, 7: 1.25, 8: 1.25, 9: 1.1}


def _kwh_per_yuan(industry: str) -> float:
    return KWH_PER_YUAN.get(industry, 0.05)


def readings(seed: int, st: Structure, deals: list[Deal], months: list[tuple[int, int]],
             end: date) -> tuple[list[dict], list[dict]]:
    """(electricity readings, headcount records) as plain rows keyed by USCC."""
    rng = random.Random(seed * 7919 + 13)
    real: defaultdict[tuple[str, tuple[int, int]],
                      float] = defaultdict(float)  # (uscc, (y, m)) -> yuan of real goods shipped
    for d in deals:
        if d.kind in ("trade", "burst") and d.issue_date is not None:
            real[(d.seller.uscc, (d.issue_date.year, d.issue_date.month))] += d.amount / 100
    power, heads = [], []
    done = [(y, m) for y, m in months if date(y, m, 1) < date(end.year, end.month, 1)]
    for v in st.vendors:
        has_power = rng.random() < POWER_SHARE
        has_heads = rng.random() < HEADCOUNT_SHARE
        flows = [real[(v.uscc, ym)] for ym in done]
        typical = sorted(flows)[len(flows) // 2] if flows else 0.0
        base = max(300.0, 0.3 * typical * _kwh_per_yuan(v.industry))
        staff = max(2, int(round(typical / 40_000)))
        for (y, m), shipped in zip(done, flows, strict=True):
            first = date(y, m, 1)
            if first < v.founded_on.replace(day=1):
                continue
            factor = 1.0
            if v.decline_from is not None and first >= v.decline_from:
                factor = 0.6
            if v.default_on is not None and first >= v.default_on:
                factor = 0.1
            if has_power and rng.random() >= MISSING_READING:
                kwh = (base + shipped * _kwh_per_yuan(v.industry) * 0.7) * factor
                kwh *= SUMMER.get(m, 1.0) * rng.lognormvariate(0, 0.12)
                power.append({"uscc": v.uscc, "utility": "electricity", "month": first,
                              "quantity": Decimal(f"{kwh:.1f}")})
            if has_heads:
                if rng.random() < 0.1:
                    staff = max(1, staff + rng.choice((-1, 1)))
                if factor < 1.0 and rng.random() < 0.3:
                    staff = max(1, staff - 1)
                heads.append({"uscc": v.uscc, "month": first,
                              "headcount": staff if factor > 0.1 else max(0, staff // 3)})
    return power, heads
