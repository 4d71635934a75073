"""The pandas implementation of :mod:`trellis.scoring.screens` before issue 18's speed
pass, frozen here as the reference the faster screens are checked against
(``tests/scoring/test_features_equal.py``). Not used by Trellis.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from trellis.scoring import graph as graph_
from trellis.scoring.frames import Frames, kept
from trellis.scoring.result import Flag

logger = logging.getLogger(__name__)

# Circular trading is scored by the strength of the evidence round a cycle, whatever order
# its legs were issued in: invoices that match in amount across every leg, leg volumes
# that agree month by month, equal volumes over the year, and money paid round the cycle.
RING_AMOUNT_TOLERANCE = 0.10  # amounts "the same" within 10%
RING_PERIOD_DAYS = 45  # one loop's legs issued within 45 days of each other, any order
RING_MIN_LOOPS = 2  # at least two loops (invoices or months) of matching amounts
RING_MIN_STRENGTH = 0.65  # evidence strength in [0, 1] needed to flag
RING_PAID_SHARE = 0.5  # a leg counts as paid round when half its volume was paid
RING_MERGE_DAYS = 7  # invoices of one leg this close together may be one shipment split up
BURST_DAYS = 28
BURST_BASELINE_MONTHS = 6
BURST_RATIO = 3.0
BURST_MIN_BASELINE_MONTHS = 3
# A moderate spike of ordered, delivered sales is ordinary business (a peak season, a new
# contract) and shows in the sales-trend feature; it is flagged when part of it has no
# order or delivery behind it. A spike of eight times the usual level is flagged anyway.
BURST_UNBACKED_SHARE = 0.10
BURST_RATIO_ALONE = 8.0
SPIKE_BASELINE_MONTHS = 12  # the two-month rule's usual month: the median of 12 before
# of which at least as many months with sales as the 28-day rule needs of history: a firm
# that began trading a few months ago and then invoices three times its usual month for
# two months, mostly without orders, is the same spike (outside park 4902: a vendor trading
# since January, four months of sales before a May-June spike, escaped a six-month minimum)
SPIKE_MIN_ACTIVE_MONTHS = BURST_MIN_BASELINE_MONTHS
# the two months' sales without an order beyond the firm's usual share, in usual months
SPIKE_MIN_EXCESS_MONTHS = 3.5
UNBACKED_SHARE = 0.30
UNBACKED_MIN_INVOICES = 3
TAX_FLOW_RATIO = 1.5  # platform sales above 1.5 x declared VAT sales
MAX_EVIDENCE_ROWS = 10


def _day(ts) -> str:
    return pd.Timestamp(ts).date().isoformat()


def _firm_ref(firms: pd.DataFrame, fid: int) -> dict:
    row = firms.loc[fid]
    return {"firm_id": int(fid), "uscc": row["uscc"], "name": row["name"]}


# --- circular trading --------------------------------------------------------------

def _match_loops(legs: list[dict]) -> tuple[int, np.ndarray]:
    """Loops of invoices, one per leg, whose amounts agree within the tolerance and whose
    issue dates lie within :data:`RING_PERIOD_DAYS` of the first leg's, in any order.
    Each invoice is used once. Returns (loops, matched amount per leg)."""
    used: list[Any] = [np.zeros(len(leg["day"]), dtype=bool) for leg in legs]
    base = min(range(len(legs)), key=lambda i: len(legs[i]["day"]))
    matched = np.zeros(len(legs))
    loops = 0
    for j in np.argsort(legs[base]["day"], kind="stable"):
        d, a = legs[base]["day"][j], legs[base]["amount"][j]
        picks = []
        for i, leg in enumerate(legs):
            if i == base:
                picks.append(j)
                continue
            ok = (~used[i] & (np.abs(leg["day"] - d) <= RING_PERIOD_DAYS)
                  & (np.abs(leg["amount"] - a) <= RING_AMOUNT_TOLERANCE * a))
            hits = np.flatnonzero(ok)
            if not hits.size:
                break
            picks.append(hits[np.argmin(np.abs(leg["amount"][hits] - a))])
        else:
            for i, k in enumerate(picks):
                used[i][k] = True
                matched[i] += legs[i]["amount"][k]
            loops += 1
    return loops, matched


def _merged(leg: dict) -> dict:
    """A leg's invoices with those issued within :data:`RING_MERGE_DAYS` of the previous
    one summed (the same money may be invoiced in parts on one leg and whole on another)."""
    order = np.argsort(leg["day"], kind="stable")
    day, amount = leg["day"][order], leg["amount"][order]
    if day.size == 0:
        return {"day": day, "amount": amount}
    group = np.concatenate([[0], np.cumsum(np.diff(day) > RING_MERGE_DAYS)])
    return {"day": day[np.r_[0, np.flatnonzero(np.diff(group)) + 1]],
            "amount": np.bincount(group, weights=amount)}


def _consistent_months(legs: list[dict], as_of_day: int) -> tuple[int, int]:
    """(months whose two-month leg volumes agree within the tolerance, months with any
    trade on the cycle). Two-month sums absorb legs issued either side of a month end."""
    months = np.zeros((len(legs), 13))
    for i, leg in enumerate(legs):
        k = np.clip((as_of_day - leg["day"]) // 30, 0, 12).astype(int)
        np.add.at(months[i], k, leg["amount"])
    two = months[:, :-1] + months[:, 1:]
    lo, hi = two.min(axis=0), two.max(axis=0)
    agree = (lo > 0) & (lo >= (1 - RING_AMOUNT_TOLERANCE) * hi)
    # Count a run of agreeing two-month windows as every other window (no double count).
    count, skip = 0, False
    for ok in agree:
        if ok and not skip:
            count, skip = count + 1, True
        else:
            skip = False
    return count, int((months[:, :12].sum(axis=0) > 0).sum())


def ring_evidence(legs: list[dict], paid: list[float], as_of_day: int) -> dict:
    """Evidence that a cycle is circular trading, and its strength in [0, 1].

    *legs* hold each leg's invoices (``day`` as day numbers, ``amount``); *paid* is the
    money paid back along each leg (buyer to seller) in the window. Components:
    ``matched_share`` (the smallest share of a leg's volume in matched loops, or the
    share of months whose volumes agree), ``volume_balance`` (smallest over largest leg
    volume), ``repeat`` (loops or agreeing months, 4 or more = 1) and ``paid_round``
    (share of legs paid back at least half). Weights 0.35 / 0.25 / 0.2 / 0.2.
    """
    volumes = np.array([float(leg["amount"].sum()) for leg in legs])
    loops, matched = _match_loops(legs)
    loops_m, matched_m = _match_loops([_merged(leg) for leg in legs])
    if loops_m > loops:
        loops, matched = loops_m, matched_m
    months, active = _consistent_months(legs, as_of_day)
    share_loops = float((matched / np.where(volumes > 0, volumes, 1)).min())
    share_months = months * 2 / active if active else 0.0
    matched_share = min(1.0, max(share_loops, share_months))
    balance = float(volumes.min() / volumes.max()) if volumes.max() > 0 else 0.0
    repeat = max(loops, months)
    paid_round = float(np.mean([p >= RING_PAID_SHARE * v for p, v in
                                zip(paid, volumes, strict=True)]))
    strength = (0.35 * matched_share + 0.25 * balance + 0.2 * min(1.0, repeat / 4)
                + 0.2 * paid_round)
    return {"loops": int(loops), "consistent_months": int(months),
            "matched_share": round(matched_share, 4), "volume_balance": round(balance, 4),
            "paid_round": round(paid_round, 4), "strength": round(strength, 4),
            "flag": bool(repeat >= RING_MIN_LOOPS and strength >= RING_MIN_STRENGTH)}


def _candidate_cycles(frames: Frames, scope: list[int]) -> list[list[int]]:
    """Cycles of the network area's graph through the firms in scope."""
    return graph_.cycles(graph_.of(frames),
                         through=scope if len(scope) < len(frames.firms) else None)


def circular_trading(frames: Frames, scope: list[int]) -> dict[int, list[Flag]]:
    """Flags for firms of *scope* in a loop of invoices over the last 12 months whose amounts agree
    (money going round rather than goods), by firm id."""
    found = _candidate_cycles(frames, scope)
    if not found:
        return {}
    start = frames.as_of - pd.DateOffset(months=12)
    inv = frames.invoices
    inv = inv[inv["issue_date"] >= start]
    members = {n for c in found for n in c}
    inv = inv[inv["seller_id"].isin(members) & inv["buyer_id"].isin(members)]
    if "status" in inv:
        inv = inv[inv["status"] != "rejected"]
    pay = frames.payments
    pay = pay[(pay["paid_on"] >= start) & pay["payer_id"].isin(members)
              & pay["payee_id"].isin(members)]
    paid = pay.groupby(["payer_id", "payee_id"])["amount_fen"].sum()
    epoch = pd.Timestamp("1970-01-01")
    as_of_day = int((frames.as_of - epoch).days)
    legs = {}
    for (s, b), g in inv.groupby(["seller_id", "buyer_id"]):
        legs[(int(s), int(b))] = {
            "day": ((g["issue_date"] - epoch).dt.days).to_numpy(),
            # ratios between leg amounts only (matching a loop); no money is booked here
            "amount": g["amount_fen"].to_numpy(dtype=float),
            "number": g["number"].to_numpy(), "date": g["issue_date"].to_numpy()}
    out: dict[int, list[Flag]] = defaultdict(list)
    for cycle in found:
        pairs = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
        if any(p not in legs for p in pairs):
            continue
        ev = ring_evidence([legs[p] for p in pairs],
                           [float(paid.get((b, s), 0)) for s, b in pairs], as_of_day)
        if not ev["flag"]:
            continue
        example = []
        for s, b in pairs:
            leg = legs[(s, b)]
            j = int(np.argmax(leg["day"]))
            example.append({"seller": frames.firms.loc[s, "uscc"],
                            "buyer": frames.firms.loc[b, "uscc"],
                            "invoice": str(leg["number"][j]), "issued": _day(leg["date"][j]),
                            "amount_fen": int(leg["amount"][j]),
                            "leg_volume_fen": int(leg["amount"].sum())})
        evidence = {"cycle": [_firm_ref(frames.firms, n) for n in cycle], **ev,
                    "volume_fen": int(sum(legs[p]["amount"].sum() for p in pairs)),
                    "latest_loop": example}
        level_en = "strong" if ev["strength"] >= 0.85 else "moderate"
        level_zh = "强" if ev["strength"] >= 0.85 else "中等"
        repeat = max(ev["loops"], ev["consistent_months"])
        for n in cycle:
            if n in scope:
                out[n].append(Flag(
                    "circular_trading",
                    f"Circular trading ({level_en} evidence, {ev['strength']:.1%}): "
                    f"{repeat} rounds of matching amounts round {len(cycle)} firms, "
                    f"{ev['paid_round']:.0%} of the legs paid round.",
                    f"循环交易（证据{level_zh}，{ev['strength']:.1%}）：{len(cycle)}家企业之间"
                    f"{repeat}轮金额相符的交易，{ev['paid_round']:.0%}的环节有资金回流。",
                    evidence))
    return out


# --- duplicate invoices ------------------------------------------------------------

def normalise_number(number: str) -> str:
    """An invoice number without separators, case or leading zeros."""
    return re.sub(r"[^0-9A-Za-z]", "", str(number)).upper().lstrip("0")


def duplicate_invoices(frames: Frames, scope: list[int]) -> dict[int, list[Flag]]:
    """Flags for firms of *scope* that issued the same invoice number (ignoring punctuation and
    leading zeros) to one buyer twice, by firm id. A rejected invoice is named only as a
    copy the buyer rejected of the one invoice of its group left, dated on or after it."""
    inv = frames.invoices
    inv = inv[inv["seller_id"].isin(scope)].copy()
    if inv.empty:
        return {}
    inv["norm_number"] = inv["number"].astype(str).str.replace(
        r"[^0-9A-Za-z]", "", regex=True).str.upper().str.lstrip("0")
    keys = {"fp_content": ["seller_id", "buyer_id", "amount_fen", "issue_date"],
            "fp_number": ["seller_id", "norm_number"]}
    out: dict[int, list[Flag]] = defaultdict(list)
    seen: set[tuple] = set()
    for key, cols in keys.items():
        dup = inv[inv.duplicated(cols, keep=False)]
        for _, g in dup.groupby(cols):
            ids = tuple(sorted(g["id"]))
            if ids in seen:
                continue
            seen.add(ids)
            live = g[g["status"] != "rejected"]
            if len(live) == 1:   # the copies the buyer rejected, if any came on or after it
                g = g[(g["status"] != "rejected")
                      | (g["issue_date"] >= live["issue_date"].iloc[0])]
            elif len(live) > 1:
                g = live
            if len(g) < 2 or not len(live):
                continue
            seller = int(g["seller_id"].iloc[0])
            rows = [{"invoice": str(r.number), "buyer": frames.firms.loc[r.buyer_id, "uscc"]
                     if r.buyer_id in frames.firms.index else int(r.buyer_id),
                     "issued": _day(r.issue_date), "amount_fen": int(r.amount_fen),
                     "has_order": bool(pd.notna(r.order_id)), "status": r.status}
                    for r in g.itertuples()]
            same = "same buyer, amount and date" if key == "fp_content" else "same number"
            same_zh = "买方、金额和日期相同" if key == "fp_content" else "发票号相同"
            if len(live) == 1:
                en, zh = _caught(rows, same, same_zh)
            else:
                en = f"Duplicate invoices ({same}): {', '.join(r['invoice'] for r in rows)}."
                zh = f"重复发票（{same_zh}）：{'、'.join(r['invoice'] for r in rows)}。"
            out[seller].append(Flag("duplicate_invoice", en, zh,
                                    {"match": key, "invoices": rows[:MAX_EVIDENCE_ROWS]}))
    for a, b in _near_duplicates(inv):
        ids = tuple(sorted((int(a.id), int(b.id))))
        if any(set(ids) <= set(x) for x in seen):
            continue
        seen.add(ids)
        rejected = [r for r in (a, b) if r.status == "rejected"]
        if len(rejected) == 2:
            continue
        if rejected:
            kept = b if rejected[0] is a else a
            if rejected[0].issue_date < kept.issue_date:   # a re-issue after a rejection
                continue
        rows = [{"invoice": str(r.number), "buyer": frames.firms.loc[r.buyer_id, "uscc"]
                 if r.buyer_id in frames.firms.index else int(r.buyer_id),
                 "issued": _day(r.issue_date), "amount_fen": int(r.amount_fen),
                 "has_order": bool(pd.notna(r.order_id)), "status": r.status}
                for r in (a, b)]
        if rejected:
            en, zh = _caught(rows, "nearly the same amount and date", "金额和日期几乎相同")
            out[int(a.seller_id)].append(Flag("duplicate_invoice", en, zh,
                                              {"match": "fp_near", "invoices": rows}))
            continue
        out[int(a.seller_id)].append(Flag(
            "duplicate_invoice",
            f"Near-duplicate invoices (same buyer, amounts ¥{rows[0]['amount_fen'] / 100:,.2f} "
            f"and ¥{rows[1]['amount_fen'] / 100:,.2f}, issued "
            f"{abs((b.issue_date - a.issue_date).days)} day(s) apart): "
            f"{rows[0]['invoice']}, {rows[1]['invoice']}.",
            f"疑似重复发票（同一买方，金额 ¥{rows[0]['amount_fen'] / 100:,.2f} 与 "
            f"¥{rows[1]['amount_fen'] / 100:,.2f}，开票相隔 "
            f"{abs((b.issue_date - a.issue_date).days)} 天）：{rows[0]['invoice']}、"
            f"{rows[1]['invoice']}。",
            {"match": "fp_near", "invoices": rows}))
    return out


def _caught(rows: list[dict], same: str, same_zh: str) -> tuple[str, str]:
    kept = next(r["invoice"] for r in rows if r["status"] != "rejected")
    gone = [r["invoice"] for r in rows if r["status"] == "rejected"]
    return (f"The buyer rejected {', '.join(gone)}, a copy of invoice {kept} ({same}): the "
            "seller issued the same invoice twice.",
            f"买方已拒绝发票{'、'.join(gone)}，它是发票{kept}的重复开具（{same_zh}）：卖方"
            "把同一张发票开了两次。")


NEAR_AMOUNT_FEN = 100  # amounts within 1 yuan: a cent changed or a rounding, not a new sale
NEAR_DAYS = 3
NEAR_ROUTINE = 3  # more near-equal pairs than this between two firms is a routine, not fraud


def _near_duplicates(inv: pd.DataFrame) -> list[tuple]:
    """Pairs of invoices between the same two firms whose amounts differ by at most 1 yuan
    and whose dates by at most 3 days, under different numbers: the same sale
    invoiced twice with a cent or a day changed. A pair of firms with many such pairs
    (identical daily deliveries) trades that way routinely and is left out."""
    x = inv.sort_values(["seller_id", "buyer_id", "amount_fen", "issue_date"], kind="stable")
    same = ((x["seller_id"].to_numpy()[1:] == x["seller_id"].to_numpy()[:-1])
            & (x["buyer_id"].to_numpy()[1:] == x["buyer_id"].to_numpy()[:-1]))
    amt = x["amount_fen"].to_numpy()
    gap = np.abs(amt[1:] - amt[:-1])
    tol = NEAR_AMOUNT_FEN
    days = np.abs((x["issue_date"].to_numpy()[1:] - x["issue_date"].to_numpy()[:-1])
                  .astype("timedelta64[D]").astype(int))
    exact = (gap == 0) & (days == 0)
    hit = np.flatnonzero(same & (gap <= tol) & (days <= NEAR_DAYS) & ~exact)
    if not hit.size:
        return []
    rows = list(x.itertuples())
    pairs = [(rows[i], rows[i + 1]) for i in hit
             if normalise_number(rows[i].number) != normalise_number(rows[i + 1].number)]
    per_pair: defaultdict[Any, int] = defaultdict(int)
    for a, _ in pairs:
        per_pair[(a.seller_id, a.buyer_id)] += 1
    return [(a, b) for a, b in pairs if per_pair[(a.seller_id, a.buyer_id)] <= NEAR_ROUTINE]


# --- invoices with no order or delivery --------------------------------------------

def _backed(inv: pd.DataFrame, frames: Frames, order_only: set[int] | None) -> pd.Series:
    """Invoices with an order and a delivery behind them; for sellers in *order_only*
    (their data holds orders but no deliveries) an order is enough."""
    delivered = frames.deliveries["order_id"].astype("int64").unique()
    backed = inv["order_id"].notna() & inv["order_id"].isin(delivered)
    if order_only:
        backed |= inv["order_id"].notna() & inv["seller_id"].isin(order_only)
    return backed


def unbacked_invoices(frames: Frames, scope: list[int],
                      order_only: set[int] | None = None) -> dict[int, list[Flag]]:
    """Flags for firms of *scope* whose invoices of the last 12 months have no order or delivery
    behind them above the tolerated share of their amount, by firm id."""
    inv = frames.invoices
    inv = inv[inv["seller_id"].isin(scope)
              & (inv["issue_date"] >= frames.as_of - pd.DateOffset(months=12))]
    unbacked = inv[~_backed(inv, frames, order_only)]
    total = inv.groupby("seller_id")["amount_fen"].sum()
    out: dict[int, list[Flag]] = {}
    for seller, g in unbacked.groupby("seller_id"):
        share = g["amount_fen"].sum() / total[seller]
        if len(g) < UNBACKED_MIN_INVOICES or share < UNBACKED_SHARE:
            continue
        g = g.sort_values("issue_date", ascending=False)
        out[int(seller)] = [Flag(
            "unbacked_invoices",
            f"{len(g)} invoices ({share:.0%} of 12-month sales) have no order or delivery "
            "behind them.",
            f"{len(g)}张发票（占近12个月销售额{share:.0%}）没有对应的订单或交货记录。",
            {"count": int(len(g)), "share": round(float(share), 4),
             "amount_fen": int(g["amount_fen"].sum()),
             "latest": [{"invoice": str(r.number), "issued": _day(r.issue_date),
                         "amount_fen": int(r.amount_fen), "has_order": bool(pd.notna(r.order_id))}
                        for r in g.head(MAX_EVIDENCE_ROWS).itertuples()]})]
    return out


# --- burst of sales before an application ------------------------------------------

def burst(frames: Frames, scope: list[int],
          applied_on: dict[int, date] | None = None,
          order_only: set[int] | None = None) -> dict[int, list[Flag]]:
    """Sales bursts before an application, two rules (either flags ``sales_burst``):

    - the 28 days before the application (default: as_of) against the 6 months before:
      at least :data:`BURST_RATIO` times, with :data:`BURST_UNBACKED_SHARE` of it without
      an order (or delivery) behind it, or :data:`BURST_RATIO_ALONE` times;
    - the last two complete calendar months' sales without an order beyond the firm's
      own unbacked share of the 12 months before, at least :data:`SPIKE_MIN_EXCESS_MONTHS`
      times the median month of those 12 (a spike spread over two months and mostly
      without orders: an application's paper, not a season or a new customer).

    *scope*: firms whose data holds orders or deliveries; *order_only*: those of them with
    orders but no deliveries (an order backs an invoice). Returns firm id -> [Flag]."""
    inv = frames.invoices
    inv = inv[inv["seller_id"].isin(scope)]
    out: dict[int, list[Flag]] = {}
    applied_on = applied_on or {}
    app_by_firm = pd.Series(frames.as_of, index=pd.Index(scope), dtype="datetime64[s]")
    for f, d in applied_on.items():
        if f in app_by_firm.index:
            app_by_firm[f] = pd.Timestamp(d)
    app = inv["seller_id"].map(app_by_firm) if applied_on else frames.as_of
    age = (app - inv["issue_date"]).dt.days
    recent = inv[(age >= 0) & (age < BURST_DAYS)]
    base_days = BURST_BASELINE_MONTHS * 30.44
    before = inv[(age >= BURST_DAYS) & (age < BURST_DAYS + base_days)]
    recent_sum = recent.groupby("seller_id")["amount_fen"].sum()
    base_sum = before.groupby("seller_id")["amount_fen"].sum()
    first = inv[age >= 0].groupby("seller_id")["issue_date"].min()
    recent = recent.assign(backed=_backed(recent, frames, order_only))
    unbacked_sum = recent[~recent["backed"]].groupby("seller_id")["amount_fen"].sum()
    for seller, r in recent_sum.items():
        months_known = ((app_by_firm[seller] - first[seller]).days - BURST_DAYS) / 30.44
        if months_known < BURST_MIN_BASELINE_MONTHS:
            continue
        span_days = min(base_days, months_known * 30.44)
        baseline = base_sum.get(seller, 0) / span_days * BURST_DAYS
        ratio = r / baseline if baseline > 0 else math.inf
        if ratio < BURST_RATIO:
            continue
        unbacked = float(unbacked_sum.get(seller, 0) / r)
        if unbacked < BURST_UNBACKED_SHARE and ratio < BURST_RATIO_ALONE:
            continue
        g = recent[recent["seller_id"] == seller]
        out[int(seller)] = [Flag(
            "sales_burst",
            f"Sales in the {BURST_DAYS} days before the application are "
            f"{ratio:.1f} times the usual level; {unbacked:.0%} of them have no order or "
            "delivery behind them.",
            f"申请前{BURST_DAYS}天的销售额是平时水平的{ratio:.1f}倍，其中{unbacked:.0%}"
            "没有对应的订单或交货记录。",
            {"window_days": BURST_DAYS, "recent_fen": int(r), "usual_fen": int(round(baseline)),
             "ratio": round(float(ratio), 2) if math.isfinite(ratio) else None,
             "applied_on": _day(app_by_firm[seller]),
             "unbacked_share": round(unbacked, 4), "invoices": int(len(g)),
             "latest": [{"invoice": str(x.number), "issued": _day(x.issue_date),
                         "amount_fen": int(x.amount_fen), "has_order": bool(pd.notna(x.order_id))}
                        for x in g.sort_values("issue_date", ascending=False)
                        .head(MAX_EVIDENCE_ROWS).itertuples()]})]
    for seller, flag in _two_month_spikes(frames, scope, order_only).items():
        out.setdefault(seller, [flag])
    return out


def _two_month_spikes(frames: Frames, scope: list[int],
                      order_only: set[int] | None) -> dict[int, Flag]:
    from trellis.scoring.features import _monthly

    inv = frames.invoices
    inv = inv[inv["seller_id"].isin(scope)]
    if inv.empty:
        return {}
    inv = inv.assign(firm_id=inv["seller_id"],
                     month=inv["issue_date"].dt.to_period("M").dt.start_time)
    inv = inv.assign(unbacked_fen=inv["amount_fen"].where(~_backed(inv, frames, order_only),
                                                          0))
    months = SPIKE_BASELINE_MONTHS + 2
    sales = _monthly(inv, "amount_fen", frames.as_of, scope, months).fillna(0.0)
    unb = _monthly(inv, "unbacked_fen", frames.as_of, scope, months).fillna(0.0)
    base_cols = list(range(3, months + 1))
    base = sales[base_cols]
    median = base.where(base > 0).median(axis=1)
    active = (base > 0).sum(axis=1)
    both = sales[[1, 2]].sum(axis=1)
    ratio = both / 2 / median
    unb_share = unb[[1, 2]].sum(axis=1) / both
    unb_base = unb[base_cols].sum(axis=1) / base.sum(axis=1)
    # the unbacked sales the firm's usual share does not explain, in usual months
    excess = (unb[[1, 2]].sum(axis=1) - both * unb_base) / median
    hit = (active >= SPIKE_MIN_ACTIVE_MONTHS) & (excess >= SPIKE_MIN_EXCESS_MONTHS)
    out = {}
    for fid in hit[hit].index:
        r, u, e = float(ratio[fid]), float(unb_share[fid]), float(excess[fid])
        usual = float(unb_base[fid])
        out[int(fid)] = Flag(
            "sales_burst",
            f"Sales of the last two months were {r:.1f} times a usual month each; {u:.0%} "
            f"of them have no order behind them (usually {usual:.0%}): {e:.1f} usual "
            "months of sales without orders beyond the firm's usual share.",
            f"近两个月的销售额平均是平常月份的{r:.1f}倍，其中{u:.0%}没有对应的订单"
            f"（平时为{usual:.0%}）：超出平时比例的无订单销售约合{e:.1f}个月的平常销售额。",
            {"rule": "two_months", "ratio": round(r, 2),
             "months_fen": [int(sales.loc[fid, 1]), int(sales.loc[fid, 2])],
             "usual_month_fen": int(round(float(median[fid]))),
             "unbacked_share": round(u, 4), "usual_unbacked_share": round(usual, 4),
             "excess_months": round(e, 2)})
    return out




# --- shared phone, bank account, address -------------------------------------------

_IDENTITY = {
    "phone": ("shared_phone", "phone number", "电话号码",
              lambda s: re.sub(r"\D", "", s)[-11:]),
    "bank_account": ("shared_bank_account", "bank account", "银行账户",
                     lambda s: re.sub(r"[^0-9A-Za-z]", "", s).upper()),
    "address": ("shared_address", "address", "地址",
                lambda s: re.sub(r"[\s,，.。·\-#号]", "", s).lower()),
}


def _identity_groups(firms: pd.DataFrame, col: str) -> list[list[int]]:
    """Groups of firms whose *col* is the same once normalised (at least 5 characters)."""
    norm = _IDENTITY[col][3]
    vals = firms[col].dropna().astype(str)
    keys = vals.map(norm)
    keys = keys[keys.str.len() >= 5]
    keys = keys[keys.duplicated(keep=False)]
    return [[int(i) for i in g.index] for _key, g in keys.groupby(keys)]


def shared_identity(frames: Frames, scope: list[int]) -> dict[int, list[Flag]]:
    """Flags for firms of *scope* sharing a phone, bank account or address with another firm, by
    firm id."""
    firms = frames.firms
    out: dict[int, list[Flag]] = defaultdict(list)
    want = set(scope)
    for col, (code, en, zh, _norm) in _IDENTITY.items():
        for ids in kept(frames, ("identity_groups", col), lambda c=col: _identity_groups(firms, c)):
            for fid in ids:
                if fid not in want:
                    continue
                others = [_firm_ref(firms, o) for o in ids if o != fid]
                out[fid].append(Flag(
                    code,
                    f"Shares its {en} with {len(others)} other firm(s): "
                    f"{', '.join(o['name'] for o in others)}.",
                    f"与{len(others)}家企业共用{zh}：{'、'.join(o['name'] for o in others)}。",
                    {"value": str(firms.loc[fid, col]), "firms": others}))
    return out


# --- tax vs flows ------------------------------------------------------------------

def tax_contradiction(frames: Frames, scope: list[int], features: pd.DataFrame,
                      filings: dict[int, dict] | None = None) -> dict[int, list[Flag]]:
    """Platform invoiced sales well above the VAT sales the firm declared.

    Declared sales above platform sales are normal (firms sell off the platform too).
    Where a tax filing with its period is known (*filings*: firm id -> declared and
    platform sales of that same period, from onboarding's coverage), that period is
    compared; otherwise the firm's declared figure against trailing sales.
    """
    out: dict[int, list[Flag]] = {}
    filings = filings or {}
    for fid in [f for f in scope if f in filings]:
        f = filings[fid]
        declared, platform = f["declared_fen"], f["platform_fen"]
        if declared <= 0 or platform < TAX_FLOW_RATIO * declared:
            continue
        period = f"{f['period_start']}..{f['period_end']}"
        out[fid] = [Flag(
            "tax_contradiction",
            f"Invoiced sales on the platform in the filing period {period} are "
            f"{platform / declared:.1f} times the VAT sales declared for it.",
            f"申报期{period}内平台开票销售额是该期申报增值税销售额的{platform / declared:.1f}倍。",
            {"declared_fen": declared, "platform_fen": platform, "period": period})]
    ratio = features["tax_to_flow_ratio"]
    for fid in [f for f in scope if f not in filings]:
        r = ratio.get(fid)
        if r is None or not np.isfinite(r) or r <= 0 or 1.0 / r < TAX_FLOW_RATIO:
            continue
        tax = int(features.loc[fid, "tax_sales_fen"])
        out[fid] = [Flag(
            "tax_contradiction",
            f"Invoiced sales on the platform are {1 / r:.1f} times the VAT sales declared.",
            f"平台开票销售额是申报增值税销售额的{1 / r:.1f}倍。",
            {"declared_fen": tax, "platform_fen": int(round(tax / r)),
             "period": str(frames.firms.loc[fid, "tax_period"])})]
    return out


# --- trade on paper: invoices that the meters do not see -------------------------

PAPER_SALES_GROWTH = 2.0  # invoiced sales of recent months vs the same months a year before
PAPER_FLAT = 1.15  # power (and headcount, where known) grew less than this, year on year
PAPER_RECENT_MONTHS = 6  # the recent months compared (1..6 back) with months 13..18 back
PAPER_MIN_PAIRS = 2  # month pairs with sales and power readings in both years
# Without a year before (a young seller, or under 18 months of data): the last 6 months
# against the 6 before, stricter, as the season is not cancelled out.
PAPER_HALF_GROWTH = 2.5
PAPER_MIN_READINGS = 4  # readings needed in each half-year
STOP_SHARE = 0.15  # the last two months' power below 15% of the firm's usual level
STOP_SALES_SHARE = 0.5  # while invoicing at least half its usual monthly sales


def _calendar_months(frames: Frames, scope: list[int], months: int = 12):
    """(sales, power, headcount): firms x complete months back 1..*months*, NaN = no
    record (sales: 0 for a month without invoices, which is a fact, not an absence)."""
    from trellis.scoring.features import _monthly

    inv = frames.invoices[frames.invoices["seller_id"].isin(scope)]
    inv = inv.assign(firm_id=inv["seller_id"],
                     month=inv["issue_date"].dt.to_period("M").dt.start_time)
    sales = _monthly(inv, "amount_fen", frames.as_of, scope, months).fillna(0.0)
    power = frames.utility[frames.utility["utility"] == "electricity"]
    return (sales, _monthly(power, "quantity", frames.as_of, scope, months),
            _monthly(frames.headcount, "headcount", frames.as_of, scope, months))


def _year_on_year(sales: pd.Series, power: pd.Series, heads: pd.Series):
    """Recent months (1..6 back) against the same calendar months a year before (13..18),
    over the pairs where the firm was already invoicing a year before (after its first,
    possibly partial, month) and both power readings exist: the season cancels out.
    Returns (pairs, sales ratio, power ratio, headcount ratio or None)."""
    traded = sales[sales > 0].index
    first = max(traded) if len(traded) else 0
    pairs = [m for m in range(1, PAPER_RECENT_MONTHS + 1)
             if m + 12 < first and pd.notna(power[m]) and pd.notna(power[m + 12])]
    if len(pairs) < PAPER_MIN_PAIRS:
        return len(pairs), None, None, None
    new, old = [m for m in pairs], [m + 12 for m in pairs]
    s_old, p_old = sales[old].sum(), power[old].mean()
    s_ratio = sales[new].sum() / s_old if s_old > 0 else None
    p_ratio = power[new].mean() / p_old if p_old > 0 else None
    h_new, h_old = heads[new].dropna(), heads[old].dropna()
    h_ratio = (h_new.mean() / h_old.mean()) if len(h_new) and len(h_old) \
        and h_old.mean() > 0 else None
    return len(pairs), s_ratio, p_ratio, h_ratio


def _half_on_half(sales: pd.Series, power: pd.Series, heads: pd.Series):
    """The last 6 months against the 6 before (sales ratio, power ratio, headcount ratio
    or None); (None, None, None) without :data:`PAPER_MIN_READINGS` readings a half."""
    recent, before = list(range(1, 7)), list(range(7, 13))
    p_new, p_old = power[recent].dropna(), power[before].dropna()
    s_old = sales[before].sum()
    if len(p_new) < PAPER_MIN_READINGS or len(p_old) < PAPER_MIN_READINGS or s_old <= 0 \
            or p_old.mean() <= 0:
        return None, None, None
    h_new, h_old = heads[recent].dropna(), heads[before].dropna()
    h_ratio = (h_new.mean() / h_old.mean()) if len(h_new) and len(h_old) \
        and h_old.mean() > 0 else None
    return sales[recent].sum() / s_old, p_new.mean() / p_old.mean(), h_ratio


def meters(frames: Frames, scope: list[int]) -> dict[int, list[Flag]]:
    """Invoices that rise while power use and headcount stay flat (trade on paper), and
    power that stops while invoices continue. Firms without readings are not assessed:
    a missing reading is never taken as zero use.

    Paper trade compares year on year (recent months against the same months a year
    before, :func:`_year_on_year`): sales at least :data:`PAPER_SALES_GROWTH` times while
    power use, and insured headcount where known, grew less than :data:`PAPER_FLAT`; a
    firm without a year before is compared half-year on half-year, needing
    :data:`PAPER_HALF_GROWTH` times (:func:`_half_on_half`)."""
    if frames.utility.empty:
        return {}
    sales, power, heads = _calendar_months(frames, scope, months=12 + PAPER_RECENT_MONTHS)
    out: dict[int, list[Flag]] = defaultdict(list)
    for fid in scope:
        p = power.loc[fid]
        if p.notna().sum() == 0:
            continue
        pairs, s_ratio, p_ratio, h_ratio = _year_on_year(sales.loc[fid], p, heads.loc[fid])
        threshold, basis = PAPER_SALES_GROWTH, "year"
        if s_ratio is None and pairs < PAPER_MIN_PAIRS:
            s_ratio, p_ratio, h_ratio = _half_on_half(sales.loc[fid], p, heads.loc[fid])
            threshold, basis, pairs = PAPER_HALF_GROWTH, "half", 6
        if (s_ratio is not None and p_ratio is not None and s_ratio >= threshold
                and p_ratio < PAPER_FLAT and (h_ratio is None or h_ratio < PAPER_FLAT)):
            then_en, then_zh = (("the same months a year before", "上年同期") if basis == "year"
                                else ("the 6 months before", "之前6个月"))
            out[fid].append(Flag(
                "paper_trade",
                f"Invoiced sales of the last {pairs} months are {s_ratio:.1f} times "
                f"{then_en}, while power use changed {p_ratio - 1:+.0%}"
                + (f" and insured staff {h_ratio - 1:+.0%}" if h_ratio else "") + ".",
                f"近{pairs}个月开票销售额是{then_zh}的{s_ratio:.1f}倍，而用电量变化"
                f"{p_ratio - 1:+.0%}" + (f"、参保人数变化{h_ratio - 1:+.0%}"
                                         if h_ratio else "") + "。",
                {"months": pairs, "compared_with": basis,
                 "sales_growth": round(float(s_ratio), 3),
                 "power_growth": round(float(p_ratio), 3),
                 "headcount_growth": None if h_ratio is None else round(float(h_ratio), 3)}))
        last2 = p[[1, 2]]
        usual = p[list(range(3, 13))].dropna()
        usual_sales = sales.loc[fid, list(range(3, 13))].mean()
        if (last2.notna().all() and len(usual) >= 6 and usual.median() > 0
                and (last2 <= STOP_SHARE * usual.median()).all() and usual_sales > 0
                and (sales.loc[fid, [1, 2]] >= STOP_SALES_SHARE * usual_sales).all()):
            out[fid].append(Flag(
                "power_stopped",
                f"Power use of the last two months fell to {last2.mean() / usual.median():.0%}"
                " of its usual level while invoicing went on.",
                f"近两个月用电量降至平时的{last2.mean() / usual.median():.0%}，但仍在继续开票。",
                {"last_two_months_kwh": [round(float(x), 1) for x in last2],
                 "usual_kwh": round(float(usual.median()), 1),
                 "recent_sales_fen": int(sales.loc[fid, [1, 2]].sum())}))
    return dict(out)


# --- Benford (portfolio) -----------------------------------------------------------

BENFORD = np.log10(1 + 1 / np.arange(1, 10))


def benford(amounts_fen: pd.Series | np.ndarray) -> dict:
    """First-digit test of invoice amounts (yuan): chi-square, p-value, MAD and verdict.

    Verdict by Nigrini's mean absolute deviation bands for first digits: below 0.006
    close conformity, 0.012 acceptable, 0.015 marginal, above that nonconformity.
    """
    yuan = np.asarray(amounts_fen, dtype="int64") // 100
    yuan = yuan[yuan > 0]
    n = int(yuan.size)
    if n < 100:
        return {"n": n, "verdict": "too_few", "observed": [], "expected": BENFORD.round(4).tolist()}
    first = (yuan // 10 ** np.floor(np.log10(yuan)).astype("int64")).astype(int)
    counts = np.bincount(first, minlength=10)[1:10]
    observed = counts / n
    chi2 = float(((counts - n * BENFORD) ** 2 / (n * BENFORD)).sum())
    p = float(stats.chi2.sf(chi2, df=8))
    mad = float(np.abs(observed - BENFORD).mean())
    verdict = ("close" if mad < 0.006 else "acceptable" if mad < 0.012
               else "marginal" if mad < 0.015 else "nonconformity")
    return {"n": n, "chi2": round(chi2, 2), "p_value": p, "mad": round(mad, 5),
            "verdict": verdict, "observed": observed.round(4).tolist(),
            "expected": BENFORD.round(4).tolist()}


# --- all screens -------------------------------------------------------------------

NOT_ASSESSABLE = {
    "unbacked_invoices": (
        "Invoices without an order or delivery: not assessable, the firm's data holds "
        "neither orders nor deliveries.",
        "无订单或交货记录的发票：无法评估，该企业的数据中既没有订单也没有交货记录。"),
    "sales_burst": (
        "Sales burst before the application: not assessable without orders or deliveries.",
        "申请前销售激增：没有订单或交货记录，无法评估。"),
    "tax_contradiction": (
        "Tax against invoiced sales: not assessable, the invoices do not cover the whole "
        "filing period.",
        "纳税申报与开票销售额对比：无法评估，发票数据未覆盖整个申报期。"),
}


def _gate(scope: list[int], coverage: dict | None, not_assessable: dict | None
          ) -> tuple[list[int], set[int], list[int], dict[int, dict]]:
    """Split *scope* by the data each firm's sources hold (onboarding's coverage).

    Returns (firms the order/delivery screens can assess, those of them whose data holds
    orders but no deliveries, firms the tax screen can assess, in-period tax figures) and
    records in *not_assessable* (firm id -> list) each screen a firm's data cannot support.
    Without *coverage* every firm is assessable as before.
    """
    if coverage is None:
        return scope, set(), scope, {}
    trade_ok, order_only, tax_ok, filings = [], set(), [], {}

    def skip(fid, code, needs):
        if not_assessable is not None:
            en, zh = NOT_ASSESSABLE[code]
            not_assessable.setdefault(fid, []).append(
                {"code": code, "en": en, "zh": zh, "needs": needs})

    for fid in scope:
        cov = coverage.get(fid) or {"kinds": frozenset(), "tax": None}
        kinds = cov["kinds"]
        if "deliveries" in kinds:
            trade_ok.append(fid)
        elif "orders" in kinds:
            trade_ok.append(fid)
            order_only.add(fid)
        else:
            skip(fid, "unbacked_invoices", ["orders", "deliveries"])
            skip(fid, "sales_burst", ["orders", "deliveries"])
        tax = cov.get("tax")
        if tax is not None and not tax["invoices_cover_period"]:
            skip(fid, "tax_contradiction", ["invoices"])
            continue
        if tax is not None:
            filings[fid] = tax
        tax_ok.append(fid)
    return trade_ok, order_only, tax_ok, filings


def run(frames: Frames, features: pd.DataFrame, scope: list[int] | None = None,
        applied_on: dict[int, date] | None = None, *, coverage: dict | None = None,
        not_assessable: dict | None = None) -> dict[int, list[Flag]]:
    """Every firm-level screen; returns firm id -> flags (firms without flags absent).

    *coverage* (firm id -> {"kinds", "tax"}) gates the screens that need a data kind;
    what a firm's data cannot support is put in *not_assessable* instead of firing.
    """
    scope = list(frames.scope if scope is None else scope)
    trade_ok, order_only, tax_ok, filings = _gate(scope, coverage, not_assessable)
    merged: dict[int, list[Flag]] = defaultdict(list)
    for part in (circular_trading(frames, scope), duplicate_invoices(frames, scope),
                 unbacked_invoices(frames, trade_ok, order_only),
                 burst(frames, trade_ok, applied_on, order_only),
                 shared_identity(frames, scope),
                 tax_contradiction(frames, tax_ok, features, filings), meters(frames, scope)):
        for fid, flags in part.items():
            merged[fid].extend(flags)
    return dict(merged)
