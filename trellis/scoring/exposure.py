"""Debt on the platform, read from the ledger's loan table when that table exists.

The ledger is another area; scoring must work before it exists and must not import it.
So this module reflects the ``loans`` table and reads the outstanding principal per firm
(and the anchor it is owed by, when the table records one). No table: no debt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

import pandas as pd
from sqlalchemy import MetaData, Table, inspect, select
from sqlmodel import Session

logger = logging.getLogger(__name__)

COLUMNS = ["firm_id", "anchor_id", "outstanding_fen"]
_OUTSTANDING = ("outstanding_fen", "principal_outstanding_fen", "outstanding_principal_fen",
                "balance_fen")
_FIRM = ("firm_id", "borrower_id", "vendor_id")
_ANCHOR = ("anchor_id", "obligor_id", "debtor_id")
_CLOSED = ("repaid", "closed", "written_off", "cancelled", "rejected")


def read_exposures(*, session: Session, firm_ids: Iterable[int] | None,
                   as_of: date) -> pd.DataFrame:
    """Outstanding platform principal per loan: columns firm_id, anchor_id, outstanding_fen.

    Loans disbursed on or after *as_of* are left out when the table has a disbursement
    date. Returns an empty frame when the ledger's table is absent.
    """
    conn = session.connection()
    if not inspect(conn).has_table("loans"):
        return pd.DataFrame(columns=COLUMNS)
    table = Table("loans", MetaData(), autoload_with=conn)
    cols = table.c
    firm = next((cols[n] for n in _FIRM if n in cols), None)
    outstanding = next((cols[n] for n in _OUTSTANDING if n in cols), None)
    if firm is None or outstanding is None:
        logger.warning("loans table has no firm or outstanding column; exposure taken as 0")
        return pd.DataFrame(columns=COLUMNS)
    anchor = next((cols[n] for n in _ANCHOR if n in cols), None)
    stmt = select(firm.label("firm_id"),
                  (anchor.label("anchor_id") if anchor is not None else firm.label("anchor_x")),
                  outstanding.label("outstanding_fen"))
    if firm_ids is not None:
        stmt = stmt.where(firm.in_(list(firm_ids)))
    if "status" in cols:
        stmt = stmt.where(cols["status"].notin_(_CLOSED))
    if "disbursed_on" in cols:
        stmt = stmt.where(cols["disbursed_on"] < as_of)
    df = pd.read_sql(stmt, conn)
    if "anchor_x" in df:
        df = df.drop(columns="anchor_x").assign(anchor_id=pd.NA)
    df["outstanding_fen"] = df["outstanding_fen"].fillna(0).astype("int64")
    return df[COLUMNS]
