"""A firm's VAT filing history against its invoiced sales (issue 14, twelfth pass).

The first feature set reads one declared figure, the latest (:mod:`.features`, ``_tax``).
A firm that files quarterly leaves a history: how regularly it filed, how its declared
sales move, and how far what it declared stands from what it invoiced on the platform in
each filing's own period. This module reads every filing whose period ended before
``as_of`` and started within the frames' lookback (``Frames.tax_filings``) and adds:

- ``vat_filings_8q``: filings whose period ended within the last 8 quarters (24 months);
- ``vat_missed_quarters_8q``: of those 8 quarters, the ones since the firm's first filing
  that no filing covers (a quarter skipped, or not yet filed);
- ``vat_sales_trend_2v4q``: declared sales a month over the latest 6 months of filings
  against the 12 months before, less 1;
- ``vat_vs_invoiced_trend``: that trend against the invoiced sales' trend over the same
  periods (log of the ratio of the two ratios; 0: both moved alike);
- ``vat_gap_median``: the median over the filings of declared / invoiced sales of the
  filing's period (1: declared what it invoiced);
- ``vat_gap_spread``: the standard deviation of the log of that ratio across filings.

Absence is never zero: a firm without filings (or whose filings cannot be compared: no
invoices in their periods, too few of them) is NaN, "not assessable". Rejected invoices
are no sales.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trellis.trade.models import DocStatus

#: the columns this module adds, in order
COLUMNS = ("vat_filings_8q", "vat_missed_quarters_8q", "vat_sales_trend_2v4q",
           "vat_vs_invoiced_trend", "vat_gap_median", "vat_gap_spread")
QUARTERS = 8
MIN_FILINGS_GAP = 3  # filings with invoiced sales needed for the median gap and its spread
RECENT_MONTHS = 6
BEFORE_MONTHS = 12

REASONS = {
    "vat_filings_8q": {"en": "VAT filings over the last two years",
                       "zh": "近两年的增值税申报次数"},
    "vat_missed_quarters_8q": {"en": "Quarters without a VAT filing over the last two years",
                               "zh": "近两年未申报增值税的季度数"},
    "vat_sales_trend_2v4q": {"en": "Trend of the sales declared for VAT",
                             "zh": "增值税申报销售额的变化趋势"},
    "vat_vs_invoiced_trend": {"en": "Declared sales trend against the invoiced sales trend",
                              "zh": "申报销售额趋势与开票销售额趋势的对比"},
    "vat_gap_median": {"en": "Declared VAT sales against invoiced sales, period by period",
                       "zh": "各申报期申报销售额与开票销售额之比"},
    "vat_gap_spread": {"en": "How much declared and invoiced sales diverge between periods",
                       "zh": "各申报期申报与开票销售额差异的波动"},
}


def _month_index(ts: np.ndarray) -> np.ndarray:
    return ts.astype("datetime64[M]").astype("int64")


def add(frames, R, out: dict) -> None:
    """Every column of this module into *out* (*R*: the firm rows, ``features._Rows``)."""
    n = R.n
    for c in COLUMNS:
        out[c] = np.full(n, np.nan)
    tf = getattr(frames, "tax_filings", None)
    if tf is None or not len(tf):
        return
    pos_all = R.P.of(tf["firm_id"].to_numpy(dtype="int64"))
    keep = pos_all >= 0
    if not keep.any():
        return
    f = tf[keep]
    pos = pos_all[keep]
    start = f["period_start"].to_numpy().astype("datetime64[D]")
    end = f["period_end"].to_numpy().astype("datetime64[D]") + np.timedelta64(1, "D")
    sales = f["vat_sales_fen"].to_numpy(dtype=float)
    m0, m1 = _month_index(start), _month_index(end)  # [m0, m1) in calendar months
    months = np.maximum(m1 - m0, 1).astype(float)

    # each filing's invoiced sales in its own period (rejected invoices left out)
    mine = np.flatnonzero((R.s_pos >= 0) & (R.status != DocStatus.REJECTED.value))
    inv_pos = R.s_pos[mine]
    inv_day = R.issue[mine].astype("datetime64[s]").astype("datetime64[D]")
    inv_amt = R.amount[mine].astype(float)
    order = np.lexsort((inv_day, inv_pos))
    inv_pos, inv_day, inv_amt = inv_pos[order], inv_day[order], inv_amt[order]
    cum = np.concatenate([[0.0], np.cumsum(inv_amt)])
    # invoices of firm p dated in [a, b): the searchsorted bounds on (pos, day) pairs
    key = inv_pos.astype("int64") * 10 ** 6 + inv_day.astype("int64")
    base = pos.astype("int64") * 10 ** 6
    lo = np.searchsorted(key, base + start.astype("int64"), side="left")
    hi = np.searchsorted(key, base + end.astype("int64"), side="left")
    invoiced = cum[hi] - cum[lo]

    now_m = int(_month_index(np.array([R.as_of.to_datetime64()]))[0])
    # quarters: the 8 complete calendar quarters before as_of's quarter
    q_now = now_m // 3
    qs: np.ndarray = q_now - np.arange(1, QUARTERS + 1)
    df = pd.DataFrame({"pos": pos, "m0": m0, "m1": m1, "months": months, "sales": sales,
                       "inv": invoiced})
    filings8 = np.zeros(n)
    recent = df["m1"] > now_m - 3 * QUARTERS
    np.add.at(filings8, df.loc[recent, "pos"].to_numpy(), 1.0)
    first_m = df.groupby("pos")["m0"].min()
    has = np.zeros(n, dtype=bool)
    has[first_m.index.to_numpy()] = True
    out["vat_filings_8q"] = np.where(has, filings8, np.nan)
    # a quarter is covered when a filing's period holds its last month
    covered = np.zeros((n, QUARTERS), dtype=bool)
    for j, q in enumerate(qs):
        last = q * 3 + 2
        hit = (df["m0"].to_numpy() <= last) & (df["m1"].to_numpy() > last)
        covered[df["pos"].to_numpy()[hit], j] = True
    first_q = np.full(n, np.iinfo("int64").max)
    first_q[first_m.index.to_numpy()] = first_m.to_numpy() // 3
    due = qs[None, :] >= first_q[:, None]
    missed = (due & ~covered).sum(axis=1).astype(float)
    out["vat_missed_quarters_8q"] = np.where(has, missed, np.nan)

    # declared and invoiced per month, recent against before (periods ending in each window)
    rec = (df["m1"] > now_m - RECENT_MONTHS).to_numpy()
    bef = ((df["m1"] <= now_m - RECENT_MONTHS)
           & (df["m1"] > now_m - RECENT_MONTHS - BEFORE_MONTHS)).to_numpy()

    def per_month(mask, col):
        s = np.zeros(n)
        k = np.zeros(n)
        p = df["pos"].to_numpy()[mask]
        np.add.at(s, p, df[col].to_numpy()[mask])
        np.add.at(k, p, df["months"].to_numpy()[mask])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(k > 0, s / np.where(k > 0, k, 1), np.nan)

    d_rec, d_bef = per_month(rec, "sales"), per_month(bef, "sales")
    i_rec, i_bef = per_month(rec, "inv"), per_month(bef, "inv")
    with np.errstate(divide="ignore", invalid="ignore"):
        d_tr = np.where(d_bef > 0, d_rec / d_bef, np.nan)
        i_tr = np.where(i_bef > 0, i_rec / i_bef, np.nan)
        out["vat_sales_trend_2v4q"] = d_tr - 1.0
        both = (d_tr > 0) & (i_tr > 0)
        out["vat_vs_invoiced_trend"] = np.where(
            both, np.log(np.where(both, d_tr, 1.0)) - np.log(np.where(both, i_tr, 1.0)),
            np.nan)
    # the gap, filing by filing, where the platform saw sales in the period
    ok = (df["inv"] > 0) & (df["sales"] > 0)
    g = df[ok].assign(lr=np.log(df.loc[ok, "sales"] / df.loc[ok, "inv"])).groupby("pos")["lr"]
    cnt = g.size()
    enough = cnt[cnt >= MIN_FILINGS_GAP].index.to_numpy()
    med = g.median()
    sd = g.std()
    out["vat_gap_median"][enough] = np.exp(med.loc[enough].to_numpy())
    out["vat_gap_spread"][enough] = sd.loc[enough].to_numpy()


__all__ = ["COLUMNS", "REASONS", "add"]
