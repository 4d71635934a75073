"""The pandas implementation of :mod:`trellis.scoring.features` before issue 18's speed
pass, frozen here as the reference the numpy implementation is checked against
(``tests/scoring/test_features_equal.py``). Not used by Trellis; do not change it unless
a feature's meaning changes in both places.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trellis.scoring.frames import Frames, kept
from trellis.scoring.graph import network_features

logger = logging.getLogger(__name__)

WINDOWS = (3, 6, 12)
MONTHS = 36
MIN_HISTORY_MONTHS = 6
MIN_INVOICES_12M = 6
ORDER_GRACE_DAYS = 60
OVERDUE_DAYS = 30


@dataclass(frozen=True)
class Insufficiency:
    code: str
    en: str
    zh: str


def month_back(dates: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Whole months between each date and *as_of*: 0 for [as_of - 1 month, as_of)."""
    diff = (as_of.year - dates.dt.year) * 12 + (as_of.month - dates.dt.month)
    return (diff - (dates.dt.day >= as_of.day).astype(int)).astype(int)


def _months_ago(as_of: pd.Timestamp, months: int) -> pd.Timestamp:
    return as_of - pd.DateOffset(months=months)


def _days(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 86400.0


def _safe_div(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def monthly_sales(frames: Frames, scope: list[int]) -> pd.DataFrame:
    """Firms x months back (0..35) of invoiced sales in fen; a rejected invoice is no sale."""
    inv = frames.invoices
    inv = inv[inv["seller_id"].isin(scope) & (inv["status"] != "rejected")]
    k = month_back(inv["issue_date"], frames.as_of)
    m = (inv.assign(k=k).groupby(["seller_id", "k"])["amount_fen"].sum()
         .unstack(fill_value=0))
    return m.reindex(index=scope, columns=range(MONTHS), fill_value=0).astype("int64")


def _sales_features(frames: Frames, scope: list[int]) -> pd.DataFrame:
    M = monthly_sales(frames, scope)
    X = M.to_numpy(dtype=float)
    out = pd.DataFrame(index=pd.Index(scope, name="firm_id"))
    active = X > 0
    has_any = active.any(axis=1)
    # Oldest month with a sale, +1: months of sales history within the lookback.
    last_active = np.where(has_any, MONTHS - np.argmax(active[:, ::-1], axis=1), 0)
    out["history_months"] = last_active
    for w in WINDOWS:
        out[f"sales_{w}m_fen"] = X[:, :w].sum(axis=1).astype("int64")
        out[f"active_share_{w}m"] = active[:, :w].mean(axis=1)
    out["avg_monthly_sales_12m_fen"] = np.round(X[:, :12].mean(axis=1)).astype("int64")
    # Seasonal index from the firm's own two years of trade when it has them, else none:
    # the older year with sales in six months or more, in as many months as the later
    # year (one fewer allowed), and half its total at least.
    older_months = active[:, 12:24].sum(axis=1)
    own = (last_active >= 24) & (older_months >= 6) \
        & (older_months >= active[:, :12].sum(axis=1) - 1) \
        & (X[:, 12:24].sum(axis=1) >= 0.5 * X[:, :12].sum(axis=1))
    two_years = X[:, :24]
    phase_mean = (two_years[:, :12] + two_years[:, 12:24]) / 2.0
    overall = two_years.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.where(overall > 0, phase_mean / np.where(overall > 0, overall, 1), 1.0)
    index = np.where((index > 0.05) & own[:, None], index, 1.0)
    Y24 = X[:, :24] / np.tile(index, 2)
    Y = Y24[:, :12]
    mean12 = Y.mean(axis=1)
    out["seasonal_index_used"] = own.astype(int)
    out["sales_cv_12m"] = _safe_div(Y.std(axis=1), mean12)
    out["sales_trend_3v12"] = _safe_div(Y[:, :3].mean(axis=1), mean12) - 1.0
    # Drawdown: the last 3 months against the best 3 consecutive months of the 12 before.
    rolling = np.stack([Y24[:, i:i + 3].sum(axis=1) for i in range(3, 13)], axis=1)
    peak = rolling.max(axis=1)
    out["sales_drawdown_3m"] = np.where(peak > 0, 1.0 - _safe_div(Y[:, :3].sum(axis=1), peak),
                                        np.nan)
    prior = X[:, 12:15].sum(axis=1)
    yoy = _safe_div(X[:, :3].sum(axis=1), prior) - 1.0
    out["sales_yoy_3m"] = np.where(last_active >= 15, yoy, np.nan)
    return out


def _buyer_features(frames: Frames, scope: list[int]) -> pd.DataFrame:
    inv = frames.invoices
    start = _months_ago(frames.as_of, 12)
    inv = inv[inv["seller_id"].isin(scope) & (inv["issue_date"] >= start)]
    out = pd.DataFrame(index=pd.Index(scope, name="firm_id"))
    out["invoices_12m"] = inv.groupby("seller_id").size().reindex(scope, fill_value=0)
    by = inv.groupby(["seller_id", "buyer_id"])["amount_fen"].sum()
    total = by.groupby(level=0).transform("sum")
    share = (by / total)
    out["buyer_count_12m"] = by.groupby(level=0).size().reindex(scope, fill_value=0)
    out["buyer_hhi_12m"] = (share ** 2).groupby(level=0).sum().reindex(scope)
    out["top_buyer_share_12m"] = share.groupby(level=0).max().reindex(scope)
    anchors = set(frames.firms.index[frames.firms["role"] == "anchor"])
    to_anchor = inv["buyer_id"].isin(anchors)
    confirmed = to_anchor & (inv["status"] == "confirmed")
    sales = inv.groupby("seller_id")["amount_fen"].sum().reindex(scope)
    out["anchor_sales_share_12m"] = (inv[to_anchor].groupby("seller_id")["amount_fen"].sum()
                                     .reindex(scope, fill_value=0) / sales)
    out["anchor_confirmed_share_12m"] = (inv[confirmed].groupby("seller_id")["amount_fen"]
                                         .sum().reindex(scope, fill_value=0) / sales)
    # Tenure with each anchor still bought from: first trade (or declared relationship).
    all_inv = frames.invoices
    first = (all_inv[all_inv["seller_id"].isin(scope) & all_inv["buyer_id"].isin(anchors)]
             .groupby(["seller_id", "buyer_id"])["issue_date"].min())
    rel = frames.relationships
    rel = rel[rel["supplier_id"].isin(scope) & rel["buyer_id"].isin(anchors)]
    since = rel.set_index(["supplier_id", "buyer_id"])["since"]
    since.index.names = ["seller_id", "buyer_id"]
    current = by[by.index.get_level_values(1).isin(anchors)].index
    start_dates = pd.concat([first, since]).groupby(level=[0, 1]).min()
    start_dates = start_dates[start_dates.index.isin(current)]
    tenure = _days(frames.as_of - start_dates)
    out["anchor_count_12m"] = tenure.groupby(level=0).size().reindex(scope, fill_value=0)
    out["anchor_tenure_days"] = tenure.groupby(level=0).max().reindex(scope)
    # Average monthly confirmed inflow and eligible receivables, for the limit.
    six = inv["issue_date"] >= _months_ago(frames.as_of, 6)
    out["confirmed_monthly_6m_fen"] = np.round(
        inv[confirmed & six].groupby("seller_id")["amount_fen"].sum()
        .reindex(scope, fill_value=0) / 6.0).astype("int64")
    return out


def _invoice_balances(frames: Frames) -> pd.DataFrame:
    """Per invoice: amount, paid before as_of, credited, and amount-days paid late."""
    inv = frames.invoices[["id", "seller_id", "buyer_id", "amount_fen", "issue_date",
                           "due_date", "status"]].set_index("id")
    al = frames.allocations.merge(inv[["due_date"]], left_on="invoice_id", right_index=True)
    late_days = _days(al["paid_on"] - al["due_date"]).clip(lower=0)
    al = al.assign(late_amount_days=al["amount_fen"] * late_days)
    paid = al.groupby("invoice_id").agg(paid_fen=("amount_fen", "sum"),
                                        late_amount_days=("late_amount_days", "sum"))
    cn = frames.credit_notes.dropna(subset=["invoice_id"])
    credited = cn.groupby(cn["invoice_id"].astype("int64"))["amount_fen"].sum()
    inv["paid_fen"] = paid["paid_fen"].reindex(inv.index, fill_value=0)
    inv["credited_fen"] = credited.reindex(inv.index, fill_value=0)
    inv["outstanding_fen"] = (inv["amount_fen"] - inv["paid_fen"] - inv["credited_fen"]).clip(
        lower=0)
    overdue_days = _days(frames.as_of - inv["due_date"]).clip(lower=0)
    inv["overdue_days"] = overdue_days
    inv["late_amount_days"] = (paid["late_amount_days"].reindex(inv.index, fill_value=0.0)
                               + inv["outstanding_fen"] * overdue_days)
    return inv


def _lateness_features(frames: Frames, scope: list[int]) -> pd.DataFrame:
    bal = _invoice_balances(frames)
    out = pd.DataFrame(index=pd.Index(scope, name="firm_id"))
    due = bal[bal["due_date"] < frames.as_of]
    for w in WINDOWS:
        d = due[due["due_date"] >= _months_ago(frames.as_of, w)]
        for who, col in (("seller_id", "buyer_late_days"), ("buyer_id", "own_late_days")):
            if who == "buyer_id" and w != 12:
                continue
            g = d[d[who].isin(scope)].groupby(who)
            out[f"{col}_{w}m"] = (g["late_amount_days"].sum() / g["amount_fen"].sum()
                                  ).reindex(scope)
    mine = bal[bal["seller_id"].isin(scope)]
    g = mine.groupby("seller_id")
    outstanding = g["outstanding_fen"].sum().reindex(scope)
    overdue = (mine[mine["overdue_days"] > OVERDUE_DAYS].groupby("seller_id")["outstanding_fen"]
               .sum().reindex(scope, fill_value=0))
    has_invoices = g.size().reindex(scope, fill_value=0) > 0
    share = pd.Series(_safe_div(overdue, outstanding), index=outstanding.index)
    out["overdue_share_now"] = share.where(~(has_invoices & (outstanding.fillna(0) == 0)), 0.0
                                           ).where(has_invoices)
    anchors = set(frames.firms.index[frames.firms["role"] == "anchor"])
    eligible = mine[(mine["status"] == "confirmed") & mine["buyer_id"].isin(anchors)
                    & (mine["due_date"] >= frames.as_of)]
    out["eligible_receivables_fen"] = (eligible.groupby("seller_id")["outstanding_fen"].sum()
                                       .reindex(scope, fill_value=0).astype("int64"))
    return out


def _document_features(frames: Frames, scope: list[int], sales: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.Index(scope, name="firm_id"))
    cn = frames.credit_notes
    cn = cn[cn["seller_id"].isin(scope)]
    for w in WINDOWS:
        c = cn[cn["issued_on"] >= _months_ago(frames.as_of, w)]
        credited = c.groupby("seller_id")["amount_fen"].sum().reindex(scope, fill_value=0)
        out[f"credit_note_rate_{w}m"] = _safe_div(credited, sales[f"sales_{w}m_fen"])
        if w == 12:
            disputed = (c[c["reason"] == "dispute"].groupby("seller_id")["amount_fen"].sum()
                        .reindex(scope, fill_value=0))
            out["dispute_rate_12m"] = _safe_div(disputed, sales["sales_12m_fen"])
    orders = frames.orders
    window = ((orders["order_date"] >= _months_ago(frames.as_of, 12))
              & (orders["order_date"] < frames.as_of - pd.Timedelta(days=ORDER_GRACE_DAYS)))
    o = orders[window & orders["seller_id"].isin(scope)]
    invoiced = frames.invoices["order_id"].dropna().astype("int64").unique()
    conv = o.assign(done=o["id"].isin(invoiced) * o["amount_fen"]).groupby("seller_id")
    out["order_conversion_12m"] = (conv["done"].sum() / conv["amount_fen"].sum()).reindex(scope)
    inv = frames.invoices
    inv = inv[inv["seller_id"].isin(scope)
              & (inv["issue_date"] >= _months_ago(frames.as_of, 12))]
    delivered = frames.deliveries["order_id"].astype("int64").unique()
    backed = inv["order_id"].notna() & inv["order_id"].isin(delivered)
    unbacked = inv[~backed].groupby("seller_id")["amount_fen"].sum().reindex(scope, fill_value=0)
    out["unbacked_share_12m"] = _safe_div(unbacked, sales["sales_12m_fen"])
    return out


def _cash_features(frames: Frames, scope: list[int]) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.Index(scope, name="firm_id"))
    pay = frames.payments
    recent = pay[(pay["paid_on"] >= _months_ago(frames.as_of, 3)) & pay["payee_id"].isin(scope)]
    inflow = recent.groupby("payee_id")["amount_fen"].sum().reindex(scope, fill_value=0) / 3.0
    out["inflow_monthly_3m_fen"] = np.round(inflow).astype("int64")
    ex = frames.exposures
    debt = (ex.groupby("firm_id")["outstanding_fen"].sum().reindex(scope, fill_value=0)
            if len(ex) else pd.Series(0, index=scope))
    out["platform_debt_fen"] = debt.astype("int64").to_numpy()
    ratio = _safe_div(debt, inflow)
    out["debt_to_inflow"] = np.where(debt.to_numpy() == 0, 0.0,
                                     np.where(np.isnan(ratio), 99.0, np.minimum(ratio, 99.0)))
    if len(ex):
        mine = ex[ex["firm_id"].isin(scope)]
        out["own_loan_dpd_now"] = (mine.groupby("firm_id")["days_past_due"].max()
                                   .reindex(scope, fill_value=0).astype("int64").to_numpy())
        out["own_loans_written_off"] = (mine[mine["written_off"].astype(bool)]
                                        .groupby("firm_id").size()
                                        .reindex(scope, fill_value=0).astype("int64").to_numpy())
    else:
        out["own_loan_dpd_now"] = np.zeros(len(scope), dtype="int64")
        out["own_loans_written_off"] = np.zeros(len(scope), dtype="int64")
    own = frames.outcomes[frames.outcomes["firm_id"].isin(scope)]
    out["past_defaults"] = (own[own["defaulted"].astype(bool)].groupby("firm_id").size()
                            .reindex(scope, fill_value=0))
    return out


_MONTH = r"(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?"


def tax_period_bounds(text) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The period a VAT filing covers, as [start, end): a year ("2025", "2025年"), a
    quarter ("2025Q3", "2025-Q3", "2025年第3季度"), a month ("2025-06", "202506",
    "2025年6月") or a range of months ("2025-01~2025-06", "2025-01至2025-06").
    ``None`` when the text says none of these."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return None
    t = str(text).strip().upper().replace("－", "-").replace("～", "~")
    m = re.fullmatch(r"(\d{4})\s*年?(?:度)?", t)
    if m:
        y = int(m.group(1))
        return pd.Timestamp(y, 1, 1), pd.Timestamp(y + 1, 1, 1)
    m = re.fullmatch(r"(\d{4})\s*(?:-?\s*Q|年第|年)\s*([1-4])\s*(?:季度)?", t)
    if m:
        y, q = int(m.group(1)), int(m.group(2))
        start = pd.Timestamp(y, 3 * q - 2, 1)
        return start, start + pd.DateOffset(months=3)
    m = re.fullmatch(_MONTH + r"\s*(?:~|至|到|TO|--|—)\s*" + _MONTH, t)
    if m:
        y1, m1, y2, m2 = (int(x) for x in m.groups())
        if 1 <= m1 <= 12 and 1 <= m2 <= 12 and (y1, m1) <= (y2, m2):
            return pd.Timestamp(y1, m1, 1), pd.Timestamp(y2, m2, 1) + pd.DateOffset(months=1)
        return None
    m = re.fullmatch(_MONTH, t)
    if m and 1 <= int(m.group(2)) <= 12:
        start = pd.Timestamp(int(m.group(1)), int(m.group(2)), 1)
        return start, start + pd.DateOffset(months=1)
    return None


def _tax_features(frames: Frames, scope: list[int]) -> pd.DataFrame:
    """Tax filing level and its ratio to the invoiced sales of the filing's own period.

    The ratio is NaN (never zero) when there is no filing, its period cannot be read, the
    period has not ended by ``as_of``, or it starts before the frames' lookback (the
    platform's sales of the period are then not all known).
    """
    firms = frames.firms.loc[scope]
    out = pd.DataFrame(index=pd.Index(scope, name="firm_id"))
    tax = pd.to_numeric(firms["tax_vat_sales_fen"], errors="coerce")
    out["tax_sales_fen"] = tax.to_numpy()
    inv = frames.invoices
    inv = inv[inv["seller_id"].isin(scope)]
    by_seller = {int(k): g for k, g in inv.groupby("seller_id")[["issue_date", "amount_fen"]]}
    flows, months = [], []
    inv = inv[inv["status"] != "rejected"]  # a rejected invoice is no sale
    by_seller = {int(k): g for k, g in inv.groupby("seller_id")[["issue_date", "amount_fen"]]}
    for fid, lo, hi, t in zip(scope, firms["tax_period_start"], firms["tax_period_end"],
                              tax.to_numpy(), strict=True):
        # The declared figure and its period as the frames read them from the one source.
        bounds = (lo, hi) if pd.notna(t) and pd.notna(lo) and pd.notna(hi) else None
        if bounds is None or bounds[1] > frames.as_of or bounds[0] < frames.start:
            flows.append(np.nan)
            months.append(np.nan)
            continue
        g = by_seller.get(int(fid))
        total = 0 if g is None else g.loc[(g["issue_date"] >= bounds[0])
                                          & (g["issue_date"] < bounds[1]), "amount_fen"].sum()
        flows.append(float(total))
        months.append((bounds[1].year - bounds[0].year) * 12 + bounds[1].month
                      - bounds[0].month)
    flow_array = np.asarray(flows, dtype=float)
    out["tax_period_sales_fen"] = flow_array
    out["tax_period_months"] = np.asarray(months, dtype=float)
    out["tax_to_flow_ratio"] = _safe_div(tax.to_numpy(dtype=float), flow_array)
    founded = pd.to_datetime(firms["founded_on"])
    out["firm_age_months"] = (_days(frames.as_of - founded) / 30.44).to_numpy()
    return out


METER_MIN_READINGS = 6
INDUSTRY_MIN_PEERS = 5


def _monthly(df: pd.DataFrame, value: str, as_of: pd.Timestamp, scope: list[int],
             months: int = 12) -> pd.DataFrame:
    """Firms x complete months back (1 = the month before as_of's month .. *months*), NaN
    where there is no record (absence is unknown, never zero)."""
    k = (as_of.year - df["month"].dt.year) * 12 + (as_of.month - df["month"].dt.month)
    m = df.assign(k=k)
    m = m[(m["k"] >= 1) & (m["k"] <= months)]
    table = m.groupby(["firm_id", "k"])[value].sum().unstack()
    return table.reindex(index=scope, columns=range(1, months + 1)).astype(float)


def power_months(frames: Frames) -> pd.DataFrame:
    """Every firm with electricity readings x complete months back 1..12 (:func:`_monthly`)."""
    def make():
        power = frames.utility[frames.utility["utility"] == "electricity"]
        return _monthly(power, "quantity", frames.as_of, sorted(set(power["firm_id"].astype(int))))
    return kept(frames, "reference_power_months", make)


def _output_per_kwh(frames: Frames, A: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Per firm with readings: the graph window's sales (yuan) per kWh; per industry: the
    median and count of those figures."""
    # Output per kWh from the graph's edges (the same on the portfolio and one-firm path).
    edges = frames.edges
    sales = (edges.groupby("seller_id")["volume_fen"].sum() if len(edges)
             else pd.Series(dtype=float))
    ids = list(A.index)
    an = A.notna().sum(axis=1)
    kwh_year = (A.mean(axis=1) * 12).where(an >= METER_MIN_READINGS)
    yuan = sales.reindex(ids).astype(float) / 100.0
    per_kwh = pd.Series(_safe_div(yuan, kwh_year), index=ids).where(yuan > 0)
    industry = frames.firms["industry"]
    peer = per_kwh.dropna()
    med = peer.groupby(industry.reindex(peer.index).to_numpy()).agg(["median", "size"])
    return per_kwh, med


def _meter_features(frames: Frames, scope: list[int]) -> pd.DataFrame:
    """Activity from the park's meters and social insurance (NaN without records).

    - ``power_months_12m``, ``power_kwh_month``: readings in the last 12 complete months
      and their mean monthly kWh;
    - ``power_trend_3v12``: mean of the last 3 months' readings against the 12 months', -1
      (at least 2 and 6 readings);
    - ``output_per_kwh``: the firm's invoiced sales over the graph's 12-month window per
      kWh (yuan / kWh), and ``output_per_kwh_vs_industry`` against the median of the
      cluster's firms of its industry (at least 5 with readings): sales far above what
      the power use supports are trade on paper or power bought elsewhere;
    - ``headcount_now``, ``headcount_trend_12m``: insured staff in the latest month and
      its change against the earliest month of the last 12 (at least 6 months apart).
    """
    out = pd.DataFrame(index=pd.Index(scope, name="firm_id"))
    A = power_months(frames)
    P = A.reindex(index=scope)
    n = P.notna().sum(axis=1).to_numpy()
    n3 = P[[1, 2, 3]].notna().sum(axis=1).to_numpy()
    mean12 = P.mean(axis=1).to_numpy()
    mean3 = P[[1, 2, 3]].mean(axis=1).to_numpy()
    out["power_months_12m"] = np.where(n > 0, n, np.nan)
    out["power_kwh_month"] = mean12
    out["power_trend_3v12"] = np.where((n >= METER_MIN_READINGS) & (n3 >= 2),
                                       _safe_div(mean3, mean12) - 1.0, np.nan)
    per_kwh, med = kept(frames, "reference_output_per_kwh", lambda: _output_per_kwh(frames, A))
    industry = frames.firms["industry"]
    mine = per_kwh.reindex(scope)
    ind = industry.reindex(scope).to_numpy()
    ref = pd.Series(ind).map(lambda i: med.loc[i, "median"] if i in med.index
                             and med.loc[i, "size"] >= INDUSTRY_MIN_PEERS else np.nan)
    out["output_per_kwh"] = mine.to_numpy()
    out["output_per_kwh_vs_industry"] = _safe_div(mine.to_numpy(), ref.to_numpy())
    H = _monthly(frames.headcount, "headcount", frames.as_of, scope)
    last = H.apply(lambda r: r.dropna().iloc[0] if r.notna().any() else np.nan, axis=1)
    first_k = H.apply(lambda r: r.dropna().index.max() if r.notna().any() else np.nan, axis=1)
    last_k = H.apply(lambda r: r.dropna().index.min() if r.notna().any() else np.nan, axis=1)
    early = H.apply(lambda r: r.dropna().iloc[-1] if r.notna().any() else np.nan, axis=1)
    out["headcount_now"] = last.to_numpy()
    span = (first_k - last_k).to_numpy()
    out["headcount_trend_12m"] = np.where(span >= 6, _safe_div(last, early) - 1.0, np.nan)
    return out


def compute(frames: Frames, firm_ids: list[int] | None = None) -> pd.DataFrame:
    """One row per firm (index firm_id) with every feature; see the module docstring."""
    scope = list(frames.scope if firm_ids is None else firm_ids)
    sales = _sales_features(frames, scope)
    parts = [sales, _buyer_features(frames, scope), _lateness_features(frames, scope),
             _document_features(frames, scope, sales), _cash_features(frames, scope),
             _tax_features(frames, scope), network_features(frames, scope),
             _meter_features(frames, scope)]
    out = pd.concat(parts, axis=1)
    out.index.name = "firm_id"
    out["role"] = frames.firms.loc[scope, "role"].to_numpy()
    out["industry"] = frames.firms.loc[scope, "industry"].to_numpy()
    return out


def sufficiency(features: pd.DataFrame) -> dict[int, list[Insufficiency]]:
    """Why each firm cannot be scored (an empty list: it can)."""
    out: dict[int, list[Insufficiency]] = {}
    cols = ["role", "history_months", "invoices_12m", "sales_3m_fen"]
    for fid, values in zip(features.index, features[cols].itertuples(index=False, name=None),
                           strict=True):
        row = dict(zip(cols, values, strict=True))
        why = []
        if row["role"] == "anchor":
            why.append(Insufficiency("anchor", "Anchor firms are not scored with the vendor "
                                     "scorecard.", "核心企业不适用供应商评分卡。"))
        if row["history_months"] < MIN_HISTORY_MONTHS:
            n = int(row["history_months"])
            why.append(Insufficiency(
                "short_history",
                f"Less than {MIN_HISTORY_MONTHS} months of sales history ({n}).",
                f"销售记录不足{MIN_HISTORY_MONTHS}个月（{n}个月）。"))
        if row["invoices_12m"] < MIN_INVOICES_12M:
            n = int(row["invoices_12m"])
            why.append(Insufficiency(
                "few_invoices",
                f"Fewer than {MIN_INVOICES_12M} invoices in the last 12 months ({n}).",
                f"近12个月发票少于{MIN_INVOICES_12M}张（{n}张）。"))
        if row["sales_3m_fen"] == 0:
            why.append(Insufficiency("no_recent_sales", "No sales in the last 3 months.",
                                     "近3个月无销售。"))
        out[int(fid)] = why
    return out


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else round(float(v), 6)
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return v


def to_jsonable(row: pd.Series) -> dict:
    """A feature row as a JSON-safe dict: NaN -> None, numpy scalars -> Python."""
    return {k: _plain(v) for k, v in row.items()}


def records(features: pd.DataFrame) -> dict[int, dict]:
    """Every row of *features* as :func:`to_jsonable` would give it, in one pass."""
    cols = list(features.columns)
    out = {}
    for fid, values in zip(features.index, features.itertuples(index=False, name=None),
                           strict=True):
        out[int(fid)] = {c: _plain(v) for c, v in zip(cols, values, strict=True)}
    return out
