"""Limit: the smallest of an advance rate on eligible confirmed receivables, a multiple of
the average monthly confirmed inflow, and the exposure caps per vendor, per anchor and per
cluster, all taken from the limit policy in force (``limit_policies``).

- Eligible receivables: invoices to an anchor, confirmed before ``as_of``, not yet due,
  less what was paid or credited before ``as_of``; per anchor, the advance is further
  capped by what is left under that anchor's exposure cap.
- Confirmed inflow: anchor-confirmed sales per month over ``inflow_months``, times
  ``inflow_multiple`` and the grade's factor (E gets 0 by default).
- Headroom: each cap less the live platform exposure (:mod:`.exposure`).

A firm that could not be scored gets 0. A bank sets a limit in round figures: the limit
and each of the four candidate limits it is the smallest of are rounded down to whole 100
yuan (down, so a rounded limit never exceeds a cap), all in integers and Decimal, never
float. The page then shows the binding candidate and the limit as the same figure
(¥2,376,000.29 beside a limit of ¥2,376,000.00 read as a limit with fen in it). The facts
they come from (eligible receivables, monthly inflow) stay exact.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import ROUND_FLOOR, Decimal

import pandas as pd
from cachetools import LRUCache, cached
from sqlalchemy import select
from sqlmodel import Session, col

from trellis.messages import N_, msg
from trellis.scoring import features, frames
from trellis.scoring.errors import ScoringError
from trellis.scoring.exposure import exposure_totals
from trellis.scoring.models import LimitPolicy
from trellis.scoring.result import ScoreResult
from trellis.trade.models import Firm

ROUND_TO_FEN = 100_00  # whole 100 yuan


def policy(*, session: Session, as_of: date) -> LimitPolicy:
    """The limit policy in force on *as_of* (the latest effective on or before it); raises
    ScoringError when there is none."""
    row = session.execute(select(LimitPolicy).where(col(LimitPolicy.effective_from) <= as_of)
                          .order_by(col(LimitPolicy.effective_from).desc()).limit(1)
                          ).scalars().first()
    if row is None:
        raise ScoringError(msg(N_("No limit policy is in force on %(day)s; an admin must "
                                  "enter one."), day=as_of))
    return row


_RECEIVABLES: LRUCache[tuple, tuple[pd.Series, int]] = LRUCache(maxsize=1024)


def _receivables_key(session: Session, firm_id: int, as_of: date, inflow_months: int
                     ) -> tuple:
    return (*frames.database_key(session), firm_id, as_of, inflow_months,
            frames.documents_stamp(session, firm_id))


@cached(_RECEIVABLES, key=_receivables_key, lock=threading.Lock())
def _receivables(session: Session, firm_id: int, as_of: date, inflow_months: int
                 ) -> tuple[pd.Series, int]:
    """(outstanding confirmed receivables not yet due, per anchor; anchor-confirmed sales
    of the last *inflow_months*), from the firm's sales documents. Kept until the firm's
    cluster data version or the highest id of a table read changes (a payment, a credit
    note or an invoice added; a confirmation bumps the data version)."""
    fr = frames.seller_documents(session=session, firm_id=firm_id, as_of=as_of)
    bal = features._invoice_balances(fr)
    anchors = set(fr.firms.index[fr.firms["role"] == "anchor"])
    mine = bal[(bal["seller_id"] == firm_id) & bal["buyer_id"].isin(anchors)]
    eligible = mine[(mine["status"] == "confirmed") & (mine["due_date"] >= fr.as_of)]
    by_anchor = eligible.groupby("buyer_id")["outstanding_fen"].sum()
    window = fr.as_of - pd.DateOffset(months=inflow_months)
    confirmed = mine[(mine["status"] == "confirmed") & (mine["issue_date"] >= window)]
    return by_anchor, int(confirmed["amount_fen"].sum())


def explain_limit(*, session: Session, firm_id: int, result: ScoreResult,
                  as_of: date) -> dict:
    """The limit and each of its components (fen), for display and the audit trail.

    The receivables and inflow come from the firm's sales documents, cached under its
    documents stamp (``frames.documents_stamp``); the exposure headroom is read live on
    every call (loans move every day)."""
    if result.insufficient or result.grade is None:
        return {"limit_fen": 0, "binding": "not_scored"}
    pol = policy(session=session, as_of=as_of)
    firm = session.get(Firm, firm_id)
    by_anchor, confirmed_fen = _receivables(session, firm_id, as_of, pol.inflow_months)
    monthly = Decimal(confirmed_fen) / pol.inflow_months
    expo = exposure_totals(session=session, as_of=as_of, firm_id=firm_id,
                           anchor_ids=[int(a) for a in by_anchor.index],
                           cluster_id=firm.cluster_id if firm else None)
    advance = Decimal(str(pol.advance_rate))
    receivables = Decimal(0)
    per_anchor = {}
    for anchor_id, amount in by_anchor.items():
        room = max(0, int(pol.anchor_cap_fen) - expo["anchors"].get(int(anchor_id), 0))
        part = min(advance * int(amount), Decimal(room))
        per_anchor[int(anchor_id)] = int(part)
        receivables += part
    factor = Decimal(str(pol.grade_factors.get(result.grade, "0")))
    parts = {
        "receivables": receivables,
        "inflow": Decimal(str(pol.inflow_multiple)) * monthly * factor,
        "vendor_cap": Decimal(max(0, int(pol.vendor_cap_fen) - expo["vendor"])),
        "cluster_cap": Decimal(max(0, int(pol.cluster_cap_fen) - expo["cluster"])),
    }
    binding = min(parts, key=lambda name: parts[name])
    rounded = {k: _round_down(v) for k, v in parts.items()}
    return {"limit_fen": rounded[binding], "binding": binding,
            "components_fen": rounded,
            "per_anchor_fen": per_anchor, "eligible_receivables_fen": int(by_anchor.sum()),
            "monthly_confirmed_fen": int(monthly), "grade_factor": str(factor),
            "inflow_multiple": str(pol.inflow_multiple),
            "advance_percent": str(Decimal(str(pol.advance_rate)) * 100),
            "exposure_fen": {"vendor": expo["vendor"], "cluster": expo["cluster"]},
            "policy_id": pol.id}


def _round_down(fen: Decimal) -> int:
    """*fen* rounded down to whole 100 yuan (never below 0)."""
    floor = int(fen.to_integral_value(rounding=ROUND_FLOOR))
    return max(0, floor // ROUND_TO_FEN * ROUND_TO_FEN)


def credit_limit(*, session: Session, firm_id: int, result: ScoreResult, as_of: date) -> int:
    """The credit limit in fen (0 when the firm could not be scored)."""
    return explain_limit(session=session, firm_id=firm_id, result=result, as_of=as_of)["limit_fen"]
