"""What the park and the tax bureau know: power readings, insured headcount, tax filings.

* Power (about 70% of vendors): kWh = sales level / yuan-per-kWh of the sector x
  exp(0.5 h) x the sector's season^0.5 x a park-wide summer bump (air conditioning in
  July-August) x noise; 2% of readings are missing; dated at the month end.
* Insured headcount (about 60%): sales level / sales per head x exp(0.35 h_smooth), where
  h_smooth is an exponential average of health; the count moves only when that target is
  a whole person away (people are hired and laid off slowly), with some churn in
  workshops of ten or more.
* Tax (55% quarterly, 20% annual, 25% none): declared sales = park invoices of the period
  (net of VAT; planted duplicates and paper invoices left out) x (1 + outside share) x
  noise; filed on the 15th after a quarter, or on 31 May after a year; only filings made
  by the end of the export are present.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from tests.outside.world import World


def power(rng, world: World) -> list[dict]:
    rows = []
    for firm in world.firms:
        if not firm.has_power:
            continue
        s = world.sector_index(firm)
        base = firm.size / 100 / firm.sector.yuan_per_kwh * float(rng.uniform(0.7, 1.4))
        for t in range(firm.entry, world.months):
            if rng.random() < 0.02:
                continue
            summer = 1.18 if world.month_start(t).month in (7, 8) else 1.0
            kwh = (base * np.exp(0.5 * world.health[firm.idx, t]) * world.season[s, t] ** 0.5
                   * summer * float(np.exp(rng.normal(0, 0.06))))
            rows.append({"firm": firm.idx, "date": world.month_end(t), "kwh": int(round(kwh))})
    return rows


def headcount(rng, world: World) -> list[dict]:
    rows = []
    for firm in world.firms:
        if not firm.has_headcount:
            continue
        per_head = float(rng.uniform(15_000, 40_000)) * 100  # sales a head a month, fen
        base = max(3.0, firm.size / per_head)
        smooth = float(world.health[firm.idx, firm.entry])
        n = max(1, int(round(base * np.exp(0.35 * smooth))))
        for t in range(firm.entry, world.months):
            smooth = 0.6 * smooth + 0.4 * float(world.health[firm.idx, t])
            target = base * np.exp(0.35 * smooth)
            if abs(target - n) >= 1:  # hiring and lay-offs follow activity, slowly
                n = max(1, int(round(target)))
            elif base >= 10 and rng.random() < 0.15:  # churn in larger workshops
                n = max(1, n + int(rng.choice([-1, 1])))
            if rng.random() < 0.02:
                continue
            rows.append({"firm": firm.idx, "month": world.month_start(t), "n": n})
    return rows


def tax(rng, world: World, invoices: list[dict]) -> list[dict]:
    net_by_month = np.zeros((len(world.firms), world.months))
    for inv in invoices:
        if inv["kind"] in ("duplicate", "paper"):
            continue
        net_by_month[inv["seller"], world.month_of(inv["date"])] += inv["total"] / 1.13
    rows = []
    end = world.export_end
    for firm in world.firms:
        if firm.tax_style == "none" or firm.role == "anchor":
            continue
        periods = []
        if firm.tax_style == "quarterly":
            for t in range(world.months):
                if world.month_start(t).month % 3 == 0 and t - 2 >= firm.entry:
                    m = world.month_start(t + 1)
                    periods.append((t - 2, t, date(m.year, m.month, 15)))
        else:
            for t in range(world.months):
                if world.month_start(t).month == 12 and t - 11 >= 0:
                    periods.append((max(t - 11, firm.entry), t,
                                    date(world.month_start(t).year + 1, 5, 31)))
        for a, b, filed in periods:
            if filed > end:
                continue
            sales = net_by_month[firm.idx, a:b + 1].sum() * (1 + firm.ext_share)
            sales *= float(np.exp(rng.normal(0, 0.03)))
            rows.append({"firm": firm.idx, "from": world.month_start(a),
                         "to": world.month_end(b), "style": firm.tax_style,
                         "sales": int(round(sales)), "tax": int(round(sales * 0.03)),
                         "filed": filed})
    return rows
