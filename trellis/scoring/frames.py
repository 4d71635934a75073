"""Read the trade tables into pandas DataFrames, once each, as of a date.

Only rows dated strictly before ``as_of`` are read, so nothing computed from the frames
can leak the future. Confirmation times after ``as_of`` are blanked, for the same reason.
The whole portfolio (or one cluster) is read in one query per table; for one firm on
demand, only the rows that touch the firm (and the firms it trades with in short cycles)
are read, and the cluster's trade graph comes from one aggregate query. Both paths feed
the same feature and screen code.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import networkx as nx
import numpy as np
import pandas as pd
from cachetools import LRUCache
from pandas._libs import lib
from pandas.core.internals.construction import convert_object_array
from sqlalchemy import Date, Integer, bindparam, case, func, inspect, or_, select, true
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlmodel import Session
from sqlmodel import col as sql_col

from trellis.network.build import WINDOW_DAYS, edge_table
from trellis.onboarding import tax as tax_
from trellis.scoring import graph as graph_
from trellis.scoring.exposure import read_exposures
from trellis.scoring.graph import graph_day
from trellis.trade import readings
from trellis.trade.models import (
    Cluster,
    CreditNote,
    Delivery,
    DocStatus,
    Firm,
    Invoice,
    LoanOutcome,
    Payment,
    PaymentAllocation,
    PurchaseOrder,
    Relationship,
)

logger = logging.getLogger(__name__)

LOOKBACK_MONTHS = 36
# A loan's outcome is taken as known only once it could have matured: loans disbursed at
# least this many days before as_of. Loan outcomes carry no default date, and a default
# recorded later must not leak into a score as of an earlier date.
OUTCOME_KNOWN_DAYS = 180


@dataclass
class Frames:
    """The trade data visible on ``as_of``; ``scope`` is the set of firm ids to score."""

    as_of: pd.Timestamp
    firms: pd.DataFrame
    relationships: pd.DataFrame
    invoices: pd.DataFrame
    orders: pd.DataFrame
    deliveries: pd.DataFrame
    allocations: pd.DataFrame
    payments: pd.DataFrame
    credit_notes: pd.DataFrame
    outcomes: pd.DataFrame
    edges: pd.DataFrame
    exposures: pd.DataFrame = field(default_factory=pd.DataFrame)
    scope: list[int] = field(default_factory=list)
    # The supply graph (:mod:`.graph`), built on first use; for one firm on demand the
    # relationships of its whole cluster, which the graph needs for tiers.
    graph: object = None
    graph_relationships: pd.DataFrame | None = None
    # Monthly meter readings and headcount of complete months before as_of (empty when
    # the database has none): firm_id, utility, month, quantity / firm_id, month, headcount.
    utility: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"firm_id": pd.Series(dtype="int64"), "utility": pd.Series(dtype=object),
         "month": pd.Series(dtype="datetime64[s]"), "quantity": pd.Series(dtype=float)}))
    headcount: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"firm_id": pd.Series(dtype="int64"), "month": pd.Series(dtype="datetime64[s]"),
         "headcount": pd.Series(dtype=float)}))

    # For one firm on demand: values computed from the cluster's part alone (firms, edges,
    # graph, meter readings), shared by every call on the same cluster data version
    # (:func:`kept`). None on the portfolio path (kept there for one computation only,
    # :func:`computing`).
    kept: dict | None = None
    # Firm id -> its declared tax (:func:`trellis.onboarding.tax.declared` as of as_of) for
    # every firm of ``firms`` with one, as the tax columns were set from it: read once and
    # handed on (the scoring service gives it to the coverage); None when not read here.
    declared: dict | None = None

    @property
    def start(self) -> pd.Timestamp:
        """The first day of the look-back window (LOOKBACK_MONTHS before as_of)."""
        return self.as_of - pd.DateOffset(months=LOOKBACK_MONTHS)


def _schema(session: Session) -> str:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        return conn.exec_driver_sql("select current_schema()").scalar() or ""
    return ""


def database_key(session: Session) -> tuple[str, str]:
    """(engine URL, PostgreSQL schema or ""): the database part of a process cache's key."""
    return str(session.connection().engine.url), _schema(session)


def _utc_naive(series: pd.Series) -> pd.Series:
    """Timezone-aware or naive datetimes (both databases) as naive UTC datetime64."""
    if series.empty:
        return pd.to_datetime(series)
    out = pd.to_datetime(series, utc=True, format="mixed")
    return out.dt.tz_localize(None)


def _dates(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """Date columns as ``datetime64[s]``: ISO text (SQLite) and ``date`` objects
    (PostgreSQL) are converted by numpy at once (pandas' format guessing cost 20 µs a
    row); anything numpy does not read goes through ``pd.to_datetime`` as before."""
    for col in cols:
        values = df[col].to_numpy()
        if values.dtype == "datetime64[s]":
            continue  # parsed already (:func:`frame_of_rows`)
        parsed = None
        if values.dtype == object:
            try:
                parsed = values.astype("datetime64[s]")
            except (ValueError, TypeError):
                parsed = None
        df[col] = parsed if parsed is not None else pd.to_datetime(df[col]).astype(
            "datetime64[s]")
    return df


def _read(session: Session, stmt, dates: Iterable[str] = (), *,
          literal: bool = True, params: dict | None = None) -> pd.DataFrame:
    """Run *stmt* and return a DataFrame, fast: the driver's raw tuples go straight to
    pandas (SQLAlchemy's per-row result processing costs more than the query on large
    reads). *literal*: the statement's parameters (our own integers and dates) are
    rendered inline; otherwise they are bound, and the compiled statement is SQLAlchemy's
    cached one (the firm path runs the same few statements for every firm), with *params*
    for its bound parameters."""
    conn = session.connection()
    if literal:
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        result = conn.exec_driver_sql(sql)
    else:
        result = conn.execute(stmt, params or {})
    cursor = result.cursor
    columns = [d[0] for d in cursor.description]
    integers = {c.name for c in stmt.selected_columns
                if isinstance(c.type, Integer)} if hasattr(stmt, "selected_columns") else set()
    df = frame_of_rows(cursor.fetchall(), columns, integers=integers, dates=dates)
    result.close()
    return _dates(df, *dates)


def _convert(values: np.ndarray):
    """An object column as ``DataFrame.from_records`` converts it (pandas' own code)."""
    return convert_object_array([values], dtype=None)[0]


def frame_of_rows(rows: list, columns: list[str], *, integers: Iterable[str] = (),
                  dates: Iterable[str] = ()) -> pd.DataFrame:
    """``pd.DataFrame.from_records(rows, columns=columns)``, the same frame (dtypes and
    values; tests/scoring/test_frame_of_rows.py), for less CPU on large reads.

    The rows go into one two-dimensional object array as from_records puts them (pandas'
    ``to_object_array_tuples``: one pass in C), then column by column: from_records infers
    every column's type value by value; here a column of an integer type (*integers*)
    that pandas' type inference finds to hold integers only (no None, bool, float or
    text), all within int64, is cast by numpy at once, and a date column (*dates*) of ISO
    text only (SQLite) is parsed to ``datetime64[s]`` at once, as :func:`_dates` would
    parse it; any other column, or one of those with a value numpy does not read that way,
    is converted by pandas' own code as before."""
    if not rows or len(set(columns)) != len(columns):
        return pd.DataFrame.from_records(rows, columns=columns)
    table = lib.to_object_array_tuples(rows)
    if table.shape[1] != len(columns):
        return pd.DataFrame.from_records(rows, columns=columns)
    integers, dates = set(integers), set(dates)
    data = {}
    for j, name in enumerate(columns):
        values = table[:, j]
        out = None
        if name in integers and lib.infer_dtype(values, skipna=False) == "integer":
            try:
                out = values.astype(np.int64)
            except OverflowError:
                out = None
        elif name in dates and lib.infer_dtype(values, skipna=False) == "string":
            try:
                out = values.astype("datetime64[s]")
            except (ValueError, TypeError):
                out = None
        if out is None:
            out = _convert(values)
            if isinstance(out, np.ndarray) and out.base is table:
                out = out.copy()  # a column left as objects: not a view of the whole table
        data[name] = out
    # The arrays are this frame's own: taken as they are, not copied into consolidated
    # blocks (the same values and dtypes; a fifth of the time on the invoices).
    return pd.DataFrame(data, columns=columns, copy=False)


def edges_from_invoices(invoices: pd.DataFrame, as_of: pd.Timestamp,
                        known: set | None = None) -> pd.DataFrame:
    """The network area's edge table (:func:`trellis.network.build.edge_table`) of the
    invoices dated before *as_of*: the graph as of the day before."""
    return edge_table(invoices, graph_day(as_of), known=known)


def _edge_query(as_of: date, start: date, where):
    """The same aggregate as :func:`edges_from_invoices`, in SQL, for one cluster."""
    last = as_of - timedelta(days=1)
    window = Invoice.issue_date > last - timedelta(days=WINDOW_DAYS)
    confirmed = window & (Invoice.status == DocStatus.CONFIRMED.value) & (
        Invoice.confirmed_at < datetime.combine(as_of, time.min, tzinfo=UTC))
    return (select(sql_col(Invoice.seller_id), sql_col(Invoice.buyer_id),
                   func.sum(case((window, sql_col(Invoice.amount_fen)),
                                 else_=0)).label("volume_fen"),
                   func.sum(case((window, 1), else_=0)).label("invoice_count"),
                   func.sum(case((confirmed, sql_col(Invoice.amount_fen)), else_=0)
                            ).label("confirmed_fen"),
                   func.min(case((window, sql_col(Invoice.issue_date)))).label("first_day"),
                   func.max(case((window, sql_col(Invoice.issue_date)))).label("last_day"),
                   func.min(Invoice.issue_date).label("first_ever_day"))
            .where(sql_col(Invoice.issue_date) >= start, sql_col(Invoice.issue_date) <= last,
                   sql_col(Invoice.status) != DocStatus.REJECTED.value,
                   sql_col(Invoice.seller_id) != sql_col(Invoice.buyer_id), where)
            .group_by(sql_col(Invoice.seller_id), sql_col(Invoice.buyer_id)))


def _ordinals(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for col in cols:
        d = pd.to_datetime(df[col])
        df[col] = (d - pd.Timestamp("0001-01-01")).dt.days + 1
        df[col] = df[col].astype("float64")
    return df


# --- the cluster's part of the firm path, kept per data version ------------------------

@dataclass
class _Cluster:
    """What the firm path reads of its whole cluster; never changed once built."""

    firms: pd.DataFrame
    edges: pd.DataFrame
    relationships: pd.DataFrame
    graph: object
    utility: pd.DataFrame | None
    partners: dict[tuple, frozenset] = field(default_factory=dict)
    # The cluster's known loan outcomes (neighbours' defaults), read on first use.
    outcomes: pd.DataFrame | None = None
    derived: dict = field(default_factory=dict)


CLUSTER_CACHE_SIZE = 4
_CLUSTERS: LRUCache[tuple, _Cluster] = LRUCache(maxsize=CLUSTER_CACHE_SIZE)
_clusters_lock = threading.Lock()


def _cluster_key(session: Session, ids: list[int], as_of: date, lookback: int) -> tuple | None:
    """The key of the cluster part for *ids*, or None (not kept: a firm without a cluster).

    Every writer of a cluster's firms, relationships, invoices or readings bumps its
    ``Cluster.data_version`` (:func:`trellis.network.build.bump_data_version`); the key
    also holds the clusters' codes and creation times (ids reused after a rollback) and the
    highest ids of the tables read (rows added without a bump still change it; loan
    outcomes are written by the importer, which bumps)."""
    rows = session.execute(select(Firm.id, Firm.cluster_id).where(Firm.id.in_(ids))).all()
    if len(rows) != len(ids) or any(c is None for _, c in rows):
        return None
    cids = sorted({int(c) for _, c in rows})
    clusters = session.execute(select(Cluster.id, Cluster.code, Cluster.created_at,
                                      Cluster.data_version).where(Cluster.id.in_(cids))
                               .order_by(Cluster.id)).all()
    tops = list(session.execute(_tops_statement(readings.available(session))).one())
    return (*database_key(session), as_of, lookback,
            tuple((c.id, c.code, str(c.created_at), c.data_version) for c in clusters),
            tuple(tops))


@lru_cache(maxsize=2)
def _tops_statement(with_readings: bool):
    """One statement of the highest ids :func:`_cluster_key` holds (built once)."""
    names = [m.__table__.name for m in (Firm, Invoice, Relationship, LoanOutcome)]
    names += ["utility_readings"] if with_readings else []
    return select(*(select(func.max(sa_column("id"))).select_from(sa_table(name))
                    .scalar_subquery() for name in names))


def _cluster_get(key: tuple | None) -> _Cluster | None:
    if key is None:
        return None
    with _clusters_lock:
        return _CLUSTERS.get(key)


def _cluster_put(key: tuple | None, ctx: _Cluster) -> None:
    if key is None:
        return
    with _clusters_lock:
        _CLUSTERS[key] = ctx


def kept(frames: Frames, key, make):
    """*make()*, computed once per cluster data version on the firm path (*make* must
    read only the cluster's part of *frames*: firms, edges, graph, utility)."""
    store = frames.kept
    if store is None:
        return make()
    if key not in store:
        store[key] = make()
    return store[key]


@contextmanager
def computing(frames: Frames) -> Iterator[None]:
    """Within: what :func:`kept` computes is kept for the rest of the block on the portfolio
    path too (``frames.kept`` None), where the chain, industry and park figures each ask
    for the same cluster values (the meter trends, each firm's main anchor, the industry
    categories): computed once instead of three times. Forgotten at the end, so that a
    caller changing *frames* afterwards (a test replacing the readings) gets fresh values."""
    if frames.kept is not None:
        yield
        return
    frames.kept = {}
    try:
        yield
    finally:
        frames.kept = None


def clear_cache() -> None:
    """Forget every kept cluster part (tests; after changes made outside the services)."""
    with _clusters_lock:
        _CLUSTERS.clear()


def _read_utility(session: Session, start: date, month_end: date, scoped) -> pd.DataFrame:
    u = readings.UTILITY_READINGS
    utility = _read(session, select(u.c.firm_id, u.c.utility, u.c.month, u.c.quantity)
                    .where(u.c.month < month_end, u.c.month >= start,
                           # the whole cluster on both paths: industry benchmarks
                           scoped(u.c.firm_id)), ["month"])
    utility["quantity"] = utility["quantity"].astype(float)
    return utility


def _tax_records(firms: pd.DataFrame) -> dict[int, tuple] | None:
    """Firm id -> the tax columns of its record as read (``tax_vat_sales_fen``,
    ``tax_paid_fen``, ``tax_period``; None for empty) for :func:`trellis.onboarding.tax.declared`,
    which need not read them again; None (read them) when a figure may not be exact here
    (a float column holding 2**53 fen or more)."""
    sales = firms["tax_vat_sales_fen"].to_numpy(dtype=float)
    paid = firms["tax_paid_fen"].to_numpy(dtype=float)
    if (np.abs(sales) >= 2.0 ** 53).any() or (np.abs(paid) >= 2.0 ** 53).any():
        return None
    periods = firms["tax_period"].tolist()
    return {int(f): (None if s != s else int(s), None if p != p else int(p),
                     t if isinstance(t, str) else None)
            for f, s, p, t in zip(firms.index.tolist(), sales.tolist(), paid.tolist(),
                                  periods, strict=True)}


def _declared_tax(session: Session, firms: pd.DataFrame, as_of: date
                  ) -> tuple[pd.DataFrame, dict]:
    """(*firms* with the tax columns set from the one source of a firm's declared tax
    (:func:`trellis.onboarding.tax.declared`, the figure the pages show): the figure, its
    period as written, the period as [``tax_period_start``, ``tax_period_end``) (NaT when
    unknown) and ``tax_source`` (``filing`` / ``firm_record``); the declared figures read,
    by firm id)."""
    found = tax_.declared(session=session, firm_ids=firms.index.tolist(), as_of=as_of,
                          records=_tax_records(firms))
    ids = firms.index
    # Floats with NaN for none, as a nullable integer column always read: the same dtype
    # on the portfolio and the firm path (exact below 2**53 fen).
    firms["tax_vat_sales_fen"] = np.array(
        [found[i].vat_sales_fen if i in found else np.nan for i in ids], dtype=float)
    firms["tax_paid_fen"] = np.array(
        [found[i].tax_paid_fen if i in found and found[i].tax_paid_fen is not None
         else np.nan for i in ids], dtype=float)
    firms["tax_period"] = [found[i].period if i in found else None for i in ids]
    firms["tax_period_start"] = pd.to_datetime(
        [found[i].start if i in found else None for i in ids])
    firms["tax_period_end"] = pd.to_datetime(
        [found[i].end if i in found else None for i in ids])
    firms["tax_source"] = [found[i].source if i in found else None for i in ids]
    return firms, found


def _cluster_read(session: Session, as_of: date, as_of_ts: pd.Timestamp, start: date, where,
                  firms_stmt) -> _Cluster:
    """Read and build the cluster part of the firm path (see :func:`load`)."""
    firms = _read(session, firms_stmt, ["founded_on"]).set_index("id", drop=False)
    firms.index.name = None
    firms, _found = _declared_tax(session, firms, as_of)
    members = select(Firm.id).where(where)
    in_clusters = or_(Invoice.seller_id.in_(members), Invoice.buyer_id.in_(members))
    edges = _ordinals(_read(session, _edge_query(as_of, start, in_clusters)),
                      "first_day", "last_day", "first_ever_day")
    relationships = _read(session, select(
        Relationship.supplier_id, Relationship.buyer_id, Relationship.since,
        Relationship.payment_terms_days).where(
        Relationship.since < as_of, Relationship.supplier_id.in_(members)), ["since"])
    probe = Frames(as_of=as_of_ts, firms=firms, relationships=relationships,
                   invoices=pd.DataFrame(), orders=pd.DataFrame(), deliveries=pd.DataFrame(),
                   allocations=pd.DataFrame(), payments=pd.DataFrame(),
                   credit_notes=pd.DataFrame(), outcomes=pd.DataFrame(), edges=edges)
    G = graph_.of(probe)
    nx.freeze(G)  # shared between calls: graph_ keeps its analytics on a frozen graph
    utility = None
    if readings.available(session):
        month_end = date(as_of.year, as_of.month, 1)
        utility = _read_utility(session, start, month_end,
                                lambda col, *_: col.in_(members))
    return _Cluster(firms=firms, edges=edges, relationships=relationships, graph=G,
                    utility=utility)


def _statements(start, as_of, known_before, month_end, scoped, with_readings: bool) -> dict:
    """The statements of the scope's rows of each trade table (and the headcount readings
    when *with_readings*), dated within [*start*, *as_of*); *scoped(a, b)* restricts a
    table to the scope by its firm columns. The dates are values (the portfolio path,
    rendered inline) or bound parameters (:func:`_firm_statements`)."""
    out = {
        "invoices": select(
            sql_col(Invoice.id), sql_col(Invoice.seller_id), sql_col(Invoice.buyer_id),
            sql_col(Invoice.number), sql_col(Invoice.amount_fen), sql_col(Invoice.issue_date),
            sql_col(Invoice.due_date), sql_col(Invoice.order_id), sql_col(Invoice.status),
            sql_col(Invoice.confirmed_at)).where(
            Invoice.issue_date >= start, Invoice.issue_date < as_of,
            scoped(Invoice.seller_id, Invoice.buyer_id)),
        "orders": select(
            sql_col(PurchaseOrder.id), sql_col(PurchaseOrder.buyer_id),
            sql_col(PurchaseOrder.seller_id), sql_col(PurchaseOrder.amount_fen),
            sql_col(PurchaseOrder.order_date), PurchaseOrder.status).where(
            PurchaseOrder.order_date >= start, PurchaseOrder.order_date < as_of,
            scoped(PurchaseOrder.seller_id, PurchaseOrder.buyer_id)),
        "deliveries": select(
            sql_col(Delivery.order_id), sql_col(Delivery.delivered_on),
            sql_col(Delivery.amount_fen)).join(
            PurchaseOrder, sql_col(PurchaseOrder.id) == sql_col(Delivery.order_id)).where(
            sql_col(Delivery.delivered_on) < as_of, sql_col(Delivery.delivered_on) >= start,
            scoped(PurchaseOrder.seller_id, PurchaseOrder.buyer_id)),
        "allocations": select(
            sql_col(PaymentAllocation.invoice_id), sql_col(PaymentAllocation.amount_fen),
            sql_col(Payment.paid_on)).join(
            Payment, Payment.id == PaymentAllocation.payment_id).where(
            Payment.paid_on < as_of, Payment.paid_on >= start,
            scoped(Payment.payer_id, Payment.payee_id)),
        "payments": select(
            sql_col(Payment.payer_id), sql_col(Payment.payee_id), sql_col(Payment.amount_fen),
            sql_col(Payment.paid_on)).where(
            Payment.paid_on < as_of, Payment.paid_on >= start,
            scoped(Payment.payer_id, Payment.payee_id)),
        "credit_notes": select(
            sql_col(CreditNote.seller_id), sql_col(CreditNote.buyer_id),
            sql_col(CreditNote.invoice_id), sql_col(CreditNote.amount_fen),
            sql_col(CreditNote.issued_on), sql_col(CreditNote.reason)).where(
            CreditNote.issued_on < as_of, CreditNote.issued_on >= start,
            scoped(CreditNote.seller_id, CreditNote.buyer_id)),
        "relationships": select(
            sql_col(Relationship.supplier_id), sql_col(Relationship.buyer_id),
            sql_col(Relationship.since), sql_col(Relationship.payment_terms_days)).where(
            Relationship.since < as_of,
            scoped(Relationship.supplier_id, Relationship.buyer_id)),
    }
    if with_readings:
        h = readings.HEADCOUNT_RECORDS
        out["headcount"] = select(h.c.firm_id, h.c.month, h.c.headcount).where(
            h.c.month < month_end, h.c.month >= start, scoped(h.c.firm_id))
    return out


@lru_cache(maxsize=2)
def _firm_statements(with_readings: bool) -> dict:
    """The firm path's statements, built once: the dates and the firms involved
    (``involve``, an expanding list) are bound parameters."""
    involve = bindparam("involve", expanding=True)

    def scoped(col_a, col_b=None):
        cond = col_a.in_(involve)
        return or_(cond, col_b.in_(involve)) if col_b is not None else cond

    return _statements(bindparam("start", type_=Date), bindparam("as_of", type_=Date),
                       bindparam("known_before", type_=Date),
                       bindparam("month_end", type_=Date), scoped, with_readings)


FIRM_COLUMNS = (Firm.id, Firm.uscc, Firm.name, Firm.role, Firm.industry, Firm.industry_code,
                Firm.cluster_id, Firm.phone, Firm.address, Firm.bank_account, Firm.legal_rep,
                Firm.founded_on, Firm.tax_vat_sales_fen, Firm.tax_paid_fen, Firm.tax_period)


def _outcomes_statement(known_before, scoped):
    """The known loan outcomes of the scope: disbursed before *known_before*."""
    return select(
        sql_col(LoanOutcome.firm_id), sql_col(LoanOutcome.disbursed_on),
        sql_col(LoanOutcome.amount_fen), sql_col(LoanOutcome.defaulted)).where(
        LoanOutcome.disbursed_on < known_before, scoped(LoanOutcome.firm_id))


@lru_cache(maxsize=4)
def _portfolio_statements(with_readings: bool, by_cluster: bool) -> dict:
    """The portfolio path's statements (one cluster when *by_cluster*, else every firm),
    built once: the dates and the cluster are bound parameters (``start``, ``as_of``,
    ``known_before``, ``month_end``, ``cluster_id``), so SQLAlchemy compiles each once per
    process instead of rendering every statement with its values on every run."""
    cluster = bindparam("cluster_id", type_=Integer)
    in_cluster = select(Firm.id).where(Firm.cluster_id == cluster)

    def scoped(col_a, col_b=None):
        """A WHERE clause restricting a table to the cluster's firms (everything without
        one). "+ 0" keeps SQLite from one index probe per firm (an OR of two
        IN-subqueries); a scan of the date range with a hashed membership test is three
        times faster. PostgreSQL hashes the subquery either way."""
        if not by_cluster:
            return true()
        cond = (col_a + 0).in_(in_cluster)
        return or_(cond, (col_b + 0).in_(in_cluster)) if col_b is not None else cond

    start, as_of, known_before, month_end = (bindparam(name, type_=Date) for name in (
        "start", "as_of", "known_before", "month_end"))
    out = _statements(start, as_of, known_before, month_end, scoped, with_readings)
    firms = select(*FIRM_COLUMNS)
    out["firms"] = firms.where(Firm.cluster_id == cluster) if by_cluster else firms
    out["outcomes"] = _outcomes_statement(known_before, scoped)
    if with_readings:
        u = readings.UTILITY_READINGS
        out["utility"] = select(u.c.firm_id, u.c.utility, u.c.month, u.c.quantity).where(
            u.c.month < month_end, u.c.month >= start, scoped(u.c.firm_id))
    return out


def load(*, session: Session, as_of: date, cluster_id: int | None = None,
         firm_ids: Iterable[int] | None = None, lookback_months: int = LOOKBACK_MONTHS,
         cache: bool = True) -> Frames:
    """Read the frames for a cluster (or every firm), or for a few firms on demand.

    *as_of* is the scoring date: only data dated before it is read. With *firm_ids*,
    the invoices and the rest are limited to those firms and to the firms they form short
    trading cycles with; the graph and the firms table still cover their clusters, and
    are kept between calls until the cluster's data version changes (*cache* false: read
    and build them afresh).
    """
    as_of_ts = pd.Timestamp(as_of)
    start = (as_of_ts - pd.DateOffset(months=lookback_months)).date()

    firm_stmt = select(*FIRM_COLUMNS)
    ids = sorted(set(firm_ids)) if firm_ids is not None else None
    if ids is not None:
        clusters = select(sql_col(Firm.cluster_id)).where(sql_col(Firm.id).in_(ids))
        where = or_(sql_col(Firm.cluster_id).in_(clusters), sql_col(Firm.id).in_(ids))
    elif cluster_id is not None:
        where = Firm.cluster_id == cluster_id
    else:
        where = None
    if where is not None:
        firm_stmt = firm_stmt.where(where)
    in_cluster = select(Firm.id).where(where) if where is not None else None

    def scoped(col_a, col_b=None):
        """A WHERE clause restricting a table to the firms of the clusters in scope, for
        the firm path's reads of its whole clusters (as :func:`_portfolio_statements`)."""
        assert in_cluster is not None
        cond = (col_a + 0).in_(in_cluster)
        return or_(cond, (col_b + 0).in_(in_cluster)) if col_b is not None else cond

    # The cluster's part, for the firm path: the firms table, the trade graph's edges (one
    # aggregate query), the relationships, the frozen graph and its analytics, the meter
    # readings (industry benchmarks). Kept per cluster data version (:func:`_cluster_key`).
    utility = None
    declared = None
    known_before = as_of - timedelta(days=OUTCOME_KNOWN_DAYS)
    month_end = date(as_of.year, as_of.month, 1)
    with_readings = readings.available(session)
    params = {"start": start, "as_of": as_of, "known_before": known_before,
              "month_end": month_end}
    if ids is not None:
        key = _cluster_key(session, ids, as_of, lookback_months) if cache else None
        ctx = _cluster_get(key)
        if ctx is None:
            ctx = _cluster_read(session, as_of, as_of_ts, start, where, firms_stmt=firm_stmt)
            _cluster_put(key, ctx)
        firms, edges, graph_relationships, G = (ctx.firms, ctx.edges, ctx.relationships,
                                                ctx.graph)
        utility = ctx.utility
        in_cluster = select(Firm.id).where(where)
        partners = ctx.partners.get(tuple(ids))
        if partners is None:
            partners = frozenset(n for c in graph_.cycles(G, through=ids) for n in c)
            ctx.partners[tuple(ids)] = partners
        involve = sorted(set(ids) | partners)
        stmts = _firm_statements(with_readings)
        params["involve"] = involve
    else:
        # The portfolio's statements are the same on every run: built once with bound
        # parameters (:func:`_portfolio_statements`), compiled once by SQLAlchemy's cache.
        stmts = _portfolio_statements(with_readings, cluster_id is not None)
        if cluster_id is not None:
            params["cluster_id"] = cluster_id
        firms = _read(session, stmts["firms"], ["founded_on"], literal=False,
                      params=params).set_index("id", drop=False)
        firms.index.name = None
        firms, declared = _declared_tax(session, firms, as_of)
        # The firms in scope as a subquery (a cluster may hold tens of thousands of firms).
        in_cluster = select(Firm.id).where(where) if where is not None else None
        edges = None
        involve = None
        G = None
        graph_relationships = None

    # The statements of either path are built once with bound parameters and compiled
    # once by SQLAlchemy's cache (:func:`_firm_statements`, :func:`_portfolio_statements`).
    invoices = _read(session, stmts["invoices"], ["issue_date", "due_date"], literal=False,
                     params=params)
    invoices["confirmed_at"] = _utc_naive(invoices["confirmed_at"])
    late = invoices["confirmed_at"] >= as_of_ts
    invoices.loc[late, "confirmed_at"] = pd.NaT
    invoices.loc[late & (invoices["status"] == "confirmed"), "status"] = "pending"
    if edges is None:
        edges = edges_from_invoices(invoices, as_of_ts, known=set(firms["id"].tolist()))

    orders = _read(session, stmts["orders"], ["order_date"], literal=False, params=params)
    deliveries = _read(session, stmts["deliveries"], ["delivered_on"], literal=False,
                       params=params)
    allocations = _read(session, stmts["allocations"], ["paid_on"], literal=False,
                        params=params)
    payments = _read(session, stmts["payments"], ["paid_on"], literal=False, params=params)
    credit_notes = _read(session, stmts["credit_notes"], ["issued_on"], literal=False,
                         params=params)
    relationships = _read(session, stmts["relationships"], ["since"], literal=False,
                          params=params)

    if ids is None:
        outcomes = _read(session, stmts["outcomes"], ["disbursed_on"], literal=False,
                         params=params)
    elif ctx.outcomes is not None:
        outcomes = ctx.outcomes  # the cluster's, kept with its part
    else:
        # the cluster's known outcomes: literal, read once per cluster part
        outcomes = _read(session, _outcomes_statement(known_before, scoped), ["disbursed_on"])
        ctx.outcomes = outcomes

    headcount = None
    if with_readings:
        if ids is None:
            utility = _read(session, stmts["utility"], ["month"], literal=False,
                            params=params)
            utility["quantity"] = utility["quantity"].astype(float)
        headcount = _read(session, stmts["headcount"], ["month"], literal=False, params=params)
        headcount["headcount"] = headcount["headcount"].astype(float)

    # Features read the debt of the firms in scope only.
    exposures = read_exposures(session=session, firm_ids=in_cluster if ids is None else involve,
                               as_of=as_of)

    if ids is not None:
        scope = [i for i in ids if i in firms.index]
    else:
        scope = firms["id"].tolist()
    logger.debug("frames as of %s: %d firms, %d invoices", as_of, len(firms), len(invoices))
    return Frames(as_of=as_of_ts, firms=firms, relationships=relationships, invoices=invoices,
                  orders=orders, deliveries=deliveries, allocations=allocations,
                  payments=payments, credit_notes=credit_notes, outcomes=outcomes,
                  edges=edges, exposures=exposures, scope=scope, graph=G,
                  graph_relationships=graph_relationships,
                  kept=ctx.derived if ids is not None else None, declared=declared,
                  **({} if headcount is None else {"utility": utility, "headcount": headcount}))


def documents_stamp(session: Session, firm_id: int) -> tuple:
    """What changes when a firm's documents may have: its cluster's code, creation time
    and data version, and the highest ids of firms, invoices, payment allocations and
    credit notes (five index look-ups)."""
    cluster = session.execute(select(Cluster.id, Cluster.code, Cluster.created_at,
                                     Cluster.data_version)
                              .join(Firm, Firm.cluster_id == Cluster.id)
                              .where(Firm.id == firm_id)).one_or_none()
    return (None if cluster is None else tuple(str(x) for x in cluster),
            *(session.execute(select(func.max(col))).scalar()
              for col in (Firm.id, Invoice.id, PaymentAllocation.id, CreditNote.id)))


def seller_documents(*, session: Session, firm_id: int, as_of: date) -> Frames:
    """The firm's sales invoices as :func:`load` reads them for the firm (dated in the
    lookback window before *as_of*, late confirmations blanked), with the allocations
    and credit notes against them and the firms of its cluster: what the limit needs,
    read by the invoices' seller index instead of the whole firm path."""
    as_of_ts = pd.Timestamp(as_of)
    start = (as_of_ts - pd.DateOffset(months=LOOKBACK_MONTHS)).date()
    cluster = select(Firm.cluster_id).where(Firm.id == firm_id).scalar_subquery()
    firms = _read(session, select(Firm.id, Firm.role, Firm.cluster_id).where(
        or_(Firm.cluster_id == cluster, Firm.id == firm_id))).set_index("id", drop=False)
    firms.index.name = None
    invoices = _read(session, select(
        Invoice.id, Invoice.seller_id, Invoice.buyer_id, Invoice.number, Invoice.amount_fen,
        Invoice.issue_date, Invoice.due_date, Invoice.order_id, Invoice.status,
        Invoice.confirmed_at).where(Invoice.seller_id == firm_id, Invoice.issue_date >= start,
                                    Invoice.issue_date < as_of), ["issue_date", "due_date"])
    invoices["confirmed_at"] = _utc_naive(invoices["confirmed_at"])
    late = invoices["confirmed_at"] >= as_of_ts
    invoices.loc[late, "confirmed_at"] = pd.NaT
    invoices.loc[late & (invoices["status"] == "confirmed"), "status"] = "pending"
    mine = select(Invoice.id).where(Invoice.seller_id == firm_id)
    allocations = _read(session, select(
        PaymentAllocation.invoice_id, PaymentAllocation.amount_fen, Payment.paid_on)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.invoice_id.in_(mine), Payment.paid_on < as_of,
               Payment.paid_on >= start,
               or_(Payment.payer_id == firm_id, Payment.payee_id == firm_id)), ["paid_on"])
    credit_notes = _read(session, select(
        CreditNote.seller_id, CreditNote.buyer_id, CreditNote.invoice_id, CreditNote.amount_fen,
        CreditNote.issued_on, CreditNote.reason).where(
        CreditNote.seller_id == firm_id, CreditNote.issued_on < as_of,
        CreditNote.issued_on >= start), ["issued_on"])
    empty = pd.DataFrame()
    return Frames(as_of=as_of_ts, firms=firms, relationships=empty, invoices=invoices,
                  orders=empty, deliveries=empty, allocations=allocations, payments=empty,
                  credit_notes=credit_notes, outcomes=empty, edges=empty, scope=[firm_id])


def restrict(fr: Frames, as_of: date) -> Frames:
    """The frames as :func:`load` would read them on an earlier *as_of* (same scope).

    For scoring one cluster at many past dates from one read: load once at the latest date
    with ``lookback_months`` reaching 36 months before the earliest date, then restrict.
    """
    ts = pd.Timestamp(as_of)
    start = ts - pd.DateOffset(months=LOOKBACK_MONTHS)

    def window(df, col):
        return df[(df[col] < ts) & (df[col] >= start)].copy()

    inv = window(fr.invoices, "issue_date")
    late = inv["confirmed_at"] >= ts
    inv.loc[late, "confirmed_at"] = pd.NaT
    inv.loc[late & (inv["status"] == "confirmed"), "status"] = "pending"
    known = ts - pd.Timedelta(days=OUTCOME_KNOWN_DAYS)
    month_start = pd.Timestamp(ts.year, ts.month, 1)
    return Frames(
        as_of=ts, firms=fr.firms,
        relationships=fr.relationships[fr.relationships["since"] < ts],
        invoices=inv, orders=window(fr.orders, "order_date"),
        deliveries=window(fr.deliveries, "delivered_on"),
        allocations=window(fr.allocations, "paid_on"), payments=window(fr.payments, "paid_on"),
        credit_notes=window(fr.credit_notes, "issued_on"),
        outcomes=fr.outcomes[fr.outcomes["disbursed_on"] < known],
        edges=edges_from_invoices(inv, ts, known=set(fr.firms["id"].tolist())),
        exposures=fr.exposures, scope=list(fr.scope),
        utility=fr.utility[(fr.utility["month"] < month_start)
                           & (fr.utility["month"] >= start)],
        headcount=fr.headcount[(fr.headcount["month"] < month_start)
                               & (fr.headcount["month"] >= start)])


def table_exists(session: Session, name: str) -> bool:
    """Whether the database has table *name* (a cluster's optional data may not be migrated yet)."""
    return inspect(session.connection()).has_table(name)


__all__ = ["Frames", "load", "restrict", "edges_from_invoices", "table_exists"]
