"""Data coverage: which kinds of data, over which periods, each firm's data holds.

A screen or feature that needs a kind of data a firm's sources never provided must say
"not assessable" rather than read the absence as evidence (no deliveries imported is not
the same as invoices with no delivery behind them). A kind counts as *covered* for a firm
when its cluster's data holds that kind at all (the source provides it: then a firm with
none of it genuinely has none) or the firm itself has rows of it.

:func:`kinds_by_firm` is the small interface the scoring screens call (through the
scoring service); :func:`firm_coverage` and :func:`cluster_coverage` feed the pages.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from trellis.onboarding import tax as tax_
from trellis.trade.models import (
    CreditNote,
    Delivery,
    DocStatus,
    Firm,
    HeadcountRecord,
    Invoice,
    LoanOutcome,
    Payment,
    PurchaseOrder,
    Relationship,
    TaxFiling,
    UtilityReading,
)

#: Kinds in the order the pages show them, with their names in English and Chinese.
KIND_LABELS = {
    "relationships": ("supply relationships", "供应关系"),
    "orders": ("orders", "订单"),
    "deliveries": ("deliveries", "交货"),
    "invoices": ("invoices", "发票"),
    "confirmations": ("confirmation status (确权)", "确权状态"),
    "payments": ("payments", "付款"),
    "credit_notes": ("credit notes and returns", "红字发票和退货"),
    "tax_filings": ("tax filings", "纳税申报"),
    "loans": ("historical loans", "历史贷款"),
    "electricity": ("electricity readings", "用电量"),
    "headcount": ("social-insurance headcount", "社保人数"),
}

IN_CHUNK = 900
_GRACE = timedelta(days=31)  # invoices starting within a month of a period's start cover it


def _chunks(ids: list[int]):
    for i in range(0, len(ids), IN_CHUNK):
        yield ids[i:i + IN_CHUNK]


def _firm_queries():
    """kind -> (firm id column, date column, select-from) for per-firm rows of each kind."""
    return {
        "relationships": (Relationship.supplier_id, Relationship.since, Relationship),
        "orders": (PurchaseOrder.seller_id, PurchaseOrder.order_date, PurchaseOrder),
        "deliveries": (PurchaseOrder.seller_id, Delivery.delivered_on,
                       Delivery.__table__.join(PurchaseOrder.__table__,
                                               Delivery.order_id == PurchaseOrder.id)),
        "invoices": (Invoice.seller_id, Invoice.issue_date, Invoice),
        "payments": (Payment.payee_id, Payment.paid_on, Payment),
        "credit_notes": (CreditNote.seller_id, CreditNote.issued_on, CreditNote),
        "tax_filings": (TaxFiling.firm_id, TaxFiling.period_end, TaxFiling),
        "loans": (LoanOutcome.firm_id, LoanOutcome.disbursed_on, LoanOutcome),
        "electricity": (UtilityReading.firm_id, UtilityReading.month, UtilityReading),
        "headcount": (HeadcountRecord.firm_id, HeadcountRecord.month, HeadcountRecord),
    }


def _per_firm(session: Session, firm_ids: list[int], as_of: date | None,
              kinds: set[str] | frozenset[str] | None = None) -> dict:
    """kind -> {firm id: (rows, first date, last date)} for *firm_ids*; only the *kinds*
    given (default every kind)."""
    out: dict[str, dict[int, tuple]] = {}
    for kind, (firm_col, day_col, source) in _firm_queries().items():
        if kinds is not None and kind not in kinds:
            continue
        found: dict[int, tuple] = {}
        for chunk in _chunks(firm_ids):
            q = (select(firm_col, func.count(), func.min(day_col), func.max(day_col))
                 .select_from(source).where(firm_col.in_(chunk)).group_by(firm_col))
            if kind == "electricity":
                q = q.where(col(UtilityReading.utility) == "electricity")
            if as_of is not None and kind not in ("tax_filings",):
                q = q.where(day_col <= as_of)
            for fid, n, first, last in session.execute(q):
                found[int(fid)] = (int(n), first, last)
        if kind == "tax_filings":
            # a firm's declared tax may come on its own record (the firm file's tax
            # columns, trellis.onboarding.tax.declared) instead of a filing: it is tax data
            # too, one record, its period not dated here (reader 10, R7: the park read
            # "纳税申报 0 / 303：未导入" while every risk page showed a park median)
            for chunk in _chunks([f for f in firm_ids if f not in found]):
                for (fid,) in session.execute(select(col(Firm.id)).where(
                        col(Firm.id).in_(chunk), col(Firm.tax_vat_sales_fen).is_not(None))):
                    found[int(fid)] = (1, None, None)
        out[kind] = found
    if kinds is not None and "confirmations" not in kinds:
        return out
    # Confirmation status: invoices the buyer confirmed or rejected (not all pending).
    found = {}
    for chunk in _chunks(firm_ids):
        q = (select(col(Invoice.seller_id), func.count(), func.min(col(Invoice.issue_date)),
                    func.max(Invoice.issue_date))
             .where(col(Invoice.seller_id).in_(chunk),
                    col(Invoice.status) != DocStatus.PENDING.value)
             .group_by(col(Invoice.seller_id)))
        for fid, n, first, last in session.execute(q):
            found[int(fid)] = (int(n), first, last)
    out["confirmations"] = found
    return out


def _cluster_of(session: Session, firm_ids: list[int]) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    for chunk in _chunks(firm_ids):
        out.update(dict(session.execute(select(col(Firm.id), col(Firm.cluster_id))
                                        .where(col(Firm.id).in_(chunk))).tuples().all()))
    return out


def kinds_by_firm(*, session: Session, firm_ids: list[int], as_of: date | None = None,
                  by_cluster: dict[int, set[str]] | None = None,
                  declared: dict[int, tax_.Declared] | None = None,
                  cluster_of: dict[int, int | None] | None = None,
                  present: dict[int, set[str]] | None = None) -> dict[int, dict]:
    """Firm id -> ``{"kinds": frozenset of covered kinds, "tax": filing figures or None}``.

    A kind is covered when the firm's cluster holds any row of it, or the firm has rows
    of it. ``tax`` compares the latest filing whose period ended by *as_of* with the
    firm's invoiced sales *within that period* (``declared_fen``, ``platform_fen``,
    ``period_start``, ``period_end``, ``invoices_cover_period``). *by_cluster*: what
    :func:`cluster_kinds` answered for the firms' clusters, when the caller kept it;
    *declared*: what :func:`trellis.onboarding.tax.declared` answered as of *as_of* for
    (at least) these firms, and *cluster_of*: each firm's cluster id, when the caller
    read them already (the scorer's frames hold both): the same answer, fewer reads;
    *present*: kinds the caller saw rows of in each cluster (see :func:`cluster_kinds`).
    """
    if not firm_ids:
        return {}
    firm_ids = sorted(set(int(f) for f in firm_ids))
    if cluster_of is None:
        cluster_of = _cluster_of(session, firm_ids)
    clusters = sorted({c for c in cluster_of.values() if c is not None})
    if by_cluster is None:
        by_cluster = cluster_kinds(session=session, cluster_ids=clusters, present=present)
    # A kind the firm's cluster holds is covered whatever the firm's own rows: the firms'
    # rows are read only for the kinds some firm's cluster lacks (usually none, so a
    # firm costs no grouped query at all).
    lacking: set[str] = set()
    for c in {cluster_of.get(f) for f in firm_ids}:
        lacking |= set(KIND_LABELS) - set(by_cluster.get(c, ()) if c is not None else ())
    per_firm = _per_firm(session, firm_ids, as_of, lacking) if lacking else {}
    if declared is None:
        declared = tax_.declared(session=session, firm_ids=firm_ids, as_of=as_of)
    else:
        declared = {f: declared[f] for f in firm_ids if f in declared}
    tax = tax_in_period(session=session, firm_ids=firm_ids, as_of=as_of, declared=declared)
    out = {}
    for fid in firm_ids:
        cluster = cluster_of.get(fid)
        kinds = set(by_cluster.get(cluster, ()) if cluster is not None else ())
        kinds |= {k for k, found in per_firm.items() if fid in found}
        if fid in declared:
            kinds.add("tax_filings")
        out[fid] = {"kinds": frozenset(kinds), "tax": tax.get(fid)}
    return out


@lru_cache(maxsize=1)
def _stamp_statement():
    """One statement of every highest id :func:`rows_stamp` reads (built once)."""
    tables = {src for _c, _d, src in _firm_queries().values()} | {Invoice}
    tops = []
    for src in sorted(tables, key=str):
        model: Any = getattr(src, "__table__", src)  # a table, or a join of two
        table = model.left if hasattr(model, "left") else model
        tops.append(select(func.max(table.c.id)).scalar_subquery())
    return select(*tops)


def rows_stamp(session: Session) -> tuple:
    """The highest id of every table a kind is read from: a kind's first row anywhere
    changes it (for callers that keep :func:`cluster_kinds` between calls). One query."""
    return tuple(session.execute(_stamp_statement()).one())


def cluster_kinds(*, session: Session, cluster_ids: list[int],
                  present: dict[int, set[str]] | None = None) -> dict[int, set[str]]:
    """Cluster id -> the kinds its data holds at all.

    One ``EXISTS`` per cluster and kind, the cluster's firms joined to each table by its
    firm index: the database stops at the first row found instead of grouping every row.
    *present*: cluster id -> kinds the caller has seen rows of already (a row of the kind
    whose firm, by the column read here, is of the cluster: the scorer's frames): those
    are not asked again."""
    out: dict[int, set[str]] = {c: set() for c in cluster_ids}
    if not cluster_ids:
        return out
    for cid in cluster_ids:
        seen = set(present.get(cid, ())) & set(KIND_LABELS) if present else set()
        out[cid] |= seen
        for kind, (firm_col, _day, source) in _firm_queries().items():
            if kind in seen:
                continue
            q = (select(col(Firm.id)).select_from(Firm).join(source, firm_col == Firm.id)
                 .where(col(Firm.cluster_id) == cid))
            if kind == "electricity":
                q = q.where(col(UtilityReading.utility) == "electricity")
            if session.execute(select(q.exists())).scalar():
                out[cid].add(kind)
        if "confirmations" not in seen:
            q = (select(col(Firm.id)).select_from(Firm)
                 .join(Invoice, col(Invoice.seller_id) == Firm.id)
                 .where(col(Firm.cluster_id) == cid,
                        col(Invoice.status) != DocStatus.PENDING.value))
            if session.execute(select(q.exists())).scalar():
                out[cid].add("confirmations")
        if "tax_filings" not in out[cid]:
            q = select(col(Firm.id)).where(col(Firm.cluster_id) == cid,
                                           col(Firm.tax_vat_sales_fen).is_not(None))
            if session.execute(select(q.exists())).scalar():
                out[cid].add("tax_filings")  # declared on the firm records (tax.declared)
    return out


def tax_in_period(*, session: Session, firm_ids: list[int], as_of: date | None = None,
                  declared: dict[int, tax_.Declared] | None = None) -> dict[int, dict]:
    """Firm id -> its declared tax (:func:`trellis.onboarding.tax.declared`: the latest
    filing whose period ended before *as_of*, else the firm record's figure) beside the
    invoiced sales of the same period, rejected invoices left out; firms whose figure has
    no known period ended before *as_of* are absent. ``invoices_cover_period`` is false
    when the firm's invoices start after the period starts (then the comparison is not
    assessable); ``source`` says where the figure was declared."""
    if declared is None:
        declared = tax_.declared(session=session, firm_ids=firm_ids, as_of=as_of)
    wanted = {fid: d for fid, d in declared.items()
              if d.start is not None and d.end is not None
              and (as_of is None or d.ended_by(as_of))}
    if not wanted:
        return {}
    # Set-based: the firms of one period together (filings share a few periods), one
    # grouped query per period and 900 firms, which reads each firm's invoices once for
    # both its sales within the period and its first invoice ever.
    by_period: dict[tuple[date, date], list[int]] = {}
    for fid, d in wanted.items():
        assert d.start is not None and d.end is not None
        by_period.setdefault((d.start, d.end), []).append(fid)
    platform: dict[int, int] = {}
    ever_first: dict[int, date] = {}
    for (start, end), fids in by_period.items():
        inside = ((col(Invoice.status) != DocStatus.REJECTED.value)
                  & (col(Invoice.issue_date) >= start) & (col(Invoice.issue_date) < end))
        for ids in _chunks(sorted(fids)):
            for f, total, first in session.execute(
                    select(col(Invoice.seller_id),
                           func.sum(case((inside, col(Invoice.amount_fen)), else_=0)),
                           func.min(Invoice.issue_date))
                    .where(col(Invoice.seller_id).in_(ids))
                    .group_by(col(Invoice.seller_id))):
                platform[int(f)] = int(total)
                ever_first[int(f)] = first
    out = {}
    for fid, d in wanted.items():
        assert d.start is not None and d.end is not None
        first = ever_first.get(fid)
        out[fid] = {"declared_fen": d.vat_sales_fen, "platform_fen": platform.get(fid, 0),
                    "period_start": d.start.isoformat(),
                    "period_end": (d.end - timedelta(days=1)).isoformat(),
                    "source": d.source,
                    "invoices_cover_period": first is not None
                    and first <= d.start + _GRACE}
    return out


def firm_coverage(*, session: Session, firm_id: int) -> list[dict]:
    """Each kind for one firm: rows, first and last date, and whether it is covered."""
    per_firm = _per_firm(session, [firm_id], None)
    cid = _cluster_of(session, [firm_id]).get(firm_id)
    in_cluster = cluster_kinds(session=session, cluster_ids=[cid]).get(cid, set()) \
        if cid is not None else set()
    declared = tax_.declared(session=session, firm_ids=[firm_id]).get(firm_id)
    rows = []
    for kind, (en, zh) in KIND_LABELS.items():
        n, first, last = per_firm.get(kind, {}).get(firm_id, (0, None, None))
        row = {"kind": kind, "en": en, "zh": zh, "rows": n, "first": first,
               "last": last, "covered": n > 0 or kind in in_cluster,
               "source_has_kind": kind in in_cluster}
        if kind == "tax_filings" and declared is not None:
            # The figure the scorer reads, labelled with where it was declared.
            row.update(covered=True, declared=declared)
        rows.append(row)
    return rows


def cluster_coverage(*, session: Session, cluster_id: int) -> list[dict]:
    """Each kind for one cluster: firms with data, rows, first and last date."""
    firm_ids = list(session.execute(select(col(Firm.id)).where(col(Firm.cluster_id) == cluster_id))
                    .scalars())
    per_firm = _per_firm(session, firm_ids, None) if firm_ids else {}
    rows = []
    for kind, (en, zh) in KIND_LABELS.items():
        found = per_firm.get(kind, {})
        firsts = [v[1] for v in found.values() if v[1] is not None]
        lasts = [v[2] for v in found.values() if v[2] is not None]
        rows.append({"kind": kind, "en": en, "zh": zh, "firms": len(found),
                     "of_firms": len(firm_ids), "rows": sum(v[0] for v in found.values()),
                     "first": min(firsts, default=None), "last": max(lasts, default=None)})
    return rows
