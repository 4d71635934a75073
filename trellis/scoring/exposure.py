"""Debt on the platform, read from the ledger's tables when they exist.

The ledger is another area, built alongside; scoring must work without it and must not
import it (the ledger calls scoring when it decides). So this module reflects the
``loans`` table (and ``loan_documents`` for the anchor each loan is owed by) and reads the
live balance per loan: principal + interest + penalty + fees of loans that are active or
overdue and were disbursed before ``as_of``. Balances are the ledger's current ones; for
a past ``as_of`` that is an approximation, stated here. No table: no debt.

Each row also says how late the loan is (``days_past_due`` at ``as_of``, the ledger's
borrower's count: days since the due date while something is owed) and whether it was
written off with part of it still owed (``written_off``). A written-off loan's balance
columns are cleared by the write-off, so it adds nothing to ``outstanding_fen``; what the
borrower still owes on it is ``written_off_fen - recovered_fen``. The scorer's policy
rules (:mod:`trellis.scoring.policy`) read these two columns.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Date,
    MetaData,
    Select,
    Table,
    bindparam,
    case,
    func,
    inspect,
    literal,
    select,
)
from sqlalchemy.exc import SAWarning
from sqlmodel import Session, col

from trellis.trade.models import Firm

logger = logging.getLogger(__name__)

COLUMNS = ["loan_id", "firm_id", "anchor_id", "outstanding_fen", "days_past_due",
           "written_off"]
LIVE = ("active", "overdue")
WRITTEN_OFF = "written_off"
BALANCES = ("principal_fen", "interest_fen", "penalty_fen", "fees_fen")


_REFLECTED: dict[tuple[str, str], dict[str, Table]] = {}


def _reflect(conn) -> dict[str, Table]:
    """The ledger's tables as reflected once per database and schema (a process cache)."""
    schema = ""
    if conn.dialect.name == "postgresql":
        schema = conn.exec_driver_sql("select current_schema()").scalar() or ""
    key = (str(conn.engine.url), schema)
    if key not in _REFLECTED:
        insp = inspect(conn)
        md = MetaData()
        with warnings.catch_warnings():
            # SQLite's reflection skips an index on an expression (the invoices' payables
            # index), with a warning; only the columns are read here
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression",
                                    SAWarning)
            _REFLECTED[key] = {name: Table(name, md, autoload_with=conn)
                               for name in ("loans", "loan_documents", "invoices")
                               if insp.has_table(name)}
    return _REFLECTED[key]


_STATEMENTS: dict[tuple[int, bool], Select | None] = {}


def _statement(tables: dict[str, Table], by_list: bool) -> Select | None:
    """The live-loan statement over the reflected *tables* (None: no usable loans table),
    built once per reflection: ``as_of`` is a bound parameter, and with *by_list* the firm
    ids are too (``firm_ids``, an expanding list)."""
    key = (id(tables), by_list)  # the reflected dicts live as long as the process
    if key in _STATEMENTS:
        return _STATEMENTS[key]
    stmt = None
    c = tables["loans"].c if "loans" in tables else None
    if c is not None and "firm_id" in c and any(b in c for b in BALANCES):
        balance = sum((func.coalesce(c[b], 0) for b in BALANCES if b in c), literal(0))
        anchor: ColumnElement[Any] = literal(None)
        if "loan_documents" in tables and "invoices" in tables:
            docs, inv = tables["loan_documents"], tables["invoices"]
            anchor = (select(func.min(inv.c.buyer_id))
                      .select_from(docs.join(inv, inv.c.id == docs.c.invoice_id))
                      .where(docs.c.loan_id == c.id).scalar_subquery())
        status = c.status if "status" in c else literal("active")
        live = status.in_(LIVE)
        owed_off: ColumnElement[Any] = literal(0)
        if "written_off_fen" in c:
            owed_off = func.coalesce(c.written_off_fen, 0) - (
                func.coalesce(c.recovered_fen, 0) if "recovered_fen" in c else literal(0))
        # still owed: the open balance of a live loan, what a written-off one left unpaid
        owed = case((live, balance), else_=owed_off)
        due = c.due_date if "due_date" in c else literal(None, type_=Date)
        stmt = select(c.id.label("loan_id"), c.firm_id.label("firm_id"),
                      anchor.label("anchor_id"),
                      case((live, balance), else_=literal(0)).label("outstanding_fen"),
                      owed.label("owed_fen"), due.label("due_date"),
                      status.label("status"))
        if "status" in c:
            stmt = stmt.where(c.status.in_(LIVE + (WRITTEN_OFF,)))
        if "disbursed_on" in c:
            stmt = stmt.where(c.disbursed_on < bindparam("as_of", type_=Date))
        if by_list:
            stmt = stmt.where(c.firm_id.in_(bindparam("firm_ids", expanding=True)))
    _STATEMENTS[key] = stmt
    return stmt


def read_exposures(*, session: Session, firm_ids, as_of: date) -> pd.DataFrame:
    """One row per live or written-off loan: loan_id, firm_id, anchor_id (may be NA),
    outstanding_fen (0 for a written-off loan), days_past_due at *as_of* (>= 0; 0 when
    nothing is owed or the loan is not due yet), written_off (a written-off loan still
    owed in part).

    *firm_ids*: ids, a ``select`` of ids, or None for every firm."""
    conn = session.connection()
    tables = _reflect(conn)
    if "loans" not in tables:
        return pd.DataFrame(columns=COLUMNS)
    by_list = firm_ids is not None and not hasattr(firm_ids, "subquery")
    stmt = _statement(tables, by_list)
    if stmt is None:
        logger.warning("the loans table has no firm_id or balance columns; exposure taken as 0")
        return pd.DataFrame(columns=COLUMNS)
    params: dict[str, Any] = {"as_of": as_of}
    if by_list:
        params["firm_ids"] = list(firm_ids)
    elif firm_ids is not None:
        stmt = stmt.where(tables["loans"].c.firm_id.in_(firm_ids))
    # What pd.read_sql does, without its per-call SQL-database wrapper (a third of the
    # time on the one-firm path).
    result = conn.execute(stmt, params)
    df = pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()),
                                   coerce_float=True)
    df["outstanding_fen"] = df["outstanding_fen"].fillna(0).astype("int64")
    owed = pd.to_numeric(df["owed_fen"], errors="coerce").fillna(0).to_numpy() > 0
    due = pd.to_datetime(df["due_date"], errors="coerce")
    late = (pd.Timestamp(as_of) - due).dt.days.fillna(0).clip(lower=0).to_numpy()
    df["days_past_due"] = pd.Series(late * owed, index=df.index).astype("int64")
    df["written_off"] = (df["status"] == WRITTEN_OFF).to_numpy() & owed
    return df[COLUMNS]


def exposure_totals(*, session: Session, as_of: date, firm_id: int, anchor_ids: Iterable[int],
                    cluster_id: int | None) -> dict[str, Any]:
    """Live platform exposure in fen to the firm (``vendor``), to each of its anchors
    (``anchors``: anchor id -> fen) and to its cluster (``cluster``; 0 without one)."""
    if cluster_id is not None:
        ids: Select[tuple[int | None]] | list[int] = (
            select(col(Firm.id)).where(col(Firm.cluster_id) == cluster_id))
    else:
        ids = [firm_id]
    ex = read_exposures(session=session, firm_ids=ids, as_of=as_of)
    by_anchor = ex.dropna(subset=["anchor_id"]).groupby("anchor_id")["outstanding_fen"].sum()
    return {
        "vendor": int(ex.loc[ex["firm_id"] == firm_id, "outstanding_fen"].sum()),
        "anchors": {int(a): int(by_anchor.get(a, 0)) for a in anchor_ids},
        "cluster": int(ex["outstanding_fen"].sum()) if cluster_id is not None else 0,
    }
