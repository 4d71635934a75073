"""How a firm's trade, payments, loans and meters are moving (issue 14, eleventh pass).

The first feature set (:mod:`.features`) holds levels and a few trends; this module adds
what a credit analyst reads next from the same rows: momentum over a year and year on
year, months without sales, the turnover of the firm's buyers (its main buyer's share
falling, buyers lost and gained), how its buyers' and its own payment delays move, the
days of sales it waits for and of purchases it owes, its own past loans, and the swings
of its meter. Every value is computed from the frames (rows dated before ``as_of``) and
is ``NaN`` when the data do not say (no sales then, no loans, no readings), never zero.
Each function takes the firm rows (``features._Rows``) and the feature dict ``out`` that
:func:`trellis.scoring.features.compute` fills, and adds its columns to it.
"""

from __future__ import annotations

import numpy as np

from trellis.scoring.features import (
    CHAIN_MIN_PEERS,
    METER_MIN_READINGS,
    OVERDUE_DAYS,
    _balances,
    _firm_months,
    _ints,
    _month_back_seconds,
    _months_ago,
    _pair_keys,
    _per_firm,
    _Positions,
    _row_mean,
    _Rows,
    _safe_div,
    _seconds,
    _ts_seconds,
    electricity,
    industry_division,
)
from trellis.scoring.frames import Frames, kept
from trellis.trade.models import DocStatus

#: the columns this module adds, in order
COLUMNS = ("months_since_last_sale", "sales_gap_months_12m", "sales_yoy_12m", "sales_yoy_6m",
           "sales_slope_12m", "sales_1m_vs_12m", "top_buyer_share_change",
           "lost_buyer_share_6m", "new_buyer_share_6m", "buyer_count_trend_6v6",
           "buyer_late_days_change", "own_late_days_change", "inflow_trend_3v12",
           "outflow_trend_3v12", "months_since_last_inflow", "receivable_days",
           "payable_days", "own_overdue_share_now", "past_loans", "past_default_share",
           "months_since_last_default", "months_since_last_loan", "last_loan_to_sales_12m",
           "power_cv_12m", "power_1m_vs_12m", "power_yoy_12m", "power_slope_12m",
           "power_slope_6m", "headcount_slope_12m", "sales_slope_6m",
           "power_slope_12m_vs_peers", "orders_trend_3v6", "orders_1m_vs_12m",
           "orders_slope_12m", "orders_yoy_3m", "orders_to_sales_3m",
           "headcount_vs_sales_change", "headcount_trend_2v6", "tax_paid_rate")
DAYS_CAP = 999.0  # days of sales (or purchases) outstanding when the sales were nil
MONTH_DAYS = 30.44


def add(frames: Frames, R: _Rows, M: np.ndarray, out: dict) -> None:
    """Every column of this module, into *out* (*M*: firms x 36 months back of invoiced
    sales in fen, as :func:`trellis.scoring.features.monthly_sales` gives it)."""
    _momentum(M, out)
    _orders(frames, R, out)
    _buyer_turnover(R, out)
    _payment_trends(frames, R, out)
    _past_loans(frames, R, out)
    _meter_swings(frames, R, out)
    firms = frames.firms.loc[R.scope]
    # The VAT the firm paid against the sales it declared: a firm declaring sales but
    # paying next to no tax earns little on them (or books costs against them).
    out["tax_paid_rate"] = _safe_div(firms["tax_paid_fen"].to_numpy(dtype=float),
                                     firms["tax_vat_sales_fen"].to_numpy(dtype=float))


def slope(M: np.ndarray, least: int) -> np.ndarray:
    """Per row of *M* (columns: months back, the first the latest; NaN: no record), the
    least-squares slope of the values over time as a share of their mean, per month
    (-0.05: falling by 5% of the mean month each month); NaN with fewer than *least*
    values or a mean of 0."""
    ok = ~np.isnan(M)
    k = ok.sum(axis=1)
    t = -np.arange(M.shape[1], dtype=float)[None, :]  # the latest month is the last in time
    x = np.where(ok, M, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tm = np.where(ok, t, 0.0).sum(axis=1) / k
        xm = x.sum(axis=1) / k
        dt = np.where(ok, t - tm[:, None], 0.0)
        b = (dt * (x - xm[:, None])).sum(axis=1) / (dt ** 2).sum(axis=1)
    return np.where(k >= least, _safe_div(b, xm), np.nan)


def _momentum(M: np.ndarray, out: dict) -> None:
    """Sales momentum over the year and year on year, recency and gaps.

    - ``months_since_last_sale``: whole months since the last month with a sale (0: a
      sale in the last month); NaN without any sale in the lookback;
    - ``sales_gap_months_12m``: the longest run of months without a sale in the last 12
      months, counted only since the firm's first sale (NaN without history);
    - ``sales_yoy_12m``, ``sales_yoy_6m``: the last 12 (6) months' sales against the 12
      (the same 6) months a year before, less 1, where the firm already traded then;
    - ``sales_slope_12m``: the least-squares slope of the last 12 months' sales, a share of
      the mean month per month (-0.05: falling by 5% of a usual month each month);
    - ``sales_slope_6m``: the same over the last 6 months;
    - ``sales_1m_vs_12m``: the last month against the mean month of the 12, less 1.
    """
    X: np.ndarray = M.astype(float)
    n = X.shape[0]
    history = np.asarray(out["history_months"])
    active = X > 0
    has_any = active.any(axis=1)
    out["months_since_last_sale"] = np.where(has_any, np.argmax(active, axis=1), np.nan)
    # longest run of idle months among the last 12 that lie within the firm's history
    span = np.minimum(history, 12)
    longest = np.zeros(n)
    run = np.zeros(n)
    for k in range(12):
        idle = ~active[:, k] & (k < span)
        run = np.where(idle, run + 1, 0)
        longest = np.maximum(longest, run)
    out["sales_gap_months_12m"] = np.where(history > 0, longest, np.nan)
    out["sales_yoy_12m"] = np.where(history >= 24, _safe_div(
        X[:, :12].sum(axis=1), X[:, 12:24].sum(axis=1)) - 1.0, np.nan)
    out["sales_yoy_6m"] = np.where(history >= 18, _safe_div(
        X[:, :6].sum(axis=1), X[:, 12:18].sum(axis=1)) - 1.0, np.nan)
    mean12 = X[:, :12].mean(axis=1)
    out["sales_slope_12m"] = np.where(history >= 12, slope(X[:, :12], 12), np.nan)
    out["sales_slope_6m"] = np.where(history >= 6, slope(X[:, :6], 6), np.nan)
    out["sales_1m_vs_12m"] = np.where(history >= 12, _safe_div(X[:, 0], mean12) - 1.0, np.nan)


def _orders(frames: Frames, R: _Rows, out: dict) -> None:
    """The orders the firm received from its buyers (by order date), a leading sign of its
    sales: an order book that thins shows before the invoices do. Rejected orders left out.

    - ``orders_trend_3v6``: orders a month over the last 3 months against the 6 before,
      less 1 (NaN without orders in those 6);
    - ``orders_1m_vs_12m``: the last month's orders against the 12 months' mean month, -1;
    - ``orders_slope_12m``: the trend of the last 12 months' orders (:func:`slope`, a share
      of the mean month per month), where the firm had orders 12 months ago or before;
    - ``orders_yoy_3m``: the last 3 months' orders against the same 3 months a year before,
      less 1 (NaN without orders then);
    - ``orders_to_sales_3m``: the last 3 months' orders against the sales invoiced in them
      (NaN without sales, or without any order in the lookback): below 1, the order
      book runs down.
    """
    n = R.n
    orders = frames.orders
    if len(orders):
        pos = R.P.of(_ints(orders["seller_id"]))
        keep = (pos >= 0) & (orders["status"].to_numpy(dtype=object)
                             != DocStatus.REJECTED.value)
        k = _month_back_seconds(_seconds(orders["order_date"]), R.as_of)
        ok = keep & (k >= 0) & (k < 24)
        fen = _ints(orders["amount_fen"])[ok].astype(float)
        book = np.bincount(pos[ok] * 24 + k[ok], weights=fen, minlength=n * 24).reshape(n, 24)
        first = np.where(keep, k, -1)
        oldest = np.full(n, -1)
        np.maximum.at(oldest, pos[keep], first[keep])
    else:
        book = np.zeros((n, 24))
        oldest = np.full(n, -1)
    recent = book[:, :3].mean(axis=1)
    out["orders_trend_3v6"] = _safe_div(recent, book[:, 3:9].mean(axis=1)) - 1.0
    mean12 = book[:, :12].mean(axis=1)
    out["orders_1m_vs_12m"] = _safe_div(book[:, 0], mean12) - 1.0
    out["orders_slope_12m"] = np.where(oldest >= 11, slope(book[:, :12], 12), np.nan)
    out["orders_yoy_3m"] = _safe_div(book[:, :3].sum(axis=1), book[:, 12:15].sum(axis=1)) - 1.0
    # NaN for a firm none of whose orders the platform holds (its buyers order elsewhere)
    out["orders_to_sales_3m"] = np.where(oldest >= 0, _safe_div(
        book[:, :3].sum(axis=1), out["sales_3m_fen"]), np.nan)


def _pair_sales(keys: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique (firm position, buyer) keys, fen under each)."""
    u, inverse = np.unique(keys, return_inverse=True)
    return u, np.bincount(inverse, weights=amount, minlength=u.size)


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """*values* under each of *wanted* keys (*keys* sorted unique), 0 where absent."""
    out = np.zeros(wanted.size)
    if keys.size and wanted.size:
        at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
        hit = keys[at] == wanted
        out[hit] = values[at[hit]]
    return out


def _buyer_turnover(R: _Rows, out: dict) -> None:
    """The turnover of the firm's buyers (rejected invoices are no sales).

    - ``top_buyer_share_change``: the share of the last 3 months' sales that went to the
      firm's main buyer of the 12 months before them (months 4-15 back), less that
      buyer's share then; -1 when the main buyer stopped buying altogether. NaN without
      sales in either period;
    - ``lost_buyer_share_6m``: the share of the sales of months 7-18 back that went to
      buyers invoiced nothing in the last 6 months (NaN without sales then);
    - ``new_buyer_share_6m``: the share of the last 6 months' sales to buyers not
      invoiced in months 7-18 back (NaN without sales in either period);
    - ``buyer_count_trend_6v6``: buyers invoiced in the last 6 months against those of
      the 6 before, less 1 (NaN without buyers then).
    """
    n = R.n
    at = {m: _ts_seconds(_months_ago(R.as_of, m)) for m in (3, 6, 12, 15, 18)}
    sale = (R.s_pos >= 0) & (R.status != DocStatus.REJECTED.value)
    pos, buyer, day = R.s_pos[sale], R.buyer[sale], R.issue[sale]
    amount = R.amount[sale].astype(float)
    keys = _pair_keys(pos, buyer)

    def window(lo: int, hi: int):
        w = (day >= at[lo]) & (day < (R.now if hi == 0 else at[hi]))
        return _pair_sales(keys[w], amount[w])

    # main buyer of months 4-15 back: its share then and in the last 3 months
    pk, pv = window(15, 3)
    firm = pk >> 32
    total_before = np.bincount(firm, weights=pv, minlength=n)
    best = np.full(n, -1.0)
    np.maximum.at(best, firm, pv)
    is_top = pv == best[firm]
    top_key: np.ndarray = np.full(n, -1, dtype="int64")
    top_key[firm[is_top][::-1]] = pk[is_top][::-1]  # the first (lowest buyer id) on ties
    rk, rv = window(3, 0)
    total_recent = np.bincount(rk >> 32, weights=rv, minlength=n)
    has = (total_before > 0) & (total_recent > 0)
    recent_top = _lookup(rk, rv, np.where(has, top_key, -1))
    out["top_buyer_share_change"] = np.where(
        has, _safe_div(recent_top, total_recent) - _safe_div(best, total_before), np.nan)
    # buyers lost and gained: months 7-18 back against the last 6 months
    ok, ov = window(18, 6)
    nk, nv = window(6, 0)
    old_total = np.bincount(ok >> 32, weights=ov, minlength=n)
    new_total = np.bincount(nk >> 32, weights=nv, minlength=n)
    lost = ~np.isin(ok, nk)
    gained = ~np.isin(nk, ok)
    out["lost_buyer_share_6m"] = _safe_div(
        np.bincount(ok[lost] >> 32, weights=ov[lost], minlength=n), old_total)
    out["new_buyer_share_6m"] = np.where(old_total > 0, _safe_div(
        np.bincount(nk[gained] >> 32, weights=nv[gained], minlength=n), new_total), np.nan)
    bk, _ = window(12, 6)
    out["buyer_count_trend_6v6"] = _safe_div(np.bincount(nk >> 32, minlength=n),
                                             np.bincount(bk >> 32, minlength=n)) - 1.0


def _payment_trends(frames: Frames, R: _Rows, out: dict) -> None:
    """How the payment delays move, money in and out, days outstanding.

    - ``buyer_late_days_change``, ``own_late_days_change``: amount-weighted days late of
      the last 3 months less those of the 12 (its buyers paying it; it paying its
      suppliers), in days: positive, paying later than over the year;
    - ``inflow_trend_3v12``, ``outflow_trend_3v12``: money received (paid) a month over
      the last 3 months against the 12, less 1 (NaN with none in the 12);
    - ``months_since_last_inflow``: months since the last money received (NaN: none);
    - ``receivable_days``: what its buyers still owe it, in days of its last 3 months'
      sales (``DAYS_CAP`` when it owes without sales; NaN without either);
    - ``payable_days``: what it still owes its suppliers, in days of its last 3 months'
      purchases (the same caps), and ``own_overdue_share_now``: the share of that owed
      more than OVERDUE_DAYS past its due date (NaN without purchase invoices).
    """
    n = R.n
    for side in ("buyer", "own"):
        out[f"{side}_late_days_change"] = out[f"{side}_late_days_3m"] - out[
            f"{side}_late_days_12m"]
    pay = frames.payments
    if len(pay):
        paid_on = _seconds(pay["paid_on"])
        amount: np.ndarray = _ints(pay["amount_fen"]).astype(float)
        for who, col in (("payee_id", "inflow"), ("payer_id", "outflow")):
            p = R.P.of(_ints(pay[who]))
            year = _per_firm(np.where(paid_on >= R.at[12], p, -1), n, amount)
            quarter = _per_firm(np.where(paid_on >= R.at[3], p, -1), n, amount)
            out[f"{col}_trend_3v12"] = _safe_div(quarter * 4.0, year) - 1.0
        last = np.full(n, np.iinfo("int64").min)
        p = R.P.of(_ints(pay["payee_id"]))
        keep = p >= 0
        np.maximum.at(last, p[keep], paid_on[keep])
        out["months_since_last_inflow"] = np.where(
            last > np.iinfo("int64").min, (R.now - last) / 86400.0 / MONTH_DAYS, np.nan)
    else:
        for col in ("inflow_trend_3v12", "outflow_trend_3v12", "months_since_last_inflow"):
            out[col] = np.full(n, np.nan)
    outstanding, overdue_days, _ = _balances(frames, R)
    live = R.status != DocStatus.REJECTED.value
    recent = live & (R.issue >= R.at[3])
    for pos, col in ((R.s_pos, "receivable_days"), (R.b_pos, "payable_days")):
        p = np.where(live, pos, -1)
        owed = _per_firm(p, n, outstanding)
        flow = _per_firm(np.where(recent, pos, -1), n, R.amount)
        days = np.where(flow > 0, _safe_div(owed * 90.0, flow), DAYS_CAP)
        days = np.where((owed == 0) & (flow == 0), np.nan, np.minimum(days, DAYS_CAP))
        out[col] = np.where(_per_firm(p, n) > 0, days, np.nan)
    p = np.where(live, R.b_pos, -1)
    owed = _per_firm(p, n, outstanding)
    late = _per_firm(np.where(overdue_days > OVERDUE_DAYS, p, -1), n, outstanding)
    share = np.where(owed > 0, _safe_div(late, owed), 0.0)
    out["own_overdue_share_now"] = np.where(_per_firm(p, n) > 0, share, np.nan)


def _past_loans(frames: Frames, R: _Rows, out: dict) -> None:
    """The firm's own past loans whose outcome is known by ``as_of`` (the frames keep only
    loans disbursed long enough before it; see ``frames.OUTCOME_KNOWN_DAYS``).

    - ``past_loans``: how many (0: none known);
    - ``past_default_share``: the share of them that defaulted (NaN without any);
    - ``months_since_last_default``: months since the latest defaulted loan was disbursed
      (NaN without a default), ``months_since_last_loan`` the same for any loan;
    - ``last_loan_to_sales_12m``: its latest loan's amount against its last 12 months'
      sales (NaN without a loan or without sales).
    """
    n = R.n
    oc = frames.outcomes
    if not len(oc):
        out["past_loans"] = np.zeros(n, dtype="int64")
        for col in ("past_default_share", "months_since_last_default",
                    "months_since_last_loan", "last_loan_to_sales_12m"):
            out[col] = np.full(n, np.nan)
        return
    p = R.P.of(_ints(oc["firm_id"]))
    bad = oc["defaulted"].astype(bool).to_numpy()
    day = _seconds(oc["disbursed_on"])
    amount: np.ndarray = _ints(oc["amount_fen"]).astype(float)
    count = _per_firm(p, n)
    out["past_loans"] = count.astype("int64")
    out["past_default_share"] = _safe_div(_per_firm(np.where(bad, p, -1), n), count)
    none = np.iinfo("int64").min
    for col, rows in (("months_since_last_default", bad), ("months_since_last_loan", None)):
        last = np.full(n, none)
        keep = (p >= 0) if rows is None else (p >= 0) & rows
        np.maximum.at(last, p[keep], day[keep])
        out[col] = np.where(last > none, (R.now - last) / 86400.0 / MONTH_DAYS, np.nan)
    # the latest loan's amount (the largest on the same day)
    order = np.lexsort((amount, day))
    latest = np.full(n, np.nan)
    keep = p[order] >= 0
    latest[p[order][keep]] = amount[order][keep]  # later rows overwrite earlier ones
    out["last_loan_to_sales_12m"] = _safe_div(latest, out["sales_12m_fen"])


def _meter_swings(frames: Frames, R: _Rows, out: dict) -> None:
    """The swings of the meter and the staff against the sales.

    - ``power_cv_12m``: the spread of the last 12 complete months' kWh as a share of their
      mean (at least METER_MIN_READINGS readings);
    - ``power_1m_vs_12m``: the last complete month against the mean month of the 12, -1;
    - ``power_yoy_12m``: the last 12 complete months' mean kWh against the 12 before, -1
      (at least METER_MIN_READINGS readings in each);
    - ``power_slope_12m``, ``power_slope_6m``, ``headcount_slope_12m``: the trend of the
      kWh over the last 12 (6) complete months and of insured staff over 12, by
      :func:`slope` (at least METER_MIN_READINGS readings; 4 over 6 months);
    - ``power_slope_12m_vs_peers``: the firm's ``power_slope_12m`` less the median of its
      industry's metered firms in the cluster (:func:`_peer_power_slope`): the industry's
      season and shocks taken out;
    - ``headcount_trend_2v6``: insured staff over the last 2 complete months against the
      6 before, less 1 (2 readings on each side): staff cuts show here first;
    - ``headcount_vs_sales_change``: the change of insured staff less the change of
      invoiced sales, year on year over the last 3 months where both are known, else
      the last 3 months against the 6 before (as ``power_vs_sales_change`` does).
    """
    P = _firm_months(R, electricity(frames), "quantity", 24)
    A, B = P[:, :12], P[:, 12:]
    na = (~np.isnan(A)).sum(axis=1)
    nb = (~np.isnan(B)).sum(axis=1)
    enough = na >= METER_MIN_READINGS
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = np.where(na > 0, np.nanmean(np.where(na[:, None] > 0, A, 0.0), axis=1),
                          np.nan)
        mean_b = np.where(nb > 0, np.nanmean(np.where(nb[:, None] > 0, B, 0.0), axis=1),
                          np.nan)
        std_a = np.nanstd(np.where(na[:, None] > 0, A, 0.0), axis=1)
    out["power_cv_12m"] = np.where(enough, _safe_div(std_a, mean_a), np.nan)
    out["power_1m_vs_12m"] = np.where(enough & ~np.isnan(A[:, 0]),
                                      _safe_div(A[:, 0], mean_a) - 1.0, np.nan)
    out["power_yoy_12m"] = np.where(enough & (nb >= METER_MIN_READINGS),
                                    _safe_div(mean_a, mean_b) - 1.0, np.nan)
    out["power_slope_12m"] = slope(A, METER_MIN_READINGS)
    out["power_slope_6m"] = slope(A[:, :6], 4)
    out["power_slope_12m_vs_peers"] = out["power_slope_12m"] - _peer_power_slope(frames, R)
    H = _firm_months(R, frames.headcount, "headcount", 12)
    out["headcount_slope_12m"] = slope(H, METER_MIN_READINGS)
    n_a, recent = _row_mean(H[:, :2])
    n_b, before = _row_mean(H[:, 2:8])
    out["headcount_trend_2v6"] = np.where((n_a >= 2) & (n_b >= 2),
                                          _safe_div(recent, before) - 1.0, np.nan)
    yoy = out["headcount_yoy_3m"] - out["sales_yoy_3m"]
    out["headcount_vs_sales_change"] = np.where(
        np.isnan(yoy), out["headcount_trend_3v6"] - out["sales_trend_3v6"], yoy)


def _peer_power_slope(frames: Frames, R: _Rows) -> np.ndarray:
    """Per firm of the scope, the median ``power_slope_12m`` of the metered firms of its
    industry category in its cluster (:func:`trellis.scoring.features.industry_division`,
    at least CHAIN_MIN_PEERS firms with a slope), else of its whole cluster's metered
    firms (as many at least); NaN otherwise. From the meter readings and the firms table
    of the whole cluster (the same on the portfolio and the one-firm path); no outcome."""
    def make():
        power = electricity(frames)
        ids = np.asarray(sorted({int(f) for f in power["firm_id"]}), dtype="int64")
        P = _Rows.__new__(_Rows)
        P.as_of, P.n, P.P = frames.as_of, len(ids), _Positions(ids.tolist())
        slopes = slope(_firm_months(P, power, "quantity", 12), METER_MIN_READINGS)
        firms = frames.firms
        cluster = dict(zip(firms.index.tolist(),
                           firms["cluster_id"].fillna(-1).astype("int64").tolist(),
                           strict=True))
        division = industry_division(frames)
        groups: dict = {}
        for f, v in zip(ids.tolist(), slopes.tolist(), strict=True):
            if v == v:  # not NaN
                c = cluster.get(f, -1)
                groups.setdefault(("park", c), []).append(v)
                d = division.get(f)
                if d is not None and d != "other":
                    groups.setdefault(("division", c, d), []).append(v)
        return {g: float(np.median(v)) for g, v in groups.items() if len(v) >= CHAIN_MIN_PEERS}
    medians = kept(frames, "peer_power_slope", make)
    firms = frames.firms.loc[R.scope]
    clusters = firms["cluster_id"].fillna(-1).astype("int64").tolist()
    division = industry_division(frames)
    out = []
    for f, c in zip(R.scope, clusters, strict=True):
        d = division.get(int(f))
        m = medians.get(("division", c, d)) if d is not None else None
        out.append(medians.get(("park", c), np.nan) if m is None else m)
    return np.asarray(out, dtype=float)


#: each column's reason in plain words, for the cards trained on it (the reasons a score
#: gives name the features that lowered it; :func:`trellis.scoring.expert.labels`)
REASONS = {
    "months_since_last_sale": {"en": "Months since its last sale",
                               "zh": "距最近一笔销售的月数"},
    "sales_gap_months_12m": {"en": "The longest run of months without sales, last 12 months",
                             "zh": "近12个月最长连续无销售月数"},
    "sales_yoy_12m": {"en": "Sales of the last 12 months against the 12 before",
                      "zh": "近12个月销售额与上一年同期相比"},
    "sales_yoy_6m": {"en": "Sales of the last 6 months against the same months a year before",
                     "zh": "近6个月销售额与上年同期相比"},
    "sales_slope_12m": {"en": "The trend of its sales over the last 12 months",
                        "zh": "近12个月销售额的走势"},
    "sales_slope_6m": {"en": "The trend of its sales over the last 6 months",
                       "zh": "近6个月销售额的走势"},
    "sales_1m_vs_12m": {"en": "Last month's sales against its usual month",
                        "zh": "上月销售额与近12个月月均相比"},
    "orders_trend_3v6": {"en": "Orders received in the last 3 months against the 6 before",
                         "zh": "近3个月收到的订单与此前6个月相比"},
    "orders_1m_vs_12m": {"en": "Last month's orders against its usual month",
                         "zh": "上月订单与近12个月月均相比"},
    "orders_slope_12m": {"en": "The trend of the orders it received over the last 12 months",
                         "zh": "近12个月收到订单的走势"},
    "orders_yoy_3m": {"en": "Orders of the last 3 months against the same months a year before",
                      "zh": "近3个月订单与上年同期相比"},
    "orders_to_sales_3m": {"en": "Orders received against sales invoiced, last 3 months",
                           "zh": "近3个月收到的订单与开票销售额之比"},
    "top_buyer_share_change": {"en": "Its main buyer's share of its sales has changed",
                               "zh": "主要买方在其销售额中的占比变化"},
    "lost_buyer_share_6m": {"en": "Sales to buyers who stopped buying in the last 6 months",
                            "zh": "近6个月停止采购的买方原先所占的销售额比例"},
    "new_buyer_share_6m": {"en": "Sales to new buyers, last 6 months",
                           "zh": "近6个月新买方所占的销售额比例"},
    "buyer_count_trend_6v6": {"en": "Buyers of the last 6 months against the 6 before",
                              "zh": "近6个月买方数量与此前6个月相比"},
    "buyer_late_days_change": {"en": "Its buyers pay it later than over the year",
                               "zh": "买方付款比全年平均更晚"},
    "own_late_days_change": {"en": "It pays its suppliers later than over the year",
                             "zh": "向供应商付款比全年平均更晚"},
    "inflow_trend_3v12": {"en": "Money received in the last 3 months against the year",
                          "zh": "近3个月回款与全年月均相比"},
    "outflow_trend_3v12": {"en": "Money paid out in the last 3 months against the year",
                           "zh": "近3个月付款与全年月均相比"},
    "months_since_last_inflow": {"en": "Months since it last received money",
                                 "zh": "距最近一笔回款的月数"},
    "receivable_days": {"en": "What its buyers owe it, in days of sales",
                        "zh": "应收账款相当于多少天的销售额"},
    "payable_days": {"en": "What it owes its suppliers, in days of purchases",
                     "zh": "应付账款相当于多少天的采购额"},
    "own_overdue_share_now": {"en": "Share of what it owes its suppliers that is overdue",
                              "zh": "应付供应商款项中逾期的比例"},
    "past_loans": {"en": "Its past loans", "zh": "过往贷款笔数"},
    "past_default_share": {"en": "Share of its past loans that defaulted",
                           "zh": "过往贷款中违约的比例"},
    "months_since_last_default": {"en": "Months since its last defaulted loan",
                                  "zh": "距最近一笔违约贷款的月数"},
    "months_since_last_loan": {"en": "Months since its last loan",
                               "zh": "距最近一笔贷款的月数"},
    "last_loan_to_sales_12m": {"en": "Its last loan against its sales of 12 months",
                               "zh": "最近一笔贷款与近12个月销售额之比"},
    "power_cv_12m": {"en": "How much its power use swings from month to month",
                     "zh": "用电量逐月波动的幅度"},
    "power_1m_vs_12m": {"en": "Last month's power use against its usual month",
                        "zh": "上月用电量与近12个月月均相比"},
    "power_yoy_12m": {"en": "Power use of the last 12 months against the 12 before",
                      "zh": "近12个月用电量与上一年同期相比"},
    "power_slope_12m": {"en": "The trend of its power use over the last 12 months",
                        "zh": "近12个月用电量的走势"},
    "power_slope_6m": {"en": "The trend of its power use over the last 6 months",
                       "zh": "近6个月用电量的走势"},
    "power_slope_12m_vs_peers": {"en": "The trend of its power use against its industry's",
                                 "zh": "用电量走势与园区内同行业相比"},
    "headcount_slope_12m": {"en": "The trend of its insured staff over the last 12 months",
                            "zh": "近12个月参保人数的走势"},
    "headcount_trend_2v6": {"en": "Insured staff of the last 2 months against the 6 before",
                            "zh": "近2个月参保人数与此前6个月相比"},
    "headcount_vs_sales_change": {"en": "Change of insured staff less change of sales",
                                  "zh": "参保人数变化减去销售额变化"},
    "tax_paid_rate": {"en": "VAT paid against the sales it declared",
                      "zh": "已缴增值税与申报销售额之比"},
}
