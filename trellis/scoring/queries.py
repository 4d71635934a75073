"""Read models for the scoring pages and API: latest runs, distributions, percentiles.

Kept out of the views so the pages, the API and the CLI share them.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from trellis.db import id_of
from trellis.scoring import frames
from trellis.scoring.features import month_back
from trellis.scoring.models import PortfolioRun, ScoreRecord, StabilityReport
from trellis.trade.models import Firm

# Characteristics shown against the cluster's percentiles on a firm's page.
SHOWN = ("sales_12m_fen", "sales_trend_3v12", "sales_drawdown_3m", "sales_cv_12m",
         "active_share_12m", "buyer_hhi_12m", "top_buyer_share_12m",
         "anchor_confirmed_share_12m", "anchor_tenure_days", "buyer_late_days_12m",
         "own_late_days_12m", "overdue_share_now", "credit_note_rate_12m",
         "order_conversion_12m", "unbacked_share_12m", "debt_to_inflow", "tier", "pagerank",
         "anchor_pagerank", "neighbours_defaulted_share", "tax_to_flow_ratio", "history_months")


# Labels of shown features that no scorecard characteristic names (en, zh).
EXTRA_LABELS = {
    "sales_12m_fen": ("Sales, last 12 months", "近12个月销售额"),
    "buyer_hhi_12m": ("Buyer concentration (HHI)", "买方集中度（HHI）"),
    "unbacked_share_12m": ("Sales without order or delivery (share)", "无订单或交货的销售占比"),
    "tier": ("Tier (distance from the anchor)", "层级（距核心企业）"),
    "pagerank": ("Network importance (PageRank)", "网络重要性（PageRank）"),
    "anchor_pagerank": ("Closeness to anchors (personalised PageRank)",
                        "与核心企业的紧密度（个性化 PageRank）"),
}


def latest_run(session: Session, cluster_id: int | None) -> PortfolioRun | None:
    """The latest portfolio scoring run (of *cluster_id* when given), or None."""
    stmt = select(PortfolioRun).order_by(col(PortfolioRun.computed_at).desc(),
                                         col(PortfolioRun.id).desc())
    if cluster_id is not None:
        stmt = stmt.where(col(PortfolioRun.cluster_id) == cluster_id)
    return session.execute(stmt.limit(1)).scalars().first()


def run_records(session: Session, run_id: int) -> list[ScoreRecord]:
    """Every score record of portfolio run *run_id*."""
    return list(session.execute(select(ScoreRecord).where(col(ScoreRecord.run_id) == run_id)
                                ).scalars().all())


def distribution(records: list[ScoreRecord], width: int = 10) -> dict:
    """Score histogram, grade counts and review counts of one run."""
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


def percentiles(session: Session, firm: Firm, feats: dict) -> list[dict]:
    """Each shown feature's value and its percentile among the cluster's latest run."""
    run = latest_run(session, firm.cluster_id)
    pop = pd.DataFrame([r.features for r in run_records(session, id_of(run))
                        if r.features]) if run else pd.DataFrame()
    out = []
    for name in SHOWN:
        value = feats.get(name)
        pct = None
        if value is not None and name in pop:
            col = pd.to_numeric(pop[name], errors="coerce").dropna()
            if len(col):
                pct = float((col < value).mean() + 0.5 * (col == value).mean())
        med = None
        if name in pop:
            col = pd.to_numeric(pop[name], errors="coerce").dropna()
            med = float(col.median()) if len(col) else None
        out.append({"name": name, "value": value, "percentile": pct, "median": med})
    return out


def monthly_flows(session: Session, firm_id: int, as_of: date, months: int = 18) -> list[dict]:
    """Per month back from *as_of*: sales, purchases, receipts, credit notes (fen)."""
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
    add(inv, "issue_date", "sales_fen", inv["seller_id"] == firm_id)
    add(inv, "issue_date", "purchases_fen", inv["buyer_id"] == firm_id)
    add(fr.payments, "paid_on", "receipts_fen", fr.payments["payee_id"] == firm_id)
    add(fr.credit_notes, "issued_on", "credit_notes_fen", fr.credit_notes["seller_id"] == firm_id)
    out = []
    for k in reversed(range(months)):
        start = (fr.as_of - pd.DateOffset(months=k + 1)).date()
        out.append({"month": start.strftime("%Y-%m"), "from": start.isoformat(), **rows[k]})
    return out


def neighbours(session: Session, firm_id: int, as_of: date) -> list[dict]:
    """Trading partners of the last 12 months with volume and latest grade."""
    fr = frames.load(session=session, as_of=as_of, firm_ids=[firm_id])
    e = fr.edges[fr.edges["invoice_count"] > 0]
    rows = []
    for direction, mine, other in (("buyer", "seller_id", "buyer_id"),
                                   ("supplier", "buyer_id", "seller_id")):
        part = e[e[mine] == firm_id]
        for r in part.itertuples():
            oid = int(getattr(r, other))
            if oid not in fr.firms.index:
                continue
            f = fr.firms.loc[oid]
            rows.append({"firm_id": oid, "name": f["name"], "uscc": f["uscc"], "role": f["role"],
                         "direction": direction, "volume_fen": int(r.volume_fen),
                         "invoice_count": int(r.invoice_count)})
    ids = [r["firm_id"] for r in rows]
    grades = {}
    if ids:
        for fid, grade, score in session.execute(
                select(col(ScoreRecord.firm_id), col(ScoreRecord.grade), col(ScoreRecord.score))
                .where(col(ScoreRecord.firm_id).in_(ids))
                .order_by(col(ScoreRecord.computed_at), col(ScoreRecord.id))).all():
            grades[fid] = (grade, score)
    for r in rows:
        r["grade"], r["score"] = grades.get(r["firm_id"], (None, None))
    rows.sort(key=lambda r: (r["direction"], -r["volume_fen"]))
    return rows


def stability_reports(session: Session, version: str | None = None, limit: int = 20):
    """The latest stability reports (of scorecard *version* when given), newest first, at most
    *limit*."""
    stmt = select(StabilityReport).order_by(col(StabilityReport.computed_at).desc(),
                                            col(StabilityReport.id).desc()).limit(limit)
    if version:
        stmt = stmt.where(col(StabilityReport.scorecard_version) == version)
    return list(session.execute(stmt).scalars().all())
