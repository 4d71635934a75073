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
from collections import defaultdict
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from trellis.scoring.frames import Frames
from trellis.scoring.graphfeatures import build_graph, cycles
from trellis.scoring.result import Flag

logger = logging.getLogger(__name__)

RING_AMOUNT_TOLERANCE = 0.10  # next leg's amount within 10% of the previous leg's
RING_DAYS = 15  # next leg issued within 15 days after the previous one
RING_MIN_LOOPS = 2  # at least two complete loops round the cycle
BURST_DAYS = 28
BURST_BASELINE_MONTHS = 6
BURST_RATIO = 3.0
BURST_MIN_BASELINE_MONTHS = 3
# A moderate spike of ordered, delivered sales is ordinary business (a peak season, a new
# contract) and shows in the sales-trend feature; it is flagged when part of it has no
# order or delivery behind it. A spike of five times the usual level is flagged anyway.
BURST_UNBACKED_SHARE = 0.10
BURST_RATIO_ALONE = 5.0
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

def _loops(cycle: list[int], legs: dict) -> list[list[tuple]]:
    """Complete loops round *cycle*: chains of invoices whose amounts and dates line up."""
    pairs = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
    if any(p not in legs for p in pairs):
        return []
    first = legs[pairs[0]]
    chains = [[(int(i), first["day"][i], first["amount"][i])] for i in range(len(first["day"]))]
    for pair in pairs[1:]:
        leg = legs[pair]
        nxt = []
        for chain in chains:
            _, d, a = chain[-1]
            ok = ((leg["day"] >= d) & (leg["day"] <= d + RING_DAYS)
                  & (np.abs(leg["amount"] - a) <= RING_AMOUNT_TOLERANCE * a))
            hits = np.flatnonzero(ok)
            if hits.size:
                j = hits[np.argmin(leg["day"][hits])]
                nxt.append(chain + [(int(j), leg["day"][j], leg["amount"][j])])
        chains = nxt
        if not chains:
            break
    return chains


def circular_trading(frames: Frames, scope: list[int]) -> dict[int, list[Flag]]:
    G = build_graph(frames.edges)
    found = cycles(G, through=scope if len(scope) < len(frames.firms) else None)
    if not found:
        return {}
    inv = frames.invoices
    inv = inv[inv["issue_date"] >= frames.as_of - pd.DateOffset(months=12)]
    members = {n for c in found for n in c}
    inv = inv[inv["seller_id"].isin(members) & inv["buyer_id"].isin(members)]
    epoch = pd.Timestamp("1970-01-01")
    legs = {}
    for (s, b), g in inv.groupby(["seller_id", "buyer_id"]):
        legs[(int(s), int(b))] = {
            "day": ((g["issue_date"] - epoch).dt.days).to_numpy(),
            # ratios between leg amounts only (matching a loop); no money is booked here
            "amount": g["amount_fen"].to_numpy(dtype=float),
            "number": g["number"].to_numpy(), "date": g["issue_date"].to_numpy()}
    out: dict[int, list[Flag]] = defaultdict(list)
    for found_cycle in found:
        # A loop may start on any leg: try every rotation and keep the best.
        chains, cycle = [], found_cycle
        for r in range(len(found_cycle)):
            rotated = found_cycle[r:] + found_cycle[:r]
            got = _loops(rotated, legs)
            if len(got) > len(chains):
                chains, cycle = got, rotated
        if len(chains) < RING_MIN_LOOPS:
            continue
        pairs = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
        example = [{"seller": frames.firms.loc[s, "uscc"], "buyer": frames.firms.loc[b, "uscc"],
                    "invoice": str(legs[(s, b)]["number"][j]),
                    "issued": _day(legs[(s, b)]["date"][j]), "amount_fen": int(a)}
                   for (s, b), (j, _, a) in zip(pairs, chains[-1], strict=True)]
        volume = int(sum(a for chain in chains for _, _, a in chain))
        evidence = {"cycle": [_firm_ref(frames.firms, n) for n in cycle],
                    "loops": len(chains), "volume_fen": volume, "latest_loop": example}
        for n in cycle:
            if n in scope:
                out[n].append(Flag(
                    "circular_trading",
                    f"Circular trading: {len(chains)} loops of matching invoices round "
                    f"{len(cycle)} firms.",
                    f"循环交易：{len(cycle)}家企业之间发现{len(chains)}轮金额和日期吻合的发票。",
                    evidence))
    return out


# --- duplicate invoices ------------------------------------------------------------

def normalise_number(number: str) -> str:
    """An invoice number without separators, case or leading zeros."""
    return re.sub(r"[^0-9A-Za-z]", "", str(number)).upper().lstrip("0")


def duplicate_invoices(frames: Frames, scope: list[int]) -> dict[int, list[Flag]]:
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
            seller = int(g["seller_id"].iloc[0])
            rows = [{"invoice": str(r.number), "buyer": frames.firms.loc[r.buyer_id, "uscc"]
                     if r.buyer_id in frames.firms.index else int(r.buyer_id),
                     "issued": _day(r.issue_date), "amount_fen": int(r.amount_fen),
                     "has_order": bool(pd.notna(r.order_id)), "status": r.status}
                    for r in g.itertuples()]
            same = "same buyer, amount and date" if key == "fp_content" else "same number"
            out[seller].append(Flag(
                "duplicate_invoice",
                f"Duplicate invoices ({same}): {', '.join(r['invoice'] for r in rows)}.",
                f"重复发票（{'买方、金额和日期相同' if key == 'fp_content' else '发票号相同'}）："
                f"{'、'.join(r['invoice'] for r in rows)}。",
                {"match": key, "invoices": rows[:MAX_EVIDENCE_ROWS]}))
    return out


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
    """Sales in the 28 days before the application (default: as_of) vs the 6 months before."""
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


def shared_identity(frames: Frames, scope: list[int]) -> dict[int, list[Flag]]:
    firms = frames.firms
    out: dict[int, list[Flag]] = defaultdict(list)
    want = set(scope)
    for col, (code, en, zh, norm) in _IDENTITY.items():
        vals = firms[col].dropna().astype(str)
        keys = vals.map(norm)
        keys = keys[keys.str.len() >= 5]
        keys = keys[keys.duplicated(keep=False)]
        for _key, g in keys.groupby(keys):
            ids = [int(i) for i in g.index]
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
                 tax_contradiction(frames, tax_ok, features, filings)):
        for fid, flags in part.items():
            merged[fid].extend(flags)
    return dict(merged)
