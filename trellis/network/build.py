"""Build a cluster's supply-chain graph from the trade tables.

Nodes are firm ids with the attributes ``uscc, name, role, industry, region, phone,
bank_account, address``. Edges run supplier -> buyer (the way goods flow; money flows the
other way) and carry:

- ``volume_fen``: invoiced amount (int fen) issued in the 12 months up to ``as_of``;
- ``invoice_count``: invoices in that window;
- ``confirmed_fen``: the part of ``volume_fen`` the buyer has confirmed (确权);
- ``tenure_days``: days from the first invoice (or the relationship's ``since`` date, if
  earlier) to ``as_of``;
- ``first_date`` / ``last_date``: first and last invoice date in the window (``None``
  when the edge exists only as a relationship or has older invoices only);
- ``payment_terms_days``: from the relationship row, when there is one.

Rejected invoices and anything issued after ``as_of`` are left out. Only firms of the
cluster and trade between them are in the graph.

:func:`cluster_graph` reads one query per table into pandas and caches the frozen graph per
(database, cluster, ``Cluster.data_version``, ``as_of``): every import bumps the data
version (:func:`bump_data_version`), so the next call rebuilds.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta

import networkx as nx
import numpy as np
import pandas as pd
from cachetools import LRUCache
from sqlalchemy import String, cast, select, update
from sqlmodel import Session, col

from trellis import clock
from trellis.messages import N_, msg
from trellis.trade.errors import ClusterNotFound
from trellis.trade.models import Cluster, DocStatus, Firm, Invoice, Relationship

logger = logging.getLogger(__name__)

WINDOW_DAYS = 365
FIRM_COLUMNS = ("id", "uscc", "name", "role", "industry", "region", "phone", "bank_account",
                "address")
INVOICE_COLUMNS = ("seller_id", "buyer_id", "amount_fen", "issue_date", "status")
RELATIONSHIP_COLUMNS = ("supplier_id", "buyer_id", "since", "payment_terms_days")
CACHE_SIZE = 8

_cache: LRUCache[tuple, nx.DiGraph] = LRUCache(maxsize=CACHE_SIZE)
_cache_lock = threading.Lock()


_ORDINAL_1970 = date(1970, 1, 1).toordinal()


def _day_numbers(column: pd.Series) -> np.ndarray:
    """Dates (``datetime.date`` objects, datetime64 or ISO strings) as proleptic ordinals:
    integer arithmetic is much faster than Timestamps for grouping and comparing."""
    if len(column) == 0:
        return np.zeros(0, dtype=np.int64)
    if column.dtype == object and isinstance(column.iloc[0], date):
        return np.fromiter((d.toordinal() for d in column), dtype=np.int64,
                           count=len(column))
    if column.dtype != object or isinstance(column.iloc[0], str):
        column = pd.to_datetime(column, format="ISO8601")
    days = column.to_numpy().astype("datetime64[D]").astype(np.int64)
    return days + _ORDINAL_1970


EDGE_COLUMNS = ("seller_id", "buyer_id", "volume_fen", "invoice_count", "confirmed_fen",
                "first_day", "last_day", "first_ever_day")


def _sort_pairs(s: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.lexsort((b, s))``: rows by seller, then buyer, ties in row order; one stable
    sort of a packed key when both ids are small non-negative integers (firm ids)."""
    if s.size and s.min() >= 0 and b.min() >= 0:
        width = int(b.max()) + 1
        if (int(s.max()) + 1) * width < 2 ** 62:
            return np.argsort(s * width + b, kind="stable")
    return np.lexsort((b, s))


def _edge_arrays(cols: dict[str, np.ndarray], start: int) -> pd.DataFrame | None:
    """:func:`edge_table`'s grouping of its kept rows (arrays s, b, amount, day,
    confirmed) over numpy: one sort by (seller, buyer) and a reduction per column instead
    of two pandas group-bys; the same table, dtypes included (window days are integers
    unless a pair has no invoice in the window). None when a column is not int64 (the
    pandas grouping then runs)."""
    arrays = [cols[c] for c in ("s", "b", "amount", "day", "confirmed")]
    if not arrays[0].size or any(c.dtype != np.int64 for c in arrays):
        return None
    order = _sort_pairs(arrays[0], arrays[1])
    s, b, amount, day, confirmed = (c[order] for c in arrays)
    starts = np.flatnonzero(np.r_[True, (s[1:] != s[:-1]) | (b[1:] != b[:-1])])
    win = day > start
    count = np.add.reduceat(win.astype(np.int64), starts)
    first = np.minimum.reduceat(np.where(win, day, np.iinfo(np.int64).max), starts)
    last = np.maximum.reduceat(np.where(win, day, np.iinfo(np.int64).min), starts)
    if (count == 0).any():
        first = np.where(count > 0, first, np.nan)
        last = np.where(count > 0, last, np.nan)
    return pd.DataFrame({
        "seller_id": s[starts], "buyer_id": b[starts],
        "volume_fen": np.add.reduceat(np.where(win, amount, 0), starts),
        "invoice_count": count,
        "confirmed_fen": np.add.reduceat(np.where(win, confirmed, 0), starts),
        "first_day": first, "last_day": last,
        "first_ever_day": np.minimum.reduceat(day, starts)})[list(EDGE_COLUMNS)]


def edge_table(invoices: pd.DataFrame, as_of: date, *, known: set | None = None,
               window_days: int = WINDOW_DAYS) -> pd.DataFrame:
    """The supply edges of *invoices* as of *as_of*, one row per (seller, buyer).

    The rules of the graph, in one place: rejected invoices, invoices after *as_of*,
    self-trade and (with *known*) firms outside the set are left out; ``volume_fen``,
    ``invoice_count``, ``confirmed_fen``, ``first_day`` and ``last_day`` cover the window
    (``as_of - window_days``, ``as_of``]; ``first_ever_day`` is the earliest invoice of the
    pair at all. Days are proleptic ordinals (``date.toordinal``), window days ``NaN`` when
    the pair traded only before the window. A caller holding the same aggregate from SQL
    may build the same table itself and pass it to :func:`graph_from_edges`.
    """
    if not len(invoices):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in EDGE_COLUMNS})
    end = as_of.toordinal()
    start = end - window_days
    s, b = invoices["seller_id"].to_numpy(), invoices["buyer_id"].to_numpy()
    amount = invoices["amount_fen"].to_numpy()
    day = _day_numbers(invoices["issue_date"])
    status = invoices["status"].to_numpy() if "status" in invoices.columns else None
    if all(c.dtype == np.int64 for c in (s, b, amount, day)):
        # integer ids, amounts and days (the frames'): the rows kept over numpy arrays
        keep = (day <= end) & (s != b)
        if known is not None:
            ids = np.fromiter(known, dtype=np.int64, count=len(known))
            keep &= np.isin(s, ids) & np.isin(b, ids)
        if status is not None:
            keep &= status != DocStatus.REJECTED.value
            confirmed = np.where(status == DocStatus.CONFIRMED.value, amount, 0)
        else:
            confirmed = np.zeros(amount.size, dtype=np.int64)
        fast = _edge_arrays({"s": s[keep], "b": b[keep], "amount": amount[keep],
                             "day": day[keep], "confirmed": confirmed[keep]}, start)
        if fast is not None:
            return fast
    inv = pd.DataFrame({"s": s, "b": b, "amount": amount, "day": day})
    keep = (inv["day"] <= end) & (inv["s"] != inv["b"])
    if known is not None:
        keep &= inv["s"].isin(known) & inv["b"].isin(known)
    if status is not None:
        keep &= status != DocStatus.REJECTED.value
        inv["confirmed"] = inv["amount"].where(status == DocStatus.CONFIRMED.value, 0)
    else:
        inv["confirmed"] = 0
    inv = inv[keep]
    ever = inv.groupby(["s", "b"])["day"].min().rename("first_ever_day")
    agg = inv[inv["day"] > start].groupby(["s", "b"]).agg(
        volume_fen=("amount", "sum"), invoice_count=("amount", "size"),
        confirmed_fen=("confirmed", "sum"), first_day=("day", "min"), last_day=("day", "max"))
    out = agg.join(ever, how="right")
    out[["volume_fen", "invoice_count", "confirmed_fen"]] = out[
        ["volume_fen", "invoice_count", "confirmed_fen"]].fillna(0).astype("int64")
    out.index.names = ["seller_id", "buyer_id"]
    return out.reset_index()[list(EDGE_COLUMNS)]


def graph_from_edges(firms: pd.DataFrame, edges: pd.DataFrame, as_of: date, *,
                     relationships: pd.DataFrame | None = None,
                     window_days: int = WINDOW_DAYS) -> nx.DiGraph:
    """The supply graph of *firms* from an :func:`edge_table` (and relationships)."""
    G = nx.DiGraph(as_of=as_of, window_days=window_days)
    attrs = [c for c in FIRM_COLUMNS if c != "id" and c in firms.columns]
    firm_ids = firms["id"].tolist()
    columns = []
    for c in attrs:  # each column's values as objects, None where missing
        values = firms[c].astype(object).to_numpy()
        missing = firms[c].isna().to_numpy()
        if missing.any():
            values = values.copy()
            values[missing] = None
        columns.append(values.tolist())
    rows = zip(*columns, strict=True) if columns else iter([()] * len(firm_ids))
    G.add_nodes_from((fid, dict(zip(attrs, row, strict=True)))
                     for fid, row in zip(firm_ids, rows, strict=True))
    known = set(firm_ids)
    end = as_of.toordinal()

    first_seen: dict[tuple, int] = {}
    stats: dict[tuple, tuple] = {}
    if len(edges):
        e = edges[edges["seller_id"].isin(known) & edges["buyer_id"].isin(known)
                  & (edges["seller_id"] != edges["buyer_id"])]
        keys = list(zip(e["seller_id"].tolist(), e["buyer_id"].tolist(), strict=True))
        first_seen = dict(zip(keys, e["first_ever_day"].astype("int64").tolist(), strict=True))
        windowed = e["invoice_count"].to_numpy() > 0
        stats = {k: (v, c, cf, int(f), int(la)) for k, v, c, cf, f, la, w in zip(
            keys, e["volume_fen"].tolist(), e["invoice_count"].tolist(),
            e["confirmed_fen"].tolist(), e["first_day"].fillna(0).tolist(),
            e["last_day"].fillna(0).tolist(), windowed, strict=True) if w}

    terms: dict[tuple, int | None] = {}
    if relationships is not None and len(relationships):
        rel = pd.DataFrame({"s": relationships["supplier_id"], "b": relationships["buyer_id"],
                            "day": _day_numbers(relationships["since"])})
        rel["terms"] = (relationships["payment_terms_days"]
                        if "payment_terms_days" in relationships.columns else None)
        rel = rel[(rel["day"] <= end) & rel["s"].isin(known) & rel["b"].isin(known)
                  & (rel["s"] != rel["b"])]
        no_terms = rel["terms"].isna().tolist()
        for s, b, day, term, none in zip(rel["s"].tolist(), rel["b"].tolist(),
                                         rel["day"].tolist(), rel["terms"].tolist(), no_terms,
                                         strict=True):
            first_seen[(s, b)] = min(first_seen.get((s, b), day), day)
            terms[(s, b)] = None if none else int(term)

    fromordinal = date.fromordinal
    empty = (0, 0, 0, None, None)

    def edge(key, first):
        vol, cnt, conf, f, last = stats.get(key, empty)
        return (key[0], key[1], {
            "volume_fen": int(vol), "invoice_count": int(cnt), "confirmed_fen": int(conf),
            "first_date": fromordinal(f) if f is not None else None,
            "last_date": fromordinal(last) if last is not None else None,
            "payment_terms_days": terms.get(key), "tenure_days": max(0, end - first)})

    G.add_edges_from(edge(key, first) for key, first in first_seen.items())
    return G


def graph_from_frames(firms: pd.DataFrame, invoices: pd.DataFrame, as_of: date, *,
                      relationships: pd.DataFrame | None = None,
                      window_days: int = WINDOW_DAYS) -> nx.DiGraph:
    """The supply graph of *firms* and the *invoices* between them, as of *as_of*.

    *firms* needs the column ``id`` (other :data:`FIRM_COLUMNS` become node attributes
    when present); *invoices* needs ``seller_id, buyer_id, amount_fen, issue_date`` and
    optionally ``status``; *relationships* (optional) ``supplier_id, buyer_id, since`` and
    optionally ``payment_terms_days``. Dates may be ``datetime.date``, datetime64 or ISO
    strings.
    """
    edges = edge_table(invoices, as_of, known=set(firms["id"].tolist()),
                       window_days=window_days)
    return graph_from_edges(firms, edges, as_of, relationships=relationships,
                            window_days=window_days)


def _read(session: Session, stmt, columns: tuple[str, ...]) -> pd.DataFrame:
    """Run a Core select and build the frame column-wise (much faster than from Row
    objects); dates are selected as ISO text so no per-row date parsing happens here."""
    rows = session.connection().execute(stmt).fetchall()
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame({c: list(v) for c, v in zip(columns, zip(*rows, strict=True), strict=True)})


def _frames(session: Session, cluster_id: int, as_of: date):
    firms = _read(session, select(*[getattr(Firm, c) for c in FIRM_COLUMNS])
                  .where(col(Firm.cluster_id) == cluster_id), FIRM_COLUMNS)
    seller = select(col(Firm.id)).where(col(Firm.cluster_id) == cluster_id).scalar_subquery()
    invoices = _read(session, select(col(Invoice.seller_id), col(Invoice.buyer_id),
                                     col(Invoice.amount_fen),
                                     cast(Invoice.issue_date, String), col(Invoice.status))
                     .where(col(Invoice.seller_id).in_(seller), col(Invoice.issue_date) <= as_of),
                     INVOICE_COLUMNS)
    relationships = _read(session, select(col(Relationship.supplier_id), col(Relationship.buyer_id),
                                          cast(Relationship.since, String),
                                          col(Relationship.payment_terms_days))
                          .where(col(Relationship.supplier_id).in_(seller)), RELATIONSHIP_COLUMNS)
    return firms, invoices, relationships


def cluster_graph(*, session: Session, cluster_id: int, as_of: date | None = None,
                  use_cache: bool = True) -> nx.DiGraph:
    """The frozen supply graph of cluster *cluster_id* as of *as_of* (default today).

    Cached per (database, cluster, data version, as_of); the graph is frozen so callers
    cannot change the shared copy (use ``nx.DiGraph(G)`` for a private one).
    Raises :class:`ClusterNotFound`.
    """
    as_of = as_of or clock.today()
    row = session.execute(select(col(Cluster.code), col(Cluster.created_at),
                                 col(Cluster.data_version))
                          .where(col(Cluster.id) == cluster_id)).one_or_none()
    if row is None:
        raise ClusterNotFound(msg(N_("There is no cluster with id %(cluster_id)s."),
                                  cluster_id=cluster_id))
    bind = session.get_bind()
    url = str(getattr(bind, "url", None) or bind.engine.url)
    # The code and creation time guard against ids reused after a rollback.
    key = (url, cluster_id, row.code, str(row.created_at), row.data_version, as_of)
    if use_cache:
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None:
            return cached
    firms, invoices, relationships = _frames(session, cluster_id, as_of)
    G = graph_from_frames(firms, invoices, as_of, relationships=relationships)
    G.graph.update(cluster_id=cluster_id, cluster_code=row.code,
                   data_version=row.data_version)
    nx.freeze(G)
    logger.info("built graph of cluster %s (version %s, as of %s): %d firms, %d edges",
                row.code, row.data_version, as_of, G.number_of_nodes(), G.number_of_edges())
    if use_cache:
        with _cache_lock:
            _cache[key] = G
    return G


def bump_data_version(*, session: Session, cluster_id: int) -> None:
    """Mark the cluster's trade data as changed so cached graphs are rebuilt.

    Any area that writes firms, relationships or invoices of a cluster calls this.
    """
    session.execute(update(Cluster).where(col(Cluster.id) == cluster_id)
                    .values(data_version=Cluster.data_version + 1)
                    .execution_options(synchronize_session=False))
    session.flush()
    cluster = session.get(Cluster, cluster_id)
    if cluster is not None:
        session.refresh(cluster, ["data_version"])


def clear_cache() -> None:
    """Forget every cached graph (tests; after bulk changes outside the importer)."""
    with _cache_lock:
        _cache.clear()


def default_window_start(as_of: date) -> date:
    """First day *after* which invoices count toward an edge's 12-month volume."""
    return as_of - timedelta(days=WINDOW_DAYS)
