"""Features of each firm as of a date, vectorised over all its transactions.

Every feature is computed from :class:`~trellis.scoring.frames.Frames`, which hold only
rows dated before ``as_of``. A value that cannot be computed (no invoices due, no tax
filing, no anchor) is ``NaN``, never zero: the scorecard gives missing values their own
bin. Money features are integer fen; rates and shares are floats in [0, 1] unless said.

The same function serves the portfolio (frames of a cluster, every firm in scope) and one
firm on demand (frames limited to that firm's rows): every quantity is grouped by firm,
so a firm's row depends only on its own rows, its cluster's graph and the as-of date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trellis.onboarding import tax as tax_
from trellis.scoring.frames import Frames, computing, kept
from trellis.scoring.graph import network_features
from trellis.trade.models import DocStatus

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


# --- the frames as a few numpy arrays ----------------------------------------------------
#
# Every feature is a sum, count, minimum or maximum of a firm's rows. The rows of each
# table are taken once as numpy arrays, each firm of the scope gets a position
# 0..n-1 (-1: not in scope), and every grouped quantity is one ``np.bincount`` (or
# ``np.minimum.at``) over those positions: the same code serves one firm on demand and
# a portfolio of tens of thousands, in a few dozen numpy calls instead of a thousand
# small pandas group-bys.


def _ts_seconds(ts) -> int:
    """A timestamp as whole seconds since 1970 (the frames' ``datetime64[s]`` unit)."""
    return int(pd.Timestamp(ts).value // 1_000_000_000)


def _seconds(s: pd.Series) -> np.ndarray:
    """A date column as int64 seconds since 1970 (NaT: the int64 minimum)."""
    a = s.to_numpy()
    if a.dtype.kind != "M":
        a = pd.to_datetime(s).to_numpy()
    return a.astype("datetime64[s]").astype("int64")


def _ints(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="int64") if len(s) else np.zeros(0, dtype="int64")


def _floats(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s).to_numpy(dtype=float) if len(s) else np.zeros(0)


TABLE_SLACK = 8  # a lookup table up to this many times the rows looked up (or 64k)


def member(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``np.isin(values, ids)`` for integer *ids* (*values* integers, or floats where NaN
    and non-integral values are never members), by a lookup table over the ids' range
    when that range is small next to the arrays: one pass instead of ``np.isin``'s sorts
    (the portfolio's orders, deliveries and invoices are hundreds of thousands of rows,
    their ids a dense range). A wide range falls back to ``np.isin``; the answer is the same."""
    values = np.asarray(values)
    ids = np.asarray(ids)
    if not values.size or not ids.size:
        return np.zeros(values.shape, dtype=bool)
    ids = ids.astype("int64", copy=False)
    lo, hi = int(ids.min()), int(ids.max())
    if hi - lo + 1 > max(TABLE_SLACK * (values.size + ids.size), 1 << 16):
        return np.isin(values, ids)
    table: np.ndarray = np.zeros(hi - lo + 1, dtype=bool)
    table[ids - lo] = True
    if values.dtype.kind == "f":
        ok = (values >= lo) & (values <= hi)  # NaN compares false
        ok &= values == np.floor(values)
        at = np.where(ok, values, lo).astype("int64") - lo
    else:
        v: np.ndarray = values.astype("int64", copy=False)
        ok = (v >= lo) & (v <= hi)
        at = np.where(ok, v - lo, 0)
    return ok & table[at]


class _Positions:
    """Each firm of the scope's position 0..n-1 in it; ids outside the scope get -1."""

    def __init__(self, scope: list[int]):
        self.n = len(scope)
        self.ids = ids = np.asarray(scope, dtype="int64")
        self._order = np.argsort(ids, kind="stable")
        self._sorted = ids[self._order]

    def of(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype="int64")
        if not self.n or not ids.size:
            return np.full(ids.shape, -1, dtype="int64")
        pos = np.minimum(np.searchsorted(self._sorted, ids), self.n - 1)
        return np.where(self._sorted[pos] == ids, self._order[pos], -1)


def _per_firm(pos: np.ndarray, n: int, weights=None) -> np.ndarray:
    """Sum of *weights* (count without) per scope position, rows at -1 left out."""
    keep = pos >= 0
    w = None if weights is None else np.asarray(weights, dtype=float)[keep]
    return np.bincount(pos[keep], weights=w, minlength=n)


def _where_any(values: np.ndarray, count: np.ndarray) -> np.ndarray:
    """*values* as floats, NaN where *count* is 0 (a firm without rows: unknown)."""
    return np.where(count > 0, values.astype(float), np.nan)


def _pair_keys(pos: np.ndarray, other: np.ndarray) -> np.ndarray:
    """One int64 key per (scope position, other firm id)."""
    return pos.astype("int64") * (1 << 32) + other.astype("int64")


def _month_back_seconds(secs: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
    """:func:`month_back` of dates given as seconds since 1970."""
    d: np.ndarray = secs.astype("datetime64[s]")
    month: np.ndarray = d.astype("datetime64[M]")
    day = (d.astype("datetime64[D]") - month.astype("datetime64[D]")).astype("int64") + 1
    as_of_month = (as_of.year - 1970) * 12 + as_of.month - 1
    return as_of_month - month.astype("int64") - (day >= as_of.day).astype("int64")


def _anchor_ids(frames: Frames) -> np.ndarray:
    """The ids of the anchor firms of the frames' firms table (kept on the firm path)."""
    def make():
        firms = frames.firms
        return np.unique(firms.index.to_numpy()[(firms["role"] == "anchor").to_numpy()]
                         .astype("int64"))
    return kept(frames, "anchor_ids", make)


class _Rows:
    """The columns the features read, as numpy arrays, with each row's scope position."""

    def __init__(self, frames: Frames, scope: list[int]):
        self.scope = scope
        self.as_of = frames.as_of
        self.now = _ts_seconds(frames.as_of)
        self.at = {w: _ts_seconds(_months_ago(frames.as_of, w)) for w in WINDOWS}
        self.P = _Positions(scope)
        self.n = self.P.n
        anchors = _anchor_ids(frames)
        inv = frames.invoices
        self.inv_id = _ints(inv["id"])
        self.seller = _ints(inv["seller_id"])
        self.buyer = _ints(inv["buyer_id"])
        self.amount = _ints(inv["amount_fen"])
        self.issue = _seconds(inv["issue_date"])
        self.due = _seconds(inv["due_date"])
        self.status = inv["status"].to_numpy(dtype=object)
        self.order_id = _floats(inv["order_id"])
        self.s_pos = self.P.of(self.seller)
        self.b_pos = self.P.of(self.buyer)
        self.to_anchor = np.isin(self.buyer, anchors)
        self.confirmed = self.status == "confirmed"
        self.anchors = anchors


def monthly_sales(frames: Frames, scope: list[int]) -> pd.DataFrame:
    """Firms x months back (0..35) of invoiced sales in fen (rejected invoices left out)."""
    M = _sales(_Rows(frames, scope), {})
    return pd.DataFrame(M, index=pd.Index(scope), columns=range(MONTHS))


def _sales(R: _Rows, out: dict) -> np.ndarray:
    """Sales history, levels, seasonality-adjusted variation, trend and drawdown; returns
    the firms x 36 months back matrix of invoiced fen (:func:`monthly_sales`).

    An invoice the buyer rejected (by ``as_of``) is not a sale and is left out, as the
    supply graph leaves it out of the network page's sales."""
    n = R.n
    mine = (R.s_pos >= 0) & (R.status != DocStatus.REJECTED.value)
    k = _month_back_seconds(R.issue[mine], R.as_of)
    pos = R.s_pos[mine]
    ok = (k >= 0) & (k < MONTHS)
    M = np.bincount(pos[ok] * MONTHS + k[ok], weights=R.amount[mine][ok].astype(float),
                    minlength=n * MONTHS).reshape(n, MONTHS).astype("int64")
    X = M.astype(float)
    active = X > 0
    has_any = active.any(axis=1)
    # Oldest month with a sale, +1: months of sales history within the lookback.
    last_active = np.where(has_any, MONTHS - np.argmax(active[:, ::-1], axis=1), 0)
    out["history_months"] = last_active
    for w in WINDOWS:
        out[f"sales_{w}m_fen"] = X[:, :w].sum(axis=1).astype("int64")
        out[f"active_share_{w}m"] = active[:, :w].mean(axis=1)
    out["avg_monthly_sales_12m_fen"] = np.round(X[:, :12].mean(axis=1)).astype("int64")
    # Seasonal index from the firm's own two years when it has them, else none. Two years
    # means two years of trade, not one sale two years ago: the older year must have sales
    # in as many months as the later one (one fewer allowed; a seasonal firm's quiet months
    # recur), in six at least, and at least half its total (reader 11, F18: five months of
    # sales and one invoice dated 2025-01 turned the index on, and a firm whose last three
    # months were its best was said to have fallen 47%).
    older, later = X[:, 12:24], X[:, :12]
    older_months = (older > 0).sum(axis=1)
    own = (last_active >= 24) & (older_months >= 6) \
        & (older_months >= (later > 0).sum(axis=1) - 1) \
        & (older.sum(axis=1) >= 0.5 * later.sum(axis=1))
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
    # Shorter-term and long-run movements of the seasonally adjusted sales: the last 3
    # months against the 6 before them, and against the firm's own 21 months before (the
    # level it has kept), each only where the firm already traded then.
    out["sales_trend_3v6"] = np.where(last_active >= 9, _safe_div(
        Y[:, :3].mean(axis=1), Y[:, 3:9].mean(axis=1)) - 1.0, np.nan)
    cols = np.arange(24)
    before = (cols >= 3) & (cols[None, :] < last_active[:, None])
    own_level = _safe_div((Y24 * before).sum(axis=1), before.sum(axis=1))
    out["sales_vs_own_24m"] = np.where(last_active >= 12, _safe_div(
        Y24[:, :3].mean(axis=1), own_level) - 1.0, np.nan)
    return M


def _buyers(frames: Frames, R: _Rows, out: dict) -> None:
    """Buyer concentration, anchor shares and tenure over the last 12 months."""
    n = R.n
    r = (R.s_pos >= 0) & (R.issue >= R.at[12])
    pos, amount = R.s_pos[r], R.amount[r].astype(float)
    count = np.bincount(pos, minlength=n)
    out["invoices_12m"] = count.astype("int64")
    keys, inverse = np.unique(_pair_keys(pos, R.buyer[r]), return_inverse=True)
    by = np.bincount(inverse, weights=amount, minlength=keys.size)
    pair_firm = keys >> 32
    pair_buyer = keys & ((1 << 32) - 1)
    total = np.bincount(pair_firm, weights=by, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = by / total[pair_firm]
    out["buyer_count_12m"] = np.bincount(pair_firm, minlength=n).astype("int64")
    out["buyer_hhi_12m"] = _where_any(np.bincount(pair_firm, weights=share ** 2, minlength=n),
                                      count)
    top = np.full(n, -np.inf)
    np.maximum.at(top, pair_firm, share)
    out["top_buyer_share_12m"] = _where_any(top, count)
    sales = _where_any(np.bincount(pos, weights=amount, minlength=n), count)
    to_anchor, confirmed = R.to_anchor[r], (R.to_anchor & R.confirmed)[r]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["anchor_sales_share_12m"] = np.bincount(
            pos[to_anchor], weights=amount[to_anchor], minlength=n) / sales
        out["anchor_confirmed_share_12m"] = np.bincount(
            pos[confirmed], weights=amount[confirmed], minlength=n) / sales
    # Anchors' refusals of the supplier's invoices (确权 rejected), last 6 months by amount.
    six_a = to_anchor & (R.issue[r] >= R.at[6])
    rejected = six_a & (R.status[r] == "rejected")
    out["anchor_rejected_share_6m"] = _safe_div(
        np.bincount(pos[rejected], weights=amount[rejected], minlength=n),
        np.bincount(pos[six_a], weights=amount[six_a], minlength=n))
    # Tenure with each anchor still bought from: first trade (or declared relationship).
    current = keys[np.isin(pair_buyer, R.anchors)]
    a = (R.s_pos >= 0) & R.to_anchor
    first = _pair_min(_pair_keys(R.s_pos[a], R.buyer[a]), R.issue[a], current)
    rel = frames.relationships
    if len(rel):
        rp = R.P.of(_ints(rel["supplier_id"]))
        rb = _ints(rel["buyer_id"])
        ra = (rp >= 0) & np.isin(rb, R.anchors)
        since = _pair_min(_pair_keys(rp[ra], rb[ra]), _seconds(rel["since"])[ra], current)
        first = np.minimum(first, since)
    tenure = (R.now - first).astype(float) / 86400.0
    cur_firm = current >> 32
    anchor_count = np.bincount(cur_firm, minlength=n)
    out["anchor_count_12m"] = anchor_count.astype("int64")
    longest = np.full(n, -np.inf)
    np.maximum.at(longest, cur_firm, tenure)
    out["anchor_tenure_days"] = _where_any(longest, anchor_count)
    # Average monthly confirmed inflow and eligible receivables, for the limit.
    six = confirmed & (R.issue[r] >= R.at[6])
    out["confirmed_monthly_6m_fen"] = np.round(
        np.bincount(pos[six], weights=amount[six], minlength=n).astype("int64") / 6.0
    ).astype("int64")


_NEVER = np.iinfo("int64").max


def _pair_min(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each key of *wanted* (sorted, unique), the least of *values* under it
    (int64 maximum where none)."""
    best: np.ndarray = np.full(wanted.size, _NEVER, dtype="int64")
    if not keys.size or not wanted.size:
        return best
    at = np.minimum(np.searchsorted(wanted, keys), wanted.size - 1)
    hit = wanted[at] == keys
    np.minimum.at(best, at[hit], values[hit])
    return best


def _balances(frames: Frames, R: _Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per invoice row (see :func:`_invoice_balances`): outstanding fen, overdue days and
    amount-days paid or still unpaid late."""
    al = frames.allocations
    paid = np.zeros(R.inv_id.size)
    late_paid = np.zeros(R.inv_id.size)
    order = np.argsort(R.inv_id, kind="stable")
    ids_sorted = R.inv_id[order]

    def rows_of(ids):
        if not ids_sorted.size:
            return np.full(ids.shape, -1, dtype="int64")
        at = np.minimum(np.searchsorted(ids_sorted, ids), ids_sorted.size - 1)
        return np.where(ids_sorted[at] == ids, order[at], -1)

    if len(al):
        row = rows_of(_ints(al["invoice_id"]))
        ok = row >= 0
        a_amount = _ints(al["amount_fen"])[ok].astype(float)
        late_days = np.maximum((_seconds(al["paid_on"])[ok] - R.due[row[ok]]) / 86400.0, 0)
        paid = np.bincount(row[ok], weights=a_amount, minlength=R.inv_id.size)
        late_paid = np.bincount(row[ok], weights=a_amount * late_days,
                                minlength=R.inv_id.size)
    credited = np.zeros(R.inv_id.size)
    cn = frames.credit_notes
    if len(cn):
        cid = _floats(cn["invoice_id"])
        has = ~np.isnan(cid)
        row = rows_of(cid[has].astype("int64"))
        ok = row >= 0
        credited = np.bincount(row[ok], weights=_ints(cn["amount_fen"])[has][ok].astype(float),
                               minlength=R.inv_id.size)
    outstanding = np.maximum(R.amount - paid.astype("int64") - credited.astype("int64"), 0)
    overdue_days = np.maximum((R.now - R.due) / 86400.0, 0)
    return outstanding, overdue_days, late_paid + outstanding * overdue_days


def _lateness(frames: Frames, R: _Rows, out: dict) -> None:
    """Amount-weighted days late (as seller and as buyer), overdue share, receivables."""
    n = R.n
    outstanding, overdue_days, late = _balances(frames, R)
    due = R.due < R.now
    for w in WINDOWS:
        d = due & (R.due >= R.at[w])
        for pos, col in ((R.s_pos, "buyer_late_days"), (R.b_pos, "own_late_days")):
            p = np.where(d, pos, -1)
            count = _per_firm(p, n)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{col}_{w}m"] = _where_any(
                    _per_firm(p, n, late) / _per_firm(p, n, R.amount), count)
    count = _per_firm(R.s_pos, n)
    total = _where_any(_per_firm(R.s_pos, n, outstanding), count)
    overdue = _per_firm(np.where(overdue_days > OVERDUE_DAYS, R.s_pos, -1), n, outstanding)
    share = _safe_div(overdue, total)
    has_invoices = count > 0
    share = np.where(has_invoices & (np.nan_to_num(total) == 0), 0.0, share)
    out["overdue_share_now"] = np.where(has_invoices, share, np.nan)
    eligible = R.confirmed & R.to_anchor & (R.due >= R.now)
    out["eligible_receivables_fen"] = _per_firm(
        np.where(eligible, R.s_pos, -1), n, outstanding).astype("int64")


def _documents(frames: Frames, R: _Rows, out: dict) -> None:
    """Credit notes, disputes, orders turned into invoices, invoices without an order."""
    n = R.n
    cn = frames.credit_notes
    if len(cn):
        c_pos = R.P.of(_ints(cn["seller_id"]))
        c_day = _seconds(cn["issued_on"])
        c_amount = _ints(cn["amount_fen"])
        dispute = cn["reason"].to_numpy(dtype=object) == "dispute"
    else:
        c_pos = c_day = c_amount = np.zeros(0, dtype="int64")
        dispute = np.zeros(0, dtype=bool)
    for w in WINDOWS:
        p = np.where(c_day >= R.at[w], c_pos, -1)
        credited: np.ndarray = _per_firm(p, n, c_amount).astype("int64")
        out[f"credit_note_rate_{w}m"] = _safe_div(credited, out[f"sales_{w}m_fen"])
        if w == 12:
            disputed: np.ndarray = _per_firm(np.where(dispute, p, -1), n, c_amount).astype("int64")
            out["dispute_rate_12m"] = _safe_div(disputed, out["sales_12m_fen"])
    orders = frames.orders
    invoiced = R.order_id[~np.isnan(R.order_id)].astype("int64")
    if len(orders):
        o_day = _seconds(orders["order_date"])
        window = ((o_day >= R.at[12])
                  & (o_day < _ts_seconds(R.as_of - pd.Timedelta(days=ORDER_GRACE_DAYS))))
        o_pos = np.where(window, R.P.of(_ints(orders["seller_id"])), -1)
        o_amount = _ints(orders["amount_fen"])
        done = member(_ints(orders["id"]), invoiced) * o_amount
        count = _per_firm(o_pos, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["order_conversion_12m"] = _where_any(
                _per_firm(o_pos, n, done) / _per_firm(o_pos, n, o_amount), count)
    else:
        out["order_conversion_12m"] = np.full(n, np.nan)
    delivered = (_ints(frames.deliveries["order_id"]) if len(frames.deliveries)
                 else np.zeros(0, dtype="int64"))
    recent = (R.s_pos >= 0) & (R.issue >= R.at[12])
    backed = member(R.order_id, delivered)
    unbacked: np.ndarray = _per_firm(np.where(recent & ~backed, R.s_pos, -1), n,
                                     R.amount).astype("int64")
    out["unbacked_share_12m"] = _safe_div(unbacked, out["sales_12m_fen"])


def _cash(frames: Frames, R: _Rows, out: dict) -> None:
    """Inflow of the last 3 months, platform debt against it, past defaults."""
    n = R.n
    pay = frames.payments
    if len(pay):
        p = np.where(_seconds(pay["paid_on"]) >= R.at[3], R.P.of(_ints(pay["payee_id"])), -1)
        inflow = _per_firm(p, n, _ints(pay["amount_fen"])).astype("int64") / 3.0
    else:
        inflow = np.zeros(n)
    out["inflow_monthly_3m_fen"] = np.round(inflow).astype("int64")
    # The book running off: money received in the last 3 months against the sales invoiced
    # in the same 3 months (NaN without sales then). On terms of a month or two, this
    # quarter's money pays last quarter's sales, so a steady firm reads about 1; well
    # above 1 the firm collects what it sold before and sells less anew.
    out["inflow_to_sales_3m"] = _safe_div(inflow * 3.0, out["sales_3m_fen"])
    # Collection: money received in the last 6 months against the sales invoiced in the
    # 6 months before the last one (terms and month-end batches lag payment), NaN
    # without those sales. Deductions, part payments and late payers lower it.
    if len(pay):
        p6 = np.where(_seconds(pay["paid_on"]) >= R.at[6], R.P.of(_ints(pay["payee_id"])), -1)
        received = _per_firm(p6, n, _ints(pay["amount_fen"]))
    else:
        received = np.zeros(n)
    lag = ((R.s_pos >= 0) & (R.issue >= _ts_seconds(_months_ago(R.as_of, 7)))
           & (R.issue < _ts_seconds(_months_ago(R.as_of, 1))))
    billed = _per_firm(np.where(lag, R.s_pos, -1), n, R.amount)
    out["collection_ratio_6m"] = _safe_div(received, billed)
    # What the anchors paid against what was invoiced to them: payments from anchors in
    # the last 12 months against the anchor invoices of months 2-14 back. Quality
    # deductions and refusals keep it below 1 whatever the firm's size.
    if len(pay):
        from_anchor = np.isin(_ints(pay["payer_id"]), R.anchors)
        pa = np.where(from_anchor & (_seconds(pay["paid_on"]) >= R.at[12]),
                      R.P.of(_ints(pay["payee_id"])), -1)
        anchor_paid = _per_firm(pa, n, _ints(pay["amount_fen"]))
    else:
        anchor_paid = np.zeros(n)
    lag12 = ((R.s_pos >= 0) & R.to_anchor
             & (R.issue >= _ts_seconds(_months_ago(R.as_of, 14)))
             & (R.issue < _ts_seconds(_months_ago(R.as_of, 2))))
    out["anchor_paid_ratio_12m"] = _safe_div(
        anchor_paid, _per_firm(np.where(lag12, R.s_pos, -1), n, R.amount))
    # Invoice count (call-offs) of the last 3 months against the 12 months' pace.
    recent3 = (R.s_pos >= 0) & (R.issue >= R.at[3])
    recent12 = (R.s_pos >= 0) & (R.issue >= R.at[12])
    out["invoice_count_trend_3v12"] = _safe_div(
        _per_firm(np.where(recent3, R.s_pos, -1), n) * 4.0,
        _per_firm(np.where(recent12, R.s_pos, -1), n)) - 1.0
    ex = frames.exposures
    debt: np.ndarray = (_per_firm(R.P.of(_ints(ex["firm_id"])), n, _ints(ex["outstanding_fen"]))
            .astype("int64") if len(ex) else np.zeros(n, dtype="int64"))
    out["platform_debt_fen"] = debt
    ratio = _safe_div(debt, inflow)
    out["debt_to_inflow"] = np.where(debt == 0, 0.0,
                                     np.where(np.isnan(ratio), 99.0, np.minimum(ratio, 99.0)))
    # The firm's own Trellis loans now: the most days past due of any (0: none late, or no
    # loan) and the written-off loans it still owes on. Read by the policy rules
    # (trellis.scoring.policy), which cap the grade of a firm in arrears with Trellis.
    dpd = np.zeros(n)
    off = np.zeros(n)
    if len(ex):
        pos = R.P.of(_ints(ex["firm_id"]))
        keep = pos >= 0
        np.maximum.at(dpd, pos[keep], ex["days_past_due"].to_numpy(dtype=float)[keep])
        off = _per_firm(np.where(ex["written_off"].to_numpy(dtype=bool), pos, -1), n)
    out["own_loan_dpd_now"] = dpd.astype("int64")
    out["own_loans_written_off"] = off.astype("int64")
    oc = frames.outcomes
    if len(oc):
        bad = oc["defaulted"].astype(bool).to_numpy()
        out["past_defaults"] = _per_firm(np.where(bad, R.P.of(_ints(oc["firm_id"])), -1),
                                         n).astype("int64")
    else:
        out["past_defaults"] = np.zeros(n, dtype="int64")

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


def tax_period_bounds(text) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The period a firm record's VAT figure covers, as [start, end) timestamps: see
    :func:`trellis.onboarding.tax.period_bounds` (the one reading of such a period)."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return None
    bounds = tax_.period_bounds(str(text))
    return None if bounds is None else (pd.Timestamp(bounds[0]), pd.Timestamp(bounds[1]))


def _tax(frames: Frames, R: _Rows, out: dict) -> None:
    """Tax filing level and its ratio to the invoiced sales of the filing's own period.

    The figure and its period are the firm's declared tax as the frames read it from the
    one source (:func:`trellis.onboarding.tax.declared`); rejected invoices are no sales.

    The ratio is NaN (never zero) when there is no filing, its period cannot be read, the
    period has not ended by ``as_of``, or it starts before the frames' lookback (the
    platform's sales of the period are then not all known).
    """
    firms = frames.firms.loc[R.scope]
    tax = pd.to_numeric(firms["tax_vat_sales_fen"], errors="coerce")
    out["tax_sales_fen"] = tax.to_numpy()
    lo_ts, hi_ts = firms["tax_period_start"], firms["tax_period_end"]
    # a figure with a known period, over by as_of and within the lookback (NaT compares
    # false), as [lo, hi) in seconds and whole months
    known = (tax.notna() & lo_ts.notna() & hi_ts.notna() & ~(hi_ts > frames.as_of)
             & ~(lo_ts < frames.start)).to_numpy()
    lo, hi = _seconds(lo_ts), _seconds(hi_ts)
    span = (hi_ts.to_numpy().astype("datetime64[M]").astype("int64")
            - lo_ts.to_numpy().astype("datetime64[M]").astype("int64"))
    # each seller's invoices within its own period, rejected ones left out (no sale),
    # summed as integers
    mine = np.flatnonzero(R.s_pos >= 0)
    pos = R.s_pos[mine]
    day = R.issue[mine]
    inside = (known[pos] & (day >= lo[pos]) & (day < hi[pos])
              & (R.status[mine] != DocStatus.REJECTED.value))
    sums: np.ndarray = np.zeros(R.n, dtype="int64")
    np.add.at(sums, pos[inside], R.amount[mine][inside])
    flows = np.where(known, sums.astype(float), np.nan)
    out["tax_period_sales_fen"] = flows
    out["tax_period_months"] = np.where(known, span.astype(float), np.nan)
    out["tax_to_flow_ratio"] = _safe_div(tax.to_numpy(dtype=float), flows)
    founded = _seconds(firms["founded_on"])
    age = (R.now - founded).astype(float) / 86400.0 / 30.44
    out["firm_age_months"] = np.where(founded == np.iinfo("int64").min, np.nan, age)


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


def electricity(frames: Frames) -> pd.DataFrame:
    """The electricity rows of the meter readings (the cluster's part: kept on the firm
    path, and once per computation on the portfolio path, :func:`~.frames.computing`):
    the features and the meter screen each took them, four times a portfolio."""
    def make():
        u = frames.utility
        return u[u["utility"] == "electricity"]
    return kept(frames, "electricity", make)


def power_months(frames: Frames) -> pd.DataFrame:
    """Every firm with electricity readings x complete months back 1..12 (:func:`_monthly`)."""
    def make():
        power = electricity(frames)
        return _monthly(power, "quantity", frames.as_of, sorted(set(power["firm_id"].astype(int))))
    return kept(frames, "power_months", make)


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


def _power_arrays(frames: Frames):
    """(firm ids, firms x months 1..12 of kWh, output-per-kWh ids and values, industry ->
    peer median): the cluster's part of the meter features, kept on the firm path."""
    def make():
        A = power_months(frames)
        per_kwh, med = kept(frames, "output_per_kwh", lambda: _output_per_kwh(frames, A))
        peers = {i: float(m) for i, m, size in zip(med.index, med["median"], med["size"],
                                                   strict=True)
                 if size >= INDUSTRY_MIN_PEERS}
        return (A.index.to_numpy(dtype="int64"), A.to_numpy(dtype=float),
                per_kwh.index.to_numpy(dtype="int64"), per_kwh.to_numpy(dtype=float), peers)
    return kept(frames, "power_arrays", make)


def _rows_of(ids: np.ndarray, values: np.ndarray, wanted: np.ndarray, width: int = 0):
    """Rows of *values* (keyed by sorted unique *ids*) for *wanted* ids, NaN for the rest."""
    out = np.full((wanted.size, width) if width else wanted.size, np.nan)
    if ids.size and wanted.size:
        at = np.minimum(np.searchsorted(ids, wanted), ids.size - 1)
        hit = ids[at] == wanted
        out[hit] = values[at[hit]]
    return out


def _firm_months(R: _Rows, df: pd.DataFrame, value: str, months: int = 12) -> np.ndarray:
    """:func:`_monthly` as a firms x months array (scope order; NaN: no record)."""
    out = np.full((R.n, months), np.nan)
    if not len(df) or not R.n:
        return out
    pos = R.P.of(_ints(df["firm_id"]))
    month = df["month"].to_numpy().astype("datetime64[M]").astype("int64")
    k = (R.as_of.year - 1970) * 12 + R.as_of.month - 1 - month
    ok = (pos >= 0) & (k >= 1) & (k <= months)
    cell = pos[ok] * months + k[ok] - 1
    vals = np.nan_to_num(_floats(df[value])[ok])
    sums = np.bincount(cell, weights=vals, minlength=R.n * months)
    count = np.bincount(cell, minlength=R.n * months)
    return np.where(count > 0, sums, np.nan).reshape(R.n, months)


def _row_mean(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(non-NaN count, mean of the non-NaN values, NaN without any) per row."""
    n = (~np.isnan(M)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.nan_to_num(M).sum(axis=1) / n
    return n, np.where(n > 0, mean, np.nan)


def _meters(frames: Frames, R: _Rows, out: dict) -> None:
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
    ids, A, kwh_ids, per_kwh, peers = _power_arrays(frames)
    scope = R.P.ids
    P = _rows_of(ids, A, scope, A.shape[1] if A.ndim == 2 else 12)
    n, mean12 = _row_mean(P)
    n3, mean3 = _row_mean(P[:, :3])
    out["power_months_12m"] = np.where(n > 0, n, np.nan)
    out["power_kwh_month"] = mean12
    out["power_trend_3v12"] = np.where((n >= METER_MIN_READINGS) & (n3 >= 2),
                                       _safe_div(mean3, mean12) - 1.0, np.nan)
    mine = _rows_of(kwh_ids, per_kwh, scope)
    industry = frames.firms["industry"].reindex(R.scope).to_numpy()
    ref = np.array([peers.get(i, np.nan) for i in industry], dtype=float)
    out["output_per_kwh"] = mine
    out["output_per_kwh_vs_industry"] = _safe_div(mine, ref)
    H = _firm_months(R, frames.headcount, "headcount")
    has = ~np.isnan(H)
    anyv = has.any(axis=1)
    lo = np.argmax(has, axis=1)
    hi = H.shape[1] - 1 - np.argmax(has[:, ::-1], axis=1)
    at = np.arange(R.n)
    last = np.where(anyv, H[at, lo], np.nan)
    early = np.where(anyv, H[at, hi], np.nan)
    span = np.where(anyv, hi - lo, np.nan)
    out["headcount_now"] = last
    out["headcount_trend_12m"] = np.where(span >= 6, _safe_div(last, early) - 1.0, np.nan)
    # Recent movements, free of the season: the last 3 complete months against the 6
    # before them, and against the same 3 months a year before (at least 2 readings on
    # each side; NaN otherwise).
    power = electricity(frames)
    for name, M in (("power", _firm_months(R, power, "quantity", 18)),
                    ("headcount", _firm_months(R, frames.headcount, "headcount", 18))):
        n_a, recent = _row_mean(M[:, :3])
        n_b, before = _row_mean(M[:, 3:9])
        n_c, year = _row_mean(M[:, 12:15])
        out[f"{name}_trend_3v6"] = np.where((n_a >= 2) & (n_b >= 2),
                                            _safe_div(recent, before) - 1.0, np.nan)
        out[f"{name}_yoy_3m"] = np.where((n_a >= 2) & (n_c >= 2),
                                         _safe_div(recent, year) - 1.0, np.nan)
    # The meter against the invoices: the change of the firm's power use less the change
    # of its invoiced sales over the same months, against the same 3 months a year before
    # where both have them (the season cancels out of each), else the last 3 months
    # against the 6 before. Positive: the workshop ran on while platform sales fell (trade
    # moved to buyers off the platform, or sales still to be invoiced); negative: invoices
    # held up while the machines ran down. NaN without readings or sales history.
    yoy = out["power_yoy_3m"] - out["sales_yoy_3m"]
    out["power_vs_sales_change"] = np.where(
        np.isnan(yoy), out["power_trend_3v6"] - out["sales_trend_3v6"], yoy)


CHAIN_MIN_PEERS = 5


def main_anchor(frames: Frames) -> dict[int, int]:
    """Each firm's chain: the anchor it sells the most to over the graph's window; a firm
    selling to no anchor takes the chain of its largest buyer, a distributor (buying from
    an anchor, selling to none) the anchor it buys the most from. Firms without trade in
    the window have none. From the graph's edges only (the same on both paths)."""
    def make():
        edges = frames.edges
        anchors = set(_anchor_ids(frames).tolist())
        if not len(edges):
            return {}
        e = edges[["seller_id", "buyer_id", "volume_fen"]].astype({"volume_fen": float})
        e = e[e["volume_fen"] > 0].sort_values(["volume_fen", "seller_id", "buyer_id"],
                                               ascending=[False, True, True], kind="stable")
        to_anchor = e[e["buyer_id"].isin(anchors)]
        chain = {int(s_): int(b) for s_, b in to_anchor.drop_duplicates("seller_id")[
            ["seller_id", "buyer_id"]].itertuples(index=False)}
        top_buyer = {int(s_): int(b) for s_, b in e.drop_duplicates("seller_id")[
            ["seller_id", "buyer_id"]].itertuples(index=False)}
        for s_, b in top_buyer.items():
            if s_ not in chain and s_ not in anchors and b in chain:
                chain[s_] = chain[b]
        from_anchor = e[e["seller_id"].isin(anchors) & ~e["buyer_id"].isin(anchors)]
        for b, s_ in from_anchor.drop_duplicates("buyer_id")[
                ["buyer_id", "seller_id"]].itertuples(index=False):
            chain.setdefault(int(b), int(s_))
        return chain
    return kept(frames, "main_anchor", make)


def _cluster_power(frames: Frames) -> pd.DataFrame:
    """Every metered firm of the frames' clusters (index firm_id): its power over the last 3
    complete months against the 6 before (``trend``) and against the same 3 months a year
    before (``yoy``); NaN with fewer than 2 readings on either side. From the meter
    readings alone, which cover the whole cluster on both paths."""
    def make():
        power = electricity(frames)
        ids = np.asarray(sorted({int(f) for f in power["firm_id"]}), dtype="int64")
        P = _Rows.__new__(_Rows)
        P.as_of, P.n, P.P = frames.as_of, len(ids), _Positions(ids.tolist())
        M = _firm_months(P, power, "quantity", 18)
        n_a, recent = _row_mean(M[:, :3])
        n_b, before = _row_mean(M[:, 3:9])
        n_c, year = _row_mean(M[:, 12:15])
        trend = np.where((n_a >= 2) & (n_b >= 2), _safe_div(recent, before) - 1.0, np.nan)
        yoy = np.where((n_a >= 2) & (n_c >= 2), _safe_div(recent, year) - 1.0, np.nan)
        return pd.DataFrame({"trend": trend, "yoy": yoy}, index=pd.Index(ids, name="firm_id"))
    return kept(frames, "cluster_power", make)


def _group_medians(power: pd.DataFrame, group: dict) -> dict[str, dict]:
    """Per group (*group*: firm id -> its group, or None) the median of each power column
    over its firms with a value; groups with fewer than CHAIN_MIN_PEERS such firms left out.
    (``np.median`` of each group's values: the figure pandas' grouped median gave, the
    middle value or the mean of the two middle ones, without a grouping per column.)"""
    members: dict = {}
    for i, f in enumerate(power.index.tolist()):
        g = group.get(int(f))
        if g is not None:
            members.setdefault(g, []).append(i)
    result: dict[str, dict] = {}
    for name in ("trend", "yoy"):
        values = power[name].to_numpy(dtype=float)
        result[name] = {}
        for g, rows in members.items():
            v = values[rows]
            v = v[~np.isnan(v)]
            if v.size >= CHAIN_MIN_PEERS:
                result[name][g] = float(np.median(v))
    return result


def _chain(frames: Frames, R: _Rows, out: dict) -> None:
    """How the firm's chain (its main anchor's suppliers and distributors, :func:`main_anchor`)
    is doing: the median across the chain's firms with readings of the power trend (last 3
    complete months against the 6 before) and of the power against the same 3 months a
    year before. A shock to a sector or to one anchor's demand shows in every firm of the
    chain; the median of many meters measures it with less noise than one firm's own.
    NaN without a chain or with fewer than CHAIN_MIN_PEERS firms with readings."""
    stats = kept(frames, "chain_power",
                 lambda: _group_medians(_cluster_power(frames), main_anchor(frames)))
    chain = main_anchor(frames)
    of = [chain.get(int(f)) for f in R.scope]
    for name, col in (("trend", "chain_power_trend_3v6"), ("yoy", "chain_power_yoy_3m")):
        out[col] = np.array([stats[name].get(a, np.nan) if a is not None else np.nan
                             for a in of], dtype=float)


# A firm's industry in the national classification (GB/T 4754-2017, ``Firm.industry_code``)
# as a category: its division (``C36``: the section's letter and the division's digits, so
# that a table read back from CSV keeps it as text) when the firm's cluster holds at least
# DIVISION_MIN_FIRMS firms of that division, else its section (``C``) when the cluster's
# firms left in that section are as many, else ``other``; None when the data does not say.
DIVISION_MIN_FIRMS = 20
DIVISION_OTHER = "other"


def industry_division(frames: Frames) -> dict[int, str]:
    """Firm id -> its industry category (see DIVISION_MIN_FIRMS) for every firm of the
    frames' clusters with a known GB/T 4754 code. Counts whole clusters (their firms table),
    the same on both paths; no outcome is read."""
    def make():
        from trellis.trade import industries

        firms = frames.firms
        if "industry_code" not in firms:
            return {}
        known = firms[firms["industry_code"].notna() & (firms["industry_code"] != "")]
        codes = known["industry_code"].astype(str)
        cluster = known["cluster_id"].fillna(-1).astype("int64").to_numpy()
        division = [c if c.isdigit() else None for c in codes]
        section = [industries.section(c) for c in codes]
        n_div: dict = {}
        for k, d in zip(cluster, division, strict=True):
            if d is not None:
                n_div[(k, d)] = n_div.get((k, d), 0) + 1
        keep = [d is not None and n_div[(k, d)] >= DIVISION_MIN_FIRMS
                for k, d in zip(cluster, division, strict=True)]
        n_sec: dict = {}
        for k, s, kept_ in zip(cluster, section, keep, strict=True):
            if not kept_ and s is not None:
                n_sec[(k, s)] = n_sec.get((k, s), 0) + 1
        out = {}
        for fid, k, d, s, kept_ in zip(known["id"].astype("int64"), cluster, division,
                                       section, keep, strict=True):
            if kept_:
                out[int(fid)] = f"{s}{d}"
            elif s is not None and n_sec[(k, s)] >= DIVISION_MIN_FIRMS:
                out[int(fid)] = s
            else:
                out[int(fid)] = DIVISION_OTHER
        return out
    return kept(frames, "industry_division", make)


def _division(frames: Frames, R: _Rows, out: dict) -> None:
    """How the firm's industry is doing in its cluster (its category of
    :func:`industry_division`; ``other`` and unknown have none): the median across the
    category's metered firms of the power trend (last 3 complete months against the 6
    before) and of the power against the same 3 months a year before, as for the chain
    (:func:`_chain`). A downturn of one industry (cars, say) shows in all its firms
    whichever anchor they sell to. NaN with fewer than CHAIN_MIN_PEERS such firms. Then
    the firm's own power trend and year-on-year change less its industry's median.
    Label-free: meter readings and the firms table of the whole cluster, before as_of."""
    division = industry_division(frames)
    # firm id -> its cluster (-1 for none), as plain ints: a dict, not Series.get per firm
    # (20 µs a call, two calls per firm)
    ids = frames.firms.index.tolist()
    cluster = dict(zip(ids, frames.firms["cluster_id"].fillna(-1).astype("int64").tolist(),
                       strict=True))
    group = {f: (cluster.get(f, -1), d) for f, d in division.items()
             if d != DIVISION_OTHER}
    stats = kept(frames, "division_power",
                 lambda: _group_medians(_cluster_power(frames), group))
    of = [group.get(int(f)) for f in R.scope]
    for name, col in (("trend", "division_power_trend_3v6"),
                      ("yoy", "division_power_yoy_3m")):
        out[col] = np.array([stats[name].get(g, np.nan) if g is not None else np.nan
                             for g in of], dtype=float)
    # The firm's own power against its industry's: what is left when the industry's
    # season (apparel peaks in autumn, appliances in spring) and its shocks are taken out.
    # NaN when either is unknown (never 0: an unknown firm is not "like its industry").
    out["power_trend_3v6_vs_division"] = out["power_trend_3v6"] - out[
        "division_power_trend_3v6"]
    out["power_yoy_3m_vs_division"] = out["power_yoy_3m"] - out["division_power_yoy_3m"]
    # Against its peers: its industry's median when known, else the median of the park's
    # metered firms (CHAIN_MIN_PEERS of them at least), so that a firm of an unknown or rare
    # industry is still compared with the park's season rather than losing its meter.
    park = kept(frames, "park_power", lambda: _group_medians(
        _cluster_power(frames), cluster))
    park_trend = np.array([park["trend"].get(cluster.get(f, -1), np.nan)
                           for f in R.scope], dtype=float)
    out["power_trend_3v6_vs_peers"] = np.where(
        np.isnan(out["division_power_trend_3v6"]), out["power_trend_3v6"] - park_trend,
        out["power_trend_3v6_vs_division"])


def compute(frames: Frames, firm_ids: list[int] | None = None, *,
            dynamics: bool = True) -> pd.DataFrame:
    """One row per firm (index firm_id) with every feature; see the module docstring.
    Without *dynamics*, the columns of :mod:`trellis.scoring.dynamics` are left out: a
    scorecard that reads none of them is scored without their cost (issue 18)."""
    with computing(frames):
        return _compute(frames, list(frames.scope if firm_ids is None else firm_ids),
                        dynamics)


def _compute(frames: Frames, scope: list[int], with_dynamics: bool = True) -> pd.DataFrame:
    R = _Rows(frames, scope)
    out: dict[str, np.ndarray] = {}
    M = _sales(R, out)
    _buyers(frames, R, out)
    _lateness(frames, R, out)
    _documents(frames, R, out)
    _cash(frames, R, out)
    _tax(frames, R, out)
    net = network_features(frames, scope)
    for c in net.columns:
        out[c] = net[c].to_numpy()
    _meters(frames, R, out)
    _chain(frames, R, out)
    _division(frames, R, out)
    # imported here: the module builds on this one's helpers
    if with_dynamics:
        from trellis.scoring import dynamics
        dynamics.add(frames, R, M, out)
    X = pd.DataFrame(out, index=pd.Index(scope, name="firm_id"))
    firms = frames.firms.loc[scope]
    X["role"] = firms["role"].to_numpy()
    X["industry"] = firms["industry"].to_numpy()
    division = industry_division(frames)
    X["industry_division"] = pd.Series([division.get(int(f)) for f in scope],
                                       index=X.index, dtype=object)
    return X


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


def _plain_column(values: pd.Series) -> list:
    """:func:`_plain` of every value of a column: integer and float columns converted at
    once (``tolist`` gives Python ints and floats), anything else value by value."""
    kind = values.dtype.kind
    if kind in "iu":
        return values.to_numpy().tolist()
    if kind == "f":
        return _round6(values.to_numpy(dtype=float))
    return [_plain(v) for v in values.to_numpy(dtype=object)]


ROUND_SAFE = float(2 ** 40)  # |x * 1e6| below this: the product is off by under 2**-13


def _round6(x: np.ndarray) -> list:
    """``[None if v is NaN else round(v, 6) for v in x]``, the same floats, mostly at
    numpy speed: ``rint(x * 1e6) / 1e6`` is Python's correctly rounded ``round`` wherever
    the product is small enough to be off by under 2**-13 and lies more than 1e-3 from a
    half (then it rounds to the same integer as the exact product, and the division is
    the nearest float to that decimal, as ``round`` gives); every other value (NaN,
    large, near a tie) goes through ``round`` itself."""
    p = x * 1e6
    with np.errstate(invalid="ignore"):
        safe = (np.abs(p) < ROUND_SAFE) & (np.abs(p - np.floor(p) - 0.5) > 1e-3)
    out = np.where(safe, np.rint(p) / 1e6, x).tolist()
    for i in np.flatnonzero(~safe).tolist():
        v = out[i]
        out[i] = None if v != v else round(v, 6)
    return out


def records(features: pd.DataFrame) -> dict[int, dict]:
    """Every row of *features* as :func:`to_jsonable` would give it, in one pass."""
    cols = list(features.columns)
    if not cols:
        return {int(fid): {} for fid in features.index}
    n = len(features)
    kinds = [dtype.kind for dtype in features.dtypes]
    floats = [j for j, kind in enumerate(kinds) if kind == "f"]
    columns: list = [None] * len(cols)
    if floats:  # every float column rounded in one pass (column after column), then split
        flat = _round6(features.iloc[:, floats].to_numpy(dtype=float).T.ravel())
        for k, j in enumerate(floats):
            columns[j] = flat[k * n:(k + 1) * n]
    for j, kind in enumerate(kinds):
        if kind != "f":
            columns[j] = _plain_column(features.iloc[:, j])
    return {int(fid): dict(zip(cols, values, strict=True))
            for fid, values in zip(features.index.tolist(), zip(*columns, strict=True),
                                   strict=True)}
