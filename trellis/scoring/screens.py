"""Fraud and integrity screens over the same frames as the features.

Each screen returns flags per firm with the evidence an RM needs to check it by hand
(invoice numbers, dates, amounts, the other firms involved). A flag never changes a score:
it sends the firm's application to manual review. Thresholds are module constants, chosen
to be loose enough that a planted fraud is caught and tight enough that ordinary trade
(seasonal peaks, a new buyer) is not; see bench/RESULTS.md (Scoring) for the measured
false-flag rate.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections import defaultdict
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from trellis.scoring import graph as graph_
from trellis.scoring.features import (
    _floats,
    _ints,
    _Positions,
    _rows_of,
    _seconds,
    _ts_seconds,
    electricity,
    member,
)
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
# order or delivery behind it.
BURST_UNBACKED_SHARE = 0.10
# A burst of 8 times the usual level is flagged anyway. (At 5 times, the level until issue
# 14's thirteenth pass, ordered and delivered bursts of lumpy sellers flagged 17 clean
# vendors over the six development parks, 9 of 373 on 4802 alone, and no planted spike
# needed it; at 8, 4 of them, and the unbacked rules still catch every plant.)
BURST_RATIO_ALONE = 8.0
SPIKE_BASELINE_MONTHS = 12  # the two-month rule's usual month: the median of 12 before
# of which at least as many months with sales as the 28-day rule needs of history: a firm
# that began trading a few months ago and then invoices three times its usual month for
# two months, mostly without orders, is the same spike (outside park 4902: a vendor trading
# since January, four months of sales before a May-June spike, escaped a six-month minimum)
SPIKE_MIN_ACTIVE_MONTHS = BURST_MIN_BASELINE_MONTHS
# The two months are scored by one figure that weighs their level and their backing
# together: the sales of the two months without an order beyond the firm's own usual
# share, in usual months, 2 x (combined ratio) x (unbacked share - usual share). A
# planted spike of 3-5 usual months a month, mostly without orders, reads 4.0-19 on the
# development parks (4701-4903) and no clean vendor above 3.1; one month at 4.6x and the
# other at 2.95x, 91% without orders against 4.8% (park 4903's missed spike) reads 6.5,
# where one edge per month (3x in each) missed it.
SPIKE_MIN_EXCESS_MONTHS = 3.5
UNBACKED_SHARE = 0.30
UNBACKED_MIN_INVOICES = 3
TAX_FLOW_RATIO = 1.5  # platform sales above 1.5 x declared VAT sales
MAX_EVIDENCE_ROWS = 10


def _day(ts) -> str:
    return pd.Timestamp(ts).date().isoformat()


def _firm_ref(firms: pd.DataFrame, fid: int) -> dict:
    # two cells, not the whole row (a row of the firms' 21 columns of mixed types is a
    # new Series each time)
    return {"firm_id": int(fid), "uscc": firms.at[fid, "uscc"], "name": firms.at[fid, "name"]}


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
    since = _ts_seconds(start)
    members = np.asarray(sorted({int(n) for c in found for n in c}), dtype="int64")
    # The cycles' firms are a few: their rows are picked over numpy arrays first, and only
    # they are copied and compared as text (the same rows, in frame order).
    inv = frames.invoices
    inv = inv.iloc[np.flatnonzero(
        member(_ints(inv["seller_id"]), members) & member(_ints(inv["buyer_id"]), members)
        & (_seconds(inv["issue_date"]) >= since))]
    if "status" in inv:
        inv = inv[inv["status"] != "rejected"]
    pay = frames.payments
    if len(pay):
        pay = pay.iloc[np.flatnonzero(
            member(_ints(pay["payer_id"]), members) & member(_ints(pay["payee_id"]), members)
            & (_seconds(pay["paid_on"]) >= since))]
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


QUICK_CHECK_ROWS = 2_000  # up to this many invoices (one firm), look for any repeat first


def _may_repeat(inv: pd.DataFrame, rows: np.ndarray) -> bool:
    """Whether the invoice *rows* hold any pair the duplicate screen looks at (the same
    content, the same normalised number of one seller, or a near pair): most firms have
    none, and the full screen's string and group-by work is then skipped."""
    seller = _ints(inv["seller_id"])[rows]
    buyer = _ints(inv["buyer_id"])[rows]
    amount = _ints(inv["amount_fen"])[rows]
    issue = _seconds(inv["issue_date"])[rows]
    numbers = inv["number"].to_numpy(dtype=object)[rows]
    if len({(s, normalise_number(x)) for s, x in zip(seller.tolist(), numbers, strict=True)}) \
            < rows.size:
        return True
    if len(set(zip(seller.tolist(), buyer.tolist(), amount.tolist(), issue.tolist(),
                   strict=True))) < rows.size:
        return True
    order = np.lexsort((issue, amount, buyer, seller))
    s, b, a, d = seller[order], buyer[order], amount[order], issue[order]
    same = (s[1:] == s[:-1]) & (b[1:] == b[:-1])
    gap = np.abs(a[1:] - a[:-1])
    days = np.abs(d[1:] - d[:-1]) // 86400
    exact = (gap == 0) & (days == 0)
    return bool((same & (gap <= NEAR_AMOUNT_FEN) & (days <= NEAR_DAYS) & ~exact).any())


_PUNCTUATION = re.compile(r"[^0-9A-Za-z]")


def _normalised(numbers: list[str]) -> list[str]:
    """:func:`normalise_number` of each of *numbers* (strings), in one pass: a number of
    ASCII letters and digits only (nearly all) needs no regular expression."""
    sub = _PUNCTUATION.sub
    return [x.upper().lstrip("0") if x.isascii() and x.isalnum()
            else sub("", x).upper().lstrip("0") for x in numbers]


# normalise_number over bytes: keep ASCII letters and digits (every byte of a character
# outside ASCII is >= 0x80 and dropped with it), upper-case the letters; the newline
# separates the numbers.
_NUMBER_KEEP = bytes(range(48, 58)) + bytes(range(65, 91)) + bytes(range(97, 123)) + b"\n"
_NUMBER_DROP = bytes(b for b in range(256) if b not in _NUMBER_KEEP)
_NUMBER_UPPER = bytes.maketrans(bytes(range(97, 123)), bytes(range(65, 91)))


class _Numbers:
    """:func:`normalise_number` of many invoice numbers at once, as bytes: ``keys`` holds
    each normalised number zero-padded to a multiple of 8 bytes as 64-bit words (equal
    numbers, equal rows: a normalised number holds no zero byte), :meth:`text` gives one
    back as a string. :meth:`of` gives None when a number holds a newline, cannot be
    encoded or has more than MAX_ZEROS leading zeros (the caller then uses
    :func:`_normalised`)."""

    MAX_ZEROS = 32

    def __init__(self, rows: np.ndarray, lengths: np.ndarray):
        self.rows, self.lengths = rows, lengths
        self.keys: np.ndarray = rows.view(np.uint64)

    @classmethod
    def of(cls, numbers: list[str]) -> _Numbers | None:
        n = len(numbers)
        joined = "\n".join(numbers)
        if not n or joined.count("\n") != n - 1:
            return None
        try:
            raw = joined.encode("utf-8")
        except UnicodeEncodeError:   # a lone surrogate
            return None
        text = b"\n" + raw.translate(_NUMBER_UPPER, _NUMBER_DROP) + b"\n"
        for _ in range(cls.MAX_ZEROS + 1):   # one leading zero of every number a pass
            if b"\n0" not in text:
                break
            text = text.replace(b"\n0", b"\n")
        else:
            return None
        b = np.frombuffer(text, dtype=np.uint8)
        ends = np.flatnonzero(b == 10)        # n + 1 newlines: before and after each
        lengths = np.diff(ends) - 1
        longest = int(lengths.max())
        width = max(8, -(-longest // 8) * 8)
        rows: np.ndarray = np.zeros((n, width), dtype=np.uint8)
        if (lengths == longest).all():        # all of one length: the bytes are the rows
            rows[:, :longest] = b[1:].reshape(n, longest + 1)[:, :longest]
        else:
            keep = b != 10
            line = np.cumsum(~keep)[keep] - 1
            start = (ends[:-1] + 1)[line]
            rows[line, np.flatnonzero(keep) - start] = b[keep]
        return cls(rows, lengths)

    def text(self, i: int) -> str:
        return self.rows[i, :int(self.lengths[i])].tobytes().decode("ascii")


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _shared_rows(*cols: np.ndarray) -> np.ndarray:
    """Rows that may share their values in *cols* (integer arrays) with another row: a
    superset of ``DataFrame.duplicated(keep=False)`` of those columns (the values are
    hashed into one 64-bit key; equal rows always get equal keys)."""
    key: np.ndarray = np.zeros(cols[0].size, dtype="uint64")
    with np.errstate(over="ignore"):
        for c in cols:
            key = (key ^ c.astype("int64").view("uint64")) * _MIX
            key ^= key >> np.uint64(29)
    return pd.Series(key).duplicated(keep=False).to_numpy()


def duplicate_invoices(frames: Frames, scope: list[int]) -> dict[int, list[Flag]]:
    """Flags for firms of *scope* that issued the same invoice number (ignoring punctuation and
    leading zeros) to one buyer twice, by firm id. Which invoices of a group a flag names:
    :func:`named_copies` (a rejected invoice is named only as a copy the buyer rejected)."""
    inv = frames.invoices
    mine = np.flatnonzero(_Positions(scope).of(_ints(inv["seller_id"])) >= 0)
    if not mine.size or (mine.size <= QUICK_CHECK_ROWS and not _may_repeat(inv, mine)):
        return {}
    if mine.size < len(inv):   # else every row, in order: no copy
        inv = inv.iloc[mine]
    sellers = _ints(inv["seller_id"])
    # The rows that can be in a duplicate group (the same content, or the same normalised
    # number), found with one hashed key each; the groups are then formed from those rows
    # alone by the same pandas code as before (the same groups, in the same order).
    numbers = inv["number"].astype(str).tolist()
    packed = _Numbers.of(numbers)
    if packed is None:
        norm = _normalised(numbers)
        codes = [np.fromiter(map(hash, norm), dtype="int64", count=len(norm))]
    else:
        codes = list(packed.keys.T)
    maybe = (_shared_rows(sellers, _ints(inv["buyer_id"]), _ints(inv["amount_fen"]),
                          _seconds(inv["issue_date"]))
             | _shared_rows(sellers, *codes))
    cand = np.flatnonzero(maybe)
    # punctuation dropped, upper case, leading zeros dropped (pandas' three string passes
    # cost three times as much, the same strings out); normalised as bytes for all rows,
    # made strings for the candidates only
    norms = ([norm[i] for i in cand.tolist()] if packed is None
             else [packed.text(i) for i in cand.tolist()])
    # The candidates (a handful) as rows once; each key's groups of two rows or more are
    # those pandas' ``duplicated(keep=False)`` and sorted ``groupby`` gave: in key order,
    # rows in frame order.
    records = list(inv.iloc[cand].itertuples())
    keys = {"fp_content": lambda r, _n: (r.seller_id, r.buyer_id, r.amount_fen, r.issue_date),
            "fp_number": lambda r, n: (r.seller_id, n)}
    out: dict[int, list[Flag]] = defaultdict(list)
    seen: set[tuple] = set()
    for key, key_of in keys.items():
        groups: dict[tuple, list] = {}
        for r, n in zip(records, norms, strict=True):
            groups.setdefault(key_of(r, n), []).append(r)
        for k in sorted(k for k, g in groups.items() if len(g) > 1):
            g = groups[k]
            ids = tuple(sorted(r.id for r in g))
            if ids in seen:
                continue
            seen.add(ids)
            named = named_copies(g)
            if named is None:
                continue
            g, rejected = named
            seller = int(g[0].seller_id)
            rows = [{"invoice": str(r.number), "buyer": frames.firms.loc[r.buyer_id, "uscc"]
                     if r.buyer_id in frames.firms.index else int(r.buyer_id),
                     "issued": _day(r.issue_date), "amount_fen": int(r.amount_fen),
                     "has_order": bool(pd.notna(r.order_id)), "status": r.status}
                    for r in g]
            same = "same buyer, amount and date" if key == "fp_content" else "same number"
            same_zh = "买方、金额和日期相同" if key == "fp_content" else "发票号相同"
            out[seller].append(Flag(
                "duplicate_invoice",
                *(_rejected_copy_words(g, same, same_zh) if rejected else (
                    f"Duplicate invoices ({same}): {', '.join(r['invoice'] for r in rows)}.",
                    f"重复发票（{same_zh}）：{'、'.join(r['invoice'] for r in rows)}。")),
                {"match": key, "invoices": rows[:MAX_EVIDENCE_ROWS]}))
    for a, b in _near_duplicates(inv):
        ids = tuple(sorted((int(a.id), int(b.id))))
        if any(set(ids) <= set(x) for x in seen):
            continue
        seen.add(ids)
        named = named_copies([a, b])
        if named is None:
            continue
        rows = [{"invoice": str(r.number), "buyer": frames.firms.loc[r.buyer_id, "uscc"]
                 if r.buyer_id in frames.firms.index else int(r.buyer_id),
                 "issued": _day(r.issue_date), "amount_fen": int(r.amount_fen),
                 "has_order": bool(pd.notna(r.order_id)), "status": r.status}
                for r in (a, b)]
        if named[1]:
            out[int(a.seller_id)].append(Flag(
                "duplicate_invoice",
                *_rejected_copy_words(named[0], "nearly the same amount and date",
                                      "金额和日期几乎相同"),
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


def named_copies(group: list) -> tuple[list, bool] | None:
    """The invoices of a duplicate *group* (rows with ``status`` and ``issue_date``, in
    frame order) a flag names, and whether it names copies the buyer rejected; None for
    no flag. A rejected invoice is no duplicate of a live one: the anchor's queue names
    none (``trellis.network.evidence.duplicate_numbers``) and it cannot be financed. So:

    - two or more invoices the buyer has not rejected: those (the rejected left out);
    - one: the rejected copies of it, dated on or after it (the seller tried to pass a
      copy and the buyer caught it: still a sign about the seller, worded as such);
    - none, or only rejected invoices dated before the one left (a re-issue after a
      rejection, ordinary business): no flag."""
    live = [r for r in group if r.status != "rejected"]
    if len(live) >= 2:
        return live, False
    if len(live) == 1:
        named = [r for r in group
                 if r is live[0] or r.issue_date >= live[0].issue_date]
        if len(named) > 1:
            return named, True
    return None


def _rejected_copy_words(named: list, same: str, same_zh: str) -> tuple[str, str]:
    """The English and Chinese message of a flag on copies the buyer rejected."""
    kept = next(str(r.number) for r in named if r.status != "rejected")
    gone = [str(r.number) for r in named if r.status == "rejected"]
    return (f"The buyer rejected {', '.join(gone)}, a copy of invoice {kept} ({same}): the "
            "seller issued the same invoice twice.",
            f"买方已拒绝发票{'、'.join(gone)}，它是发票{kept}的重复开具（{same_zh}）：卖方"
            "把同一张发票开了两次。")


def _lex_order(*keys: np.ndarray) -> np.ndarray:
    """``np.lexsort(keys[::-1])`` (*keys* int64, the most significant first; ties in row
    order), with fewer sorting passes: neighbouring keys whose ranges multiply to under
    2**62 are packed into one (offsets from their minima, each scaled by the ranges after
    it), which orders the rows exactly as the keys did; whole days in seconds are counted
    in days first. The same permutation, a pass per packed key instead of per key."""
    if not keys[0].size:
        return np.zeros(0, dtype=np.intp)
    cols: list[tuple[np.ndarray, int]] = []
    for k in keys:
        k = k.astype("int64", copy=False)
        if not (k % 86400).any():   # dates as seconds: their order is that of the days
            k = k // 86400
        lo, hi = int(k.min()), int(k.max())
        if hi - lo >= 1 << 62:   # a range this wide (a NaT among dates): as numpy sorts
            return np.lexsort(keys[::-1])
        cols.append((k - lo, hi - lo + 1))
    packed: list[tuple[np.ndarray, int]] = []
    for col, width in cols:   # most significant first: pack into the last while it fits
        if packed and packed[-1][1] * width < (1 << 62):
            prev, pwidth = packed[-1]
            packed[-1] = (prev * width + col, pwidth * width)
        else:
            packed.append((col, width))
    if len(packed) == 1:
        return np.argsort(packed[0][0], kind="stable")
    return np.lexsort(tuple(c for c, _ in reversed(packed)))


NEAR_AMOUNT_FEN = 100  # amounts within 1 yuan: a cent changed or a rounding, not a new sale
NEAR_DAYS = 3
NEAR_ROUTINE = 3  # more near-equal pairs than this between two firms is a routine, not fraud


def _near_duplicates(inv: pd.DataFrame) -> list[tuple]:
    """Pairs of invoices between the same two firms whose amounts differ by at most 1 yuan
    and whose dates by at most 3 days, under different numbers: the same sale
    invoiced twice with a cent or a day changed. A pair of firms with many such pairs
    (identical daily deliveries) trades that way routinely and is left out."""
    seller, buyer = _ints(inv["seller_id"]), _ints(inv["buyer_id"])
    amount, issue = _ints(inv["amount_fen"]), _seconds(inv["issue_date"])
    # sorted by seller, buyer, amount, issue date; ties in frame order (a stable sort)
    order = _lex_order(seller, buyer, amount, issue)
    s, b, amt, d = seller[order], buyer[order], amount[order], issue[order]
    same = (s[1:] == s[:-1]) & (b[1:] == b[:-1])
    gap = np.abs(amt[1:] - amt[:-1])
    tol = NEAR_AMOUNT_FEN
    days = np.abs((d[1:] - d[:-1]).astype("timedelta64[s]").astype("timedelta64[D]")
                  .astype(int))
    exact = (gap == 0) & (days == 0)
    hit = np.flatnonzero(same & (gap <= tol) & (days <= NEAR_DAYS) & ~exact)
    if not hit.size:
        return []
    # Only the rows of a hit as tuples (all of them cost seconds on a portfolio).
    wanted = np.unique(np.concatenate([hit, hit + 1]))
    rows = dict(zip(wanted.tolist(), inv.iloc[order[wanted]].itertuples(), strict=True))
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


class _Sales:
    """The invoices of the sellers of a scope as numpy arrays (rows in frame order), with
    each row's scope position and whether an order (and delivery) backs it."""

    def __init__(self, frames: Frames, scope: list[int], order_only: set[int] | None):
        inv = frames.invoices
        self.P = _Positions(scope)
        pos = self.P.of(_ints(inv["seller_id"]))
        self.rows = np.flatnonzero(pos >= 0)
        self.pos = pos[self.rows]
        self.issue = _seconds(inv["issue_date"])[self.rows]
        self.amount = _ints(inv["amount_fen"])[self.rows]
        order_id = _floats(inv["order_id"])[self.rows]
        dl = frames.deliveries
        delivered = _ints(dl["order_id"]) if len(dl) else np.zeros(0, dtype="int64")
        has_order = ~np.isnan(order_id)
        self.backed = member(order_id, delivered)
        if order_only:
            self.backed |= has_order & member(
                _ints(inv["seller_id"])[self.rows], np.fromiter(order_only, dtype="int64"))

    def frame(self, frames: Frames, keep: np.ndarray) -> pd.DataFrame:
        """The invoice rows under *keep* (a mask over these rows), as the frame holds them."""
        return frames.invoices.iloc[self.rows[keep]]


def unbacked_invoices(frames: Frames, scope: list[int],
                      order_only: set[int] | None = None, *,
                      sales: _Sales | None = None) -> dict[int, list[Flag]]:
    """Flags for firms of *scope* whose invoices of the last 12 months have no order or delivery
    behind them above the tolerated share of their amount, by firm id. *sales*: the
    :class:`_Sales` of the same frames, scope and *order_only*, when the caller has it."""
    S = sales or _Sales(frames, scope, order_only)
    recent = S.issue >= _ts_seconds(frames.as_of - pd.DateOffset(months=12))
    n = S.P.n
    total = np.bincount(S.pos[recent], weights=S.amount[recent], minlength=n)
    bad = recent & ~S.backed
    count = np.bincount(S.pos[bad], minlength=n)
    unbacked = np.bincount(S.pos[bad], weights=S.amount[bad], minlength=n)
    out: dict[int, list[Flag]] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        maybe = (count >= UNBACKED_MIN_INVOICES) & ~(unbacked / total
                                                    < UNBACKED_SHARE * (1 - 1e-9))
    for i in sorted(np.flatnonzero(maybe), key=lambda j: scope[j]):
        share = unbacked[i] / total[i]
        if share < UNBACKED_SHARE:
            continue
        seller = scope[i]
        g = S.frame(frames, bad & (S.pos == i))
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
          order_only: set[int] | None = None, *,
          sales: _Sales | None = None) -> dict[int, list[Flag]]:
    """Sales bursts before an application, two rules (either flags ``sales_burst``):

    - the 28 days before the application (default: as_of) against the 6 months before:
      at least :data:`BURST_RATIO` times, with :data:`BURST_UNBACKED_SHARE` of it without
      an order (or delivery) behind it, or :data:`BURST_RATIO_ALONE` times;
    - the last two complete calendar months together, against the median month of the 12
      before them (months with sales, at least :data:`SPIKE_MIN_ACTIVE_MONTHS` of them):
      their sales without an order (or delivery) beyond the firm's own unbacked share of
      those 12 months come to at least :data:`SPIKE_MIN_EXCESS_MONTHS` usual months (a
      spike spread over two months and mostly without orders: an application's paper,
      not a season or a new customer, whose orders are there).

    *scope*: firms whose data holds orders or deliveries; *order_only*: those of them with
    orders but no deliveries (an order backs an invoice); *sales* as in
    :func:`unbacked_invoices`. Returns firm id -> [Flag]."""
    S = sales or _Sales(frames, scope, order_only)
    n = S.P.n
    out: dict[int, list[Flag]] = {}
    app_of: np.ndarray = np.full(n, _ts_seconds(frames.as_of), dtype="int64")
    for f, d in (applied_on or {}).items():
        at = int(S.P.of(np.array([f]))[0])
        if at >= 0:
            app_of[at] = _ts_seconds(pd.Timestamp(d))
    age = (app_of[S.pos] - S.issue) // 86400
    recent = (age >= 0) & (age < BURST_DAYS)
    base_days = BURST_BASELINE_MONTHS * 30.44
    before = (age >= BURST_DAYS) & (age < BURST_DAYS + base_days)
    recent_count = np.bincount(S.pos[recent], minlength=n)
    recent_sum = np.bincount(S.pos[recent], weights=S.amount[recent], minlength=n)
    base_sum = np.bincount(S.pos[before], weights=S.amount[before], minlength=n)
    seen = age >= 0
    first: np.ndarray = np.full(n, np.iinfo("int64").max, dtype="int64")
    np.minimum.at(first, S.pos[seen], S.issue[seen])
    loose = recent & ~S.backed
    unbacked_sum = np.bincount(S.pos[loose], weights=S.amount[loose], minlength=n)
    # The firms the rule below can flag, over arrays (the same arithmetic, with a margin):
    # only they are looked at one by one.
    with np.errstate(divide="ignore", invalid="ignore"):
        known_months = ((app_of - first) // 86400 - BURST_DAYS) / 30.44
        span = np.minimum(base_days, known_months * 30.44)
        usual = base_sum / span * BURST_DAYS
        high = np.where(usual > 0, recent_sum / usual, np.inf)
        loose_share = unbacked_sum / recent_sum
    maybe = ((recent_count > 0) & (known_months >= BURST_MIN_BASELINE_MONTHS - 1e-9)
             & (high >= BURST_RATIO * (1 - 1e-9))
             & ((loose_share >= BURST_UNBACKED_SHARE * (1 - 1e-9))
                | (high >= BURST_RATIO_ALONE * (1 - 1e-9))))
    for i in sorted(np.flatnonzero(maybe), key=lambda j: scope[j]):
        seller = scope[i]
        r = recent_sum[i]
        months_known = ((app_of[i] - first[i]) // 86400 - BURST_DAYS) / 30.44
        if months_known < BURST_MIN_BASELINE_MONTHS:
            continue
        span_days = min(base_days, months_known * 30.44)
        baseline = base_sum[i] / span_days * BURST_DAYS
        ratio = r / baseline if baseline > 0 else math.inf
        if ratio < BURST_RATIO:
            continue
        unbacked = float(unbacked_sum[i] / r)
        if unbacked < BURST_UNBACKED_SHARE and ratio < BURST_RATIO_ALONE:
            continue
        g = S.frame(frames, recent & (S.pos == i))
        applied = pd.Timestamp(np.datetime64(int(app_of[i]), "s"))
        out[int(seller)] = [Flag(
            "sales_burst",
            f"Sales in the {BURST_DAYS} days before the application are "
            f"{ratio:.1f} times the usual level; {unbacked:.0%} of them have no order or "
            "delivery behind them.",
            f"申请前{BURST_DAYS}天的销售额是平时水平的{ratio:.1f}倍，其中{unbacked:.0%}"
            "没有对应的订单或交货记录。",
            {"window_days": BURST_DAYS, "recent_fen": int(r), "usual_fen": int(round(baseline)),
             "ratio": round(float(ratio), 2) if math.isfinite(ratio) else None,
             "applied_on": _day(applied),
             "unbacked_share": round(unbacked, 4), "invoices": int(len(g)),
             "latest": [{"invoice": str(x.number), "issued": _day(x.issue_date),
                         "amount_fen": int(x.amount_fen), "has_order": bool(pd.notna(x.order_id))}
                        for x in g.sort_values("issue_date", ascending=False)
                        .head(MAX_EVIDENCE_ROWS).itertuples()]})]
    for seller, flag in _two_month_spikes(frames, S, scope).items():
        out.setdefault(seller, [flag])
    return out


def _calendar_rows(n: int, pos: np.ndarray, secs: np.ndarray, values: np.ndarray,
                   as_of: pd.Timestamp, months: int, fill: float) -> np.ndarray:
    """*n* firms x complete calendar months back 1..*months* (column k-1): the sum of
    *values* of the rows at each firm position (-1: none) dated in each month; *fill*
    where a firm has no row that month."""
    k = (as_of.year - 1970) * 12 + as_of.month - 1 - (
        secs.astype("datetime64[s]").astype("datetime64[M]").astype("int64"))
    ok = (pos >= 0) & (k >= 1) & (k <= months)
    cell = pos[ok] * months + k[ok] - 1
    size = n * months
    sums = np.bincount(cell, weights=np.nan_to_num(values[ok].astype(float)), minlength=size)
    count = np.bincount(cell, minlength=size)
    return np.where(count > 0, sums, fill).reshape(n, months)


def _two_month_spikes(frames: Frames, S: _Sales, scope: list[int]) -> dict[int, Flag]:
    if not S.rows.size:
        return {}
    months = SPIKE_BASELINE_MONTHS + 2
    sales = _calendar_rows(S.P.n, S.pos, S.issue, S.amount, frames.as_of, months, 0.0)
    unb = _calendar_rows(S.P.n, S.pos, S.issue,
                         np.where(S.backed, 0, S.amount), frames.as_of, months, 0.0)
    base = sales[:, 2:]
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(np.where(base > 0, base, np.nan), axis=1)
        active = (base > 0).sum(axis=1)
        both = sales[:, :2].sum(axis=1)
        ratio = both / (2 * median)
        unb_share = unb[:, :2].sum(axis=1) / both
        unb_base = unb[:, 2:].sum(axis=1) / base.sum(axis=1)
        excess = (unb[:, :2].sum(axis=1) - unb_base * both) / median
        hit = ((active >= SPIKE_MIN_ACTIVE_MONTHS)
               & (excess >= SPIKE_MIN_EXCESS_MONTHS))
    out = {}
    for i in np.flatnonzero(hit):
        fid = scope[i]
        r, u, e = float(ratio[i]), float(unb_share[i]), float(excess[i])
        usual = float(unb_base[i])
        out[int(fid)] = Flag(
            "sales_burst",
            f"Sales of the last two months were {r:.1f} times a usual month each; {u:.0%} "
            f"of them have no order behind them (usually {usual:.0%}): {e:.1f} usual "
            "months of sales without orders beyond the firm's usual share.",
            f"近两个月的销售额平均是平常月份的{r:.1f}倍，其中{u:.0%}没有对应的订单"
            f"（平时为{usual:.0%}）：超出平时比例的无订单销售约合{e:.1f}个月的平常销售额。",
            {"rule": "two_months", "ratio": round(r, 2),
             "months_fen": [int(sales[i, 0]), int(sales[i, 1])],
             "usual_month_fen": int(round(float(median[i]))),
             "unbacked_share": round(u, 4), "usual_unbacked_share": round(usual, 4),
             "excess_months": round(e, 2)})
    return out


# --- shared phone, bank account, address -------------------------------------------

_NOT_DIGIT = re.compile(r"\D")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")
_ADDRESS_NOISE = re.compile(r"[\s,，.。·\-#号]")
_IDENTITY = {
    "phone": ("shared_phone", "phone number", "电话号码",
              lambda s: _NOT_DIGIT.sub("", s)[-11:]),
    "bank_account": ("shared_bank_account", "bank account", "银行账户",
                     lambda s: _NOT_ALNUM.sub("", s).upper()),
    "address": ("shared_address", "address", "地址",
                lambda s: _ADDRESS_NOISE.sub("", s).lower()),
}


def _identity_groups(firms: pd.DataFrame, col: str) -> list[list[int]]:
    """Groups of firms whose *col* is the same once normalised (at least 5 characters):
    in key order, firms in frame order, as pandas' ``duplicated(keep=False)`` and sorted
    ``groupby`` gave them, over plain lists (a thousand firms: pandas' string map, length
    and grouping cost more than the normalising)."""
    norm = _IDENTITY[col][3]
    values = firms[col]
    groups: dict[str, list[int]] = {}
    for fid, value, missing in zip(values.index.tolist(), values.tolist(),
                                   values.isna().tolist(), strict=True):
        if missing:
            continue
        key = norm(str(value))
        if len(key) >= 5:
            groups.setdefault(key, []).append(int(fid))
    return [groups[k] for k in sorted(groups) if len(groups[k]) > 1]


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


def _power_rows(frames: Frames, months: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids of the firms with electricity readings, those firms x months back 1..*months*
    of kWh, NaN without a reading): the cluster's part, kept on the firm path."""
    def make():
        power = electricity(frames)
        ids = _ints(power["firm_id"])
        known = np.unique(ids)
        P = _Positions(known.tolist())
        return known, _calendar_rows(P.n, P.of(ids), _seconds(power["month"]),
                                     _floats(power["quantity"]), frames.as_of, months, np.nan)
    return kept(frames, ("screen_power_months", months), make)


def _calendar_months(frames: Frames, scope: list[int], months: int = 12):
    """(sales, power, headcount): firms (scope order) x complete months back 1..*months*
    as arrays (column k-1), NaN = no record (sales: 0 for a month without invoices, which
    is a fact, not an absence)."""
    P = _Positions(scope)
    inv = frames.invoices
    sales = _calendar_rows(P.n, P.of(_ints(inv["seller_id"])), _seconds(inv["issue_date"]),
                           _ints(inv["amount_fen"]), frames.as_of, months, 0.0)
    known, kwh = _power_rows(frames, months)
    power = _rows_of(known, kwh, P.ids, months)
    hc = frames.headcount
    heads = _calendar_rows(P.n, P.of(_ints(hc["firm_id"])), _seconds(hc["month"]),
                           _floats(hc["headcount"]), frames.as_of, months, np.nan)
    return sales, power, heads


def _present(x: np.ndarray) -> np.ndarray:
    return x[~np.isnan(x)]


def _year_on_year(sales: np.ndarray, power: np.ndarray, heads: np.ndarray):
    """Recent months (1..6 back) against the same calendar months a year before (13..18),
    over the pairs where the firm was already invoicing a year before (after its first,
    possibly partial, month) and both power readings exist: the season cancels out.
    Arrays by month back (index k-1). Returns (pairs, sales ratio, power ratio,
    headcount ratio or None)."""
    traded: np.ndarray = np.flatnonzero(sales > 0) + 1
    first = int(traded.max()) if traded.size else 0
    pairs = [m for m in range(1, PAPER_RECENT_MONTHS + 1)
             if m + 12 < first and not np.isnan(power[m - 1])
             and not np.isnan(power[m + 11])]
    if len(pairs) < PAPER_MIN_PAIRS:
        return len(pairs), None, None, None
    new = np.array(pairs) - 1
    old = new + 12
    s_old, p_old = sales[old].sum(), power[old].mean()
    s_ratio = sales[new].sum() / s_old if s_old > 0 else None
    p_ratio = power[new].mean() / p_old if p_old > 0 else None
    h_new, h_old = _present(heads[new]), _present(heads[old])
    h_ratio = (h_new.mean() / h_old.mean()) if len(h_new) and len(h_old) \
        and h_old.mean() > 0 else None
    return len(pairs), s_ratio, p_ratio, h_ratio


def _half_on_half(sales: np.ndarray, power: np.ndarray, heads: np.ndarray):
    """The last 6 months against the 6 before (sales ratio, power ratio, headcount ratio
    or None); (None, None, None) without :data:`PAPER_MIN_READINGS` readings a half."""
    p_new, p_old = _present(power[0:6]), _present(power[6:12])
    s_old = sales[6:12].sum()
    if len(p_new) < PAPER_MIN_READINGS or len(p_old) < PAPER_MIN_READINGS or s_old <= 0 \
            or p_old.mean() <= 0:
        return None, None, None
    h_new, h_old = _present(heads[0:6]), _present(heads[6:12])
    h_ratio = (h_new.mean() / h_old.mean()) if len(h_new) and len(h_old) \
        and h_old.mean() > 0 else None
    return sales[0:6].sum() / s_old, p_new.mean() / p_old.mean(), h_ratio


def _meter_candidates(sales: np.ndarray, power: np.ndarray) -> np.ndarray:
    """The rows (ascending) that :func:`meters` must look at one by one: those with a
    reading whose sales could meet a paper-trade rule's growth, or whose power could have
    stopped while sales went on. The sales sums are of whole fen, exact in any order, so
    the growth tests are the rules' own; the power test is looser than the rule (a margin
    for rounding), so no firm the rule flags is left out. Every other row is skipped."""
    present = ~np.isnan(power)
    rows = np.flatnonzero(present.any(axis=1))
    S, P, known = sales[rows], power[rows], present[rows]
    # year on year: the month pairs :func:`_year_on_year` uses
    active = S > 0
    first = np.where(active.any(axis=1), S.shape[1] - np.argmax(active[:, ::-1], axis=1), 0)
    m = np.arange(1, PAPER_RECENT_MONTHS + 1)
    pairs = (m[None, :] + 12 < first[:, None]) & known[:, m - 1] & known[:, m + 11]
    n_pairs = pairs.sum(axis=1)
    s_new = np.where(pairs, S[:, m - 1], 0.0).sum(axis=1)
    s_old = np.where(pairs, S[:, m + 11], 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        year = (n_pairs >= PAPER_MIN_PAIRS) & (s_old > 0) & (
            s_new / np.where(s_old > 0, s_old, 1.0) >= PAPER_SALES_GROWTH)
        # half on half, where the year rule has too few pairs
        h_old = S[:, 6:12].sum(axis=1)
        half = ((n_pairs < PAPER_MIN_PAIRS) & (known[:, 0:6].sum(axis=1) >= PAPER_MIN_READINGS)
                & (known[:, 6:12].sum(axis=1) >= PAPER_MIN_READINGS) & (h_old > 0)
                & (S[:, 0:6].sum(axis=1) / np.where(h_old > 0, h_old, 1.0)
                   >= PAPER_HALF_GROWTH))
        # power stopped: the last two readings low against the usual level, sales going on
        usual = np.where(known[:, 2:12], P[:, 2:12], np.nan)
        n_usual = known[:, 2:12].sum(axis=1)
        usual_sales = S[:, 2:12].sum(axis=1) / 10.0
        level = np.nanmax(np.where(n_usual[:, None] > 0, usual, 0.0), axis=1)
        stop = (known[:, 0] & known[:, 1] & (n_usual >= 6) & (usual_sales > 0)
                & (S[:, 0:2].min(axis=1) >= STOP_SALES_SHARE * usual_sales * (1 - 1e-9))
                & (np.fmax(P[:, 0], P[:, 1]) <= STOP_SHARE * level * (1 + 1e-9)))
    return rows[year | half | stop]


def _meter_flags(s: np.ndarray, p: np.ndarray, h: np.ndarray) -> list[Flag]:
    """The meter rules of :func:`meters` for one firm's sales, power and headcount by
    month back (index k-1)."""
    out: list[Flag] = []
    pairs, s_ratio, p_ratio, h_ratio = _year_on_year(s, p, h)
    threshold, basis = PAPER_SALES_GROWTH, "year"
    if s_ratio is None and pairs < PAPER_MIN_PAIRS:
        s_ratio, p_ratio, h_ratio = _half_on_half(s, p, h)
        threshold, basis, pairs = PAPER_HALF_GROWTH, "half", 6
    if (s_ratio is not None and p_ratio is not None and s_ratio >= threshold
            and p_ratio < PAPER_FLAT and (h_ratio is None or h_ratio < PAPER_FLAT)):
        then_en, then_zh = (("the same months a year before", "上年同期") if basis == "year"
                            else ("the 6 months before", "之前6个月"))
        out.append(Flag(
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
    last2 = p[0:2]
    usual = _present(p[2:12])
    usual_sales = s[2:12].mean()
    if (not np.isnan(last2).any() and len(usual) >= 6 and np.median(usual) > 0
            and (last2 <= STOP_SHARE * np.median(usual)).all() and usual_sales > 0
            and (s[0:2] >= STOP_SALES_SHARE * usual_sales).all()):
        median = np.median(usual)
        out.append(Flag(
            "power_stopped",
            f"Power use of the last two months fell to {last2.mean() / median:.0%}"
            " of its usual level while invoicing went on.",
            f"近两个月用电量降至平时的{last2.mean() / median:.0%}，但仍在继续开票。",
            {"last_two_months_kwh": [round(float(x), 1) for x in last2],
             "usual_kwh": round(float(median), 1),
             "recent_sales_fen": int(s[0:2].sum())}))
    return out


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
    for i in _meter_candidates(sales, power):
        found = _meter_flags(sales[i], power[i], heads[i])
        if found:
            out[scope[i]].extend(found)
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
    sales = _Sales(frames, trade_ok, order_only)   # the same arrays for both sales screens
    for part in (circular_trading(frames, scope), duplicate_invoices(frames, scope),
                 unbacked_invoices(frames, trade_ok, order_only, sales=sales),
                 burst(frames, trade_ok, applied_on, order_only, sales=sales),
                 shared_identity(frames, scope),
                 tax_contradiction(frames, tax_ok, features, filings), meters(frames, scope)):
        for fid, flags in part.items():
            merged[fid].extend(flags)
    return dict(merged)
