"""Loans and their outcomes, drawn from the latent risk index of ``world.risk_index``.

* At the cut-off every vendor with at least six months of trade takes a loan.  Default is
  a latent-variable logit: ``z + 0.7 x logistic noise`` above a threshold set so that a share
  drawn uniformly in [20.5%, 24.5%] of these loans default (a fixed count per seed, hence
  a rate inside 20-25% whatever the seed).  Default dates fall 45-330 days after the
  cut-off.  These outcomes are ground truth only; the export never shows them.
* Historical loans (the bank's past book, exported): about a third of the vendors took
  one or two six-month loans between month 9 and seven months before the cut-off;
  each defaults with probability ``sigmoid((b0 + z) / 0.7)`` where b0 makes the book's mean PD
  16%; a default date falls 30-200 days after the loan and never after the cut-off.
* After the cut-off (only with ``after_months``), a defaulter's health collapses.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from tests.outside.world import World, risk_index, sigmoid

NOISE = 0.7  # scale of the logistic noise on z: the hazard is a logit in z / NOISE


def _amount(rng, size_fen: float) -> int:
    wan = max(5, int(round(size_fen * float(rng.uniform(0.6, 1.6)) / 100 / 10_000)))
    return wan * 10_000 * 100  # whole 万元, in fen


def at_cutoff(rng, world: World) -> tuple[list[dict], float]:
    t = world.cutoff_month
    borrowers = [f for f in world.firms if f.role != "anchor" and f.entry <= t - 5]
    z = np.array([risk_index(world, f, t) for f in borrowers])
    u = rng.random(len(borrowers))
    latent = z + NOISE * np.log(u / (1 - u))
    target = float(rng.uniform(0.205, 0.245))
    k = round(target * len(borrowers))
    order = np.argsort(-latent, kind="stable")
    defaulted = np.zeros(len(borrowers), dtype=bool)
    defaulted[order[:k]] = True
    threshold = float(latent[order[k - 1]] + latent[order[k]]) / 2
    loans = []
    for firm, zi, d in zip(borrowers, z, defaulted, strict=True):
        loans.append({"firm": firm.idx, "date": world.cutoff, "amount": _amount(rng, firm.size),
                      "z": float(zi), "pd": float(sigmoid((zi - threshold) / NOISE)),
                      "defaulted": bool(d),
                      "default_date": world.cutoff + timedelta(days=int(rng.integers(45, 331)))
                      if d else None})
    for loan in loans:  # a defaulter's trade collapses after the cut-off
        if loan["defaulted"]:
            for tt in range(t + 1, world.months):
                world.health[loan["firm"], tt] -= 0.5 * (tt - t)
    return loans, k / len(borrowers)


def historical(rng, world: World) -> list[dict]:
    t_cut = world.cutoff_month
    draws = []
    for firm in world.firms:
        if firm.role == "anchor" or rng.random() > 0.35:
            continue
        lo = max(9, firm.entry + 6)
        hi = t_cut - 7
        if lo > hi:
            continue
        months = sorted({int(m) for m in rng.integers(lo, hi + 1, size=int(rng.integers(1, 3)))})
        for t in months:
            draws.append((firm, t, risk_index(world, firm, t)))
    if not draws:
        return []
    z = np.array([d[2] for d in draws])
    lo_b, hi_b = -10.0, 10.0
    for _ in range(60):  # b0 so that the book's mean PD is 16%
        mid = (lo_b + hi_b) / 2
        if float(sigmoid((mid + z) / NOISE).mean()) < 0.16:
            lo_b = mid
        else:
            hi_b = mid
    loans = []
    for firm, t, zi in draws:
        day = world.month_start(t) + timedelta(days=int(rng.integers(0, 28)))
        if rng.random() < 0.3:
            day = world.month_end(t)
        d = bool(rng.random() < float(sigmoid((lo_b + zi) / NOISE)))
        default_day = None
        if d:
            default_day = min(day + timedelta(days=int(rng.integers(30, 201))),
                              world.cutoff - timedelta(days=1))
        loans.append({"firm": firm.idx, "date": day, "maturity": day + timedelta(days=182),
                      "amount": _amount(rng, firm.size), "defaulted": d,
                      "default_date": default_day,
                      "product": ("应收账款融资", "订单融资", "流动资金贷款")[
                          int(rng.integers(3))]})
    loans.sort(key=lambda loan: (loan["date"], loan["firm"]))
    return loans

