"""Read models for the scoring pages and API: latest runs, distributions, percentiles.

Kept out of the views so the pages, the API and the CLI share them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd
from cachetools import LRUCache, cached
from sqlalchemy import ColumnElement, case, func, literal, or_, select
from sqlmodel import Session, col

from trellis.network.build import WINDOW_DAYS
from trellis.paging import Page, paginate, search_condition
from trellis.scoring import frames, policy
from trellis.scoring.features import month_back
from trellis.scoring.models import PortfolioRun, ScoreRecord, StabilityReport
from trellis.trade.models import Cluster, DocStatus, Firm, Invoice

# Characteristics shown against the cluster's percentiles on a firm's page.
SHOWN = ("sales_12m_fen", "sales_trend_3v12", "sales_drawdown_3m", "sales_cv_12m",
         "active_share_12m", "buyer_hhi_12m", "top_buyer_share_12m",
         "anchor_confirmed_share_12m", "anchor_tenure_days", "buyer_late_days_12m",
         "own_late_days_12m", "overdue_share_now", "credit_note_rate_12m",
         "order_conversion_12m", "unbacked_share_12m", "debt_to_inflow", "tier", "pagerank",
         "anchor_pagerank", "neighbours_defaulted_share", "tax_to_flow_ratio", "history_months")


# Labels of shown features that no scorecard characteristic names (en, zh).
EXTRA_LABELS = {
    # the 12 whole months before the scoring date (features.month_back), not the 12 up
    # to the day the page is read
    "sales_12m_fen": ("Sales in the 12 months before the scoring date", "评分日前12个月销售额"),
    "own_late_days_12m": ("Own days late to suppliers, last 12 months",
                          "近12个月向供应商付款逾期天数"),
    "buyer_hhi_12m": ("Buyer concentration (0-100%)", "买方集中度（0–100%）"),
    "unbacked_share_12m": ("Sales without order or delivery (share)", "无订单或交货的销售占比"),
    "tier": ("Tier (distance from the anchor)", "层级（距核心企业）"),
    "pagerank": ("Network weight (share of the cluster)", "网络权重（占全园区的份额）"),
    "anchor_pagerank": ("Closeness to anchors (share of the cluster)",
                        "与核心企业的紧密度（占全园区的份额）"),
}


#: Labels that say exactly what the figure covers, over the words a scorecard stored before
#: they were made exact (a card keeps the labels it was saved with).
EXACT_LABELS = ("sales_12m_fen",)


def latest_run(session: Session, cluster_id: int | None) -> PortfolioRun | None:
    """The latest portfolio scoring run (of *cluster_id* when given), or None."""
    stmt = select(PortfolioRun).order_by(col(PortfolioRun.computed_at).desc(),
                                         col(PortfolioRun.id).desc())
    if cluster_id is not None:
        stmt = stmt.where(col(PortfolioRun.cluster_id) == cluster_id)
    return session.execute(stmt.limit(1)).scalars().first()


def find_firms(session: Session, *, cluster_ids: Sequence[int] | None, q: str,
               page: int = 1, per_page: int = 50) -> Page:
    """Firms of *cluster_ids* (None: every cluster) whose name or USCC holds *q*, or whose
    number (the id in its risk page's address) is *q*, flagged or not: the firm of that
    number first, then by name; a page of rows (id, name, uscc, cluster name) with the
    count of all that match."""
    q = q.strip()
    match = search_condition(q, [col(Firm.name), col(Firm.uscc)])
    first: ColumnElement[int] = literal(1)
    if q.isascii() and q.isdigit() and len(q) < 10:
        match = or_(match, col(Firm.id) == int(q))
        first = case((col(Firm.id) == int(q), 0), else_=1)
    query = (select(col(Firm.id), col(Firm.name), col(Firm.uscc), col(Cluster.name))
             .outerjoin(Cluster, col(Cluster.id) == col(Firm.cluster_id)).where(match)
             .order_by(first, col(Firm.name), col(Firm.id)))
    if cluster_ids is not None:
        query = query.where(col(Firm.cluster_id).in_(list(cluster_ids) or [-1]))
    # no sort keys: the order above is the only one
    return paginate(session, query, sort_columns={}, page=page, per_page=per_page, q=q)


def run_records(session: Session, run_id: int) -> list[ScoreRecord]:
    """Every score record of portfolio run *run_id*."""
    return list(session.execute(select(ScoreRecord).where(col(ScoreRecord.run_id) == run_id)
                                ).scalars().all())


def _run_key(session: Session, run: PortfolioRun) -> tuple:
    return (*frames.database_key(session), run.id, str(run.computed_at), run.n_firms)


_OVERVIEWS: LRUCache[tuple, tuple[dict, list]] = LRUCache(maxsize=16)


@cached(_OVERVIEWS, key=_run_key, lock=threading.Lock())
def run_overview(session: Session, run: PortfolioRun) -> tuple[dict, list]:
    """Run *run*'s :func:`distribution` and its flagged records (rows of ``firm_id``,
    ``score``, ``grade``, ``insufficient``, ``flags``), for the scoring index.

    Only those five columns are read (a record also holds some 70 features, its reasons
    and more, which the index does not show), and the answer is kept per run: a run's
    records are written once, with the run, and never changed (:func:`_run_key`). The
    distribution and rows are shared between callers: read them, do not change them."""
    rows = session.execute(select(
        col(ScoreRecord.firm_id), col(ScoreRecord.score), col(ScoreRecord.grade),
        col(ScoreRecord.insufficient), col(ScoreRecord.flags))
        .where(col(ScoreRecord.run_id) == run.id).order_by(col(ScoreRecord.id))).all()
    return distribution(rows), [r for r in rows if r.flags]


def distribution(records: Sequence, width: int = 10) -> dict:
    """Score histogram, grade counts and review counts of one run (*records*: score
    records, or rows with their ``score``, ``grade``, ``insufficient`` and ``flags``)."""
    scores = [r.score for r in records if r.score is not None]
    grades = {g: 0 for g in "ABCDE"}
    for r in records:
        if r.grade:
            grades[r.grade] += 1
    hist = []
    if scores:
        lo = (min(scores) // width) * width
        hi = (max(scores) // width + 1) * width
        counts, edges = np.histogram(scores, bins=np.arange(lo, hi + width, width))
        hist = [{"from": int(e), "to": int(e + width), "count": int(c)}
                for e, c in zip(edges[:-1], counts, strict=True)]
    return {"n": len(records), "scored": len(scores),
            "insufficient": sum(r.insufficient for r in records),
            "flagged": sum(bool(r.flags) for r in records),
            "median": float(np.median(scores)) if scores else None,
            "grades": grades, "histogram": hist}


# Per run: each shown feature's population (the numeric values of the run's records, as
# pandas read them) and its median. A run's records are written once, with the run, and
# never changed, so the key is the run (database, schema, id, time, size): a new run or a
# rolled-back and reused id is a different key.
_POPULATIONS: LRUCache[tuple, dict[str, tuple[np.ndarray, float | None]]] = LRUCache(maxsize=16)


def _populations(session: Session, run: PortfolioRun | None
                 ) -> dict[str, tuple[np.ndarray, float | None]]:
    return {} if run is None else _run_populations(session, run)


@cached(_POPULATIONS, key=_run_key, lock=threading.Lock())
def _run_populations(session: Session, run: PortfolioRun
                     ) -> dict[str, tuple[np.ndarray, float | None]]:
    # Only the shown features, taken out of each record's JSON by the database (SQLite's
    # json_extract, PostgreSQL's ->>): a record holds some 70 features, and parsing them
    # all in Python, then a data frame of them, was most of the first page after a rescore.
    rows = session.execute(select(*(ScoreRecord.features[name].as_float() for name in SHOWN))
                           .where(col(ScoreRecord.run_id) == run.id,
                                  col(ScoreRecord.features).is_not(None))).all()
    # plain tuples: numpy probing each Row for array attributes costs more than the read
    table = np.array([tuple(r) for r in rows], dtype=float).reshape(len(rows), len(SHOWN))
    out: dict[str, tuple[np.ndarray, float | None]] = {}
    for i, name in enumerate(SHOWN):
        values = table[:, i]
        values = values[~np.isnan(values)]
        if len(values):
            out[name] = (values, float(np.median(values)))
    return out


def percentiles(session: Session, firm: Firm, feats: dict) -> list[dict]:
    """Each shown feature's value and its percentile among the cluster's latest run.

    The run's populations are read once per run and kept (:func:`_populations`)."""
    pops = _populations(session, latest_run(session, firm.cluster_id))
    out = []
    for name in SHOWN:
        value = feats.get(name)
        pct = med = None
        if name in pops:
            col, med = pops[name]
            if value is not None and len(col):
                pct = float((col < value).mean() + 0.5 * (col == value).mean())
        out.append({"name": name, "value": value, "percentile": pct, "median": med})
    return out


def monthly_flows(session: Session, firm_id: int, as_of: date, months: int = 18) -> list[dict]:
    """Per month back from *as_of*: sales, purchases, receipts, credit notes (fen). A month
    is the window the features count (:func:`month_back`: from the day of *as_of* a month
    back to the day before it), labelled by its first and last day, so that a bar reads as
    the same period as the reasons (reader 11, F19: a bar labelled "2025-11" held the
    invoices of 1 and 3 December); rejected invoices are no sales, as for the features."""
    fr = frames.load(session=session, as_of=as_of, firm_ids=[firm_id])
    rows = {k: {"sales_fen": 0, "purchases_fen": 0, "receipts_fen": 0, "credit_notes_fen": 0}
            for k in range(months)}

    def add(df, date_col, key, mask):
        d = df[mask]
        if d.empty:
            return
        k = month_back(d[date_col], fr.as_of)
        for kk, amount in d.groupby(k)["amount_fen"].sum().items():
            if 0 <= kk < months:
                rows[int(kk)][key] += int(amount)

    inv = fr.invoices
    kept = inv["status"] != DocStatus.REJECTED.value
    add(inv, "issue_date", "sales_fen", (inv["seller_id"] == firm_id) & kept)
    add(inv, "issue_date", "purchases_fen", (inv["buyer_id"] == firm_id) & kept)
    add(fr.payments, "paid_on", "receipts_fen", fr.payments["payee_id"] == firm_id)
    add(fr.credit_notes, "issued_on", "credit_notes_fen", fr.credit_notes["seller_id"] == firm_id)
    out = []
    for k in reversed(range(months)):
        start = (fr.as_of - pd.DateOffset(months=k + 1)).date()
        end = (fr.as_of - pd.DateOffset(months=k)).date() - timedelta(days=1)
        out.append({"month": f"{start.isoformat()}–{end:%m-%d}", "from": start.isoformat(),
                    "to": end.isoformat(), **rows[k]})
    return out


# Per firm and day: its trading partners' grouped volumes (an anchor's groups some 100,000
# invoices). Kept while the cluster's trade data stays the same: every writer of a cluster's
# invoices (an import, an entry, a confirmation or rejection) bumps its data version, and the
# highest invoice id is in the key too (rows added without a bump are still seen).
_PARTNERS: LRUCache[tuple, list[dict]] = LRUCache(maxsize=256)


def _partners_key(session: Session, firm: Firm, as_of: date) -> tuple:
    cluster = session.execute(select(col(Cluster.code), col(Cluster.created_at),
                                     col(Cluster.data_version))
                              .where(col(Cluster.id) == firm.cluster_id)).one()
    top = session.execute(select(func.max(col(Invoice.id)))).scalar()
    return (*frames.database_key(session), firm.id, firm.cluster_id, as_of, cluster.code,
            str(cluster.created_at), cluster.data_version, top)


@cached(_PARTNERS, key=_partners_key, lock=threading.Lock())
def _partners(session: Session, firm: Firm, as_of: date) -> list[dict]:
    """The firm's partners each way with volume and count (no grades), largest first."""
    last = as_of - timedelta(days=1)
    start = (pd.Timestamp(as_of) - pd.DateOffset(months=frames.LOOKBACK_MONTHS)).date()
    since = max(start - timedelta(days=1), last - timedelta(days=WINDOW_DAYS))
    rows = []
    for direction, mine, other in (("buyer", col(Invoice.seller_id), col(Invoice.buyer_id)),
                                   ("supplier", col(Invoice.buyer_id), col(Invoice.seller_id))):
        stmt = (select(other, col(Firm.name), col(Firm.uscc), col(Firm.role),
                       func.sum(col(Invoice.amount_fen)), func.count())
                .join(Firm, col(Firm.id) == other)
                .where(mine == firm.id, other != firm.id,
                       col(Firm.cluster_id) == firm.cluster_id,
                       col(Invoice.issue_date) > since, col(Invoice.issue_date) <= last,
                       col(Invoice.status) != DocStatus.REJECTED.value)
                .group_by(other, col(Firm.name), col(Firm.uscc), col(Firm.role))
                .order_by(other))
        for oid, name, uscc, role, volume, count in session.execute(stmt).all():
            rows.append({"firm_id": int(oid), "name": name, "uscc": uscc, "role": role,
                         "direction": direction, "volume_fen": int(volume),
                         "invoice_count": int(count)})
    rows.sort(key=lambda r: (r["direction"], -r["volume_fen"]))
    return rows


def _with_grades(session: Session, rows: list[dict]) -> list[dict]:
    """Copies of *rows* with each partner's latest grade and score (None when unscored),
    and ``held``: the grade waits for a person's review of fraud warnings
    (:func:`policy.fraud_flags`)."""
    ids = [r["firm_id"] for r in rows]
    grades = {}
    if ids:
        # each partner's latest record only (by its firm-and-time index), not its history
        rank = func.row_number().over(
            partition_by=col(ScoreRecord.firm_id),
            order_by=(col(ScoreRecord.computed_at).desc(), col(ScoreRecord.id).desc()))
        latest = (select(col(ScoreRecord.firm_id), col(ScoreRecord.grade),
                         col(ScoreRecord.score), col(ScoreRecord.flags), rank.label("rank"))
                  .where(col(ScoreRecord.firm_id).in_(ids)).subquery())
        for fid, grade, score, flags in session.execute(
                select(latest.c.firm_id, latest.c.grade, latest.c.score, latest.c.flags)
                .where(latest.c.rank == 1)).all():
            grades[fid] = (grade, score, bool(policy.fraud_flags(flags)))
    out = []
    for r in rows:
        grade, score, held = grades.get(r["firm_id"], (None, None, False))
        out.append({**r, "grade": grade, "score": score, "held": held})
    return out


def neighbours(session: Session, firm_id: int, as_of: date) -> list[dict]:
    """Trading partners of the last 12 months with volume and latest grade.

    The supply graph's edges at this firm (:func:`frames.edges_from_invoices`: the 365 days
    up to the day before *as_of*, rejected invoices and self-trade left out), partners of
    its own cluster only; two grouped reads by the invoices' seller and buyer indexes, kept
    while the cluster's trade data stays the same."""
    firm = session.get(Firm, firm_id)
    if firm is None or firm.cluster_id is None:
        return []
    return _with_grades(session, _partners(session, firm, as_of))


def largest_neighbours(session: Session, firm_id: int, as_of: date,
                       top: int) -> tuple[list[dict], int]:
    """The *top* largest partners each way of :func:`neighbours` (buyers first, each way by
    volume), with grades read for those only, and how many partners there are in all."""
    firm = session.get(Firm, firm_id)
    if firm is None or firm.cluster_id is None:
        return [], 0
    rows = _partners(session, firm, as_of)
    shown = ([r for r in rows if r["direction"] == "buyer"][:top]
             + [r for r in rows if r["direction"] == "supplier"][:top])
    return _with_grades(session, shown), len(rows)


def stability_reports(session: Session, version: str | None = None, limit: int = 20):
    """The latest stability reports (of scorecard *version* when given), newest first, at most
    *limit*."""
    stmt = select(StabilityReport).order_by(col(StabilityReport.computed_at).desc(),
                                            col(StabilityReport.id).desc()).limit(limit)
    if version:
        stmt = stmt.where(col(StabilityReport.scorecard_version) == version)
    return list(session.execute(stmt).scalars().all())


def newest_grades(cluster_id: int):
    """The statement for each firm of cluster *cluster_id* and its newest risk grade in the
    cluster (newest by ``computed_at``, then id), one row per graded firm: a look-up per
    firm on the (firm, computed_at) index, not every grade the cluster ever had (a nightly
    rescore adds a row per firm each day)."""
    newest = (select(col(ScoreRecord.id))
              .where(col(ScoreRecord.firm_id) == col(Firm.id),
                     col(ScoreRecord.cluster_id) == cluster_id,
                     col(ScoreRecord.grade).is_not(None))
              .order_by(col(ScoreRecord.computed_at).desc(), col(ScoreRecord.id).desc())
              .limit(1).correlate(Firm).scalar_subquery())
    return (select(col(Firm.id), col(ScoreRecord.grade))
            .join(ScoreRecord, col(ScoreRecord.id) == newest)
            .where(col(Firm.cluster_id) == cluster_id))
