"""Stress test for an anchor: "if we pay N days late, which of our suppliers run short
of cash first, over the next N days?"

It is the anchor's own test, so it reads only what the anchor may see: its own trade
with each supplier (the invoices it confirmed and has not yet paid, and what it bought
over the last :data:`WINDOW_DAYS` days) and the supply network its network page already
shows. A supplier's loans at the bank, its score and its trade with other firms are the
bank's confidential customer information (see :mod:`trellis.scoring.disclosure`): a
result computed from them would tell the anchor about them, so none is read here.

What the anchor cannot see is assumed, and the page says so in words:

* a direct supplier holds a cash cushion worth :data:`CUSHION_DAYS` days of what the
  anchor bought from it on average over the last :data:`WINDOW_DAYS` days;
* nothing else changes for it over the N days (its other customers pay on time, its
  costs stay as they are), so only the payments the anchor holds back draw on that
  cushion;
* the delay holds back every confirmed, unpaid invoice of the supplier that falls due
  within the N days (one already past due from the first day): each arrives N days late,
  so after the last day of the test.

A direct supplier runs short on the first day what is held back exceeds its cushion. A
second-tier supplier is reached through its buyer: from the day the first of its direct
buyers runs short (ties broken by the buyer's name, then id, so identical inputs always
name the same cause). Money is integer fen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from trellis import clock
from trellis.errors import ValidationError
from trellis.messages import N_, msg
from trellis.trade.models import DocStatus, Firm, Invoice, Relationship

WINDOW_DAYS = 180
CUSHION_DAYS = 30
MAX_DAYS = 365


@dataclass(frozen=True)
class SupplierStress:
    """One supplier under the delay. *bought_fen*: what the anchor bought from it over the
    last :data:`WINDOW_DAYS` days; *cushion_fen*: its assumed cash cushion; *held_back_fen*:
    what the delay holds back within the N days (all three 0 for a second-tier supplier,
    whose trade is not the anchor's). *runs_out_day*: the first day (1 to N) it runs short,
    or None; *shortfall_fen*: by how much, at worst; *cause_firm_id*: the anchor (a direct
    supplier) or the direct buyer through which the delay reaches it."""

    firm_id: int
    name: str
    tier: int
    bought_fen: int
    cushion_fen: int
    held_back_fen: int
    runs_out_day: int | None
    shortfall_fen: int
    cause_firm_id: int | None
    cause_name: str


def _edges(session: Session, buyer_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    if buyer_ids:
        for supplier, buyer in session.exec(
                select(col(Relationship.supplier_id), col(Relationship.buyer_id))
                .where(col(Relationship.buyer_id).in_(buyer_ids))):
            out[buyer].append(supplier)
    return out


def _bought(session: Session, anchor_id: int, since: date, until: date) -> dict[int, int]:
    """seller -> fen the anchor confirmed buying from it, invoices issued in [since, until]."""
    rows = session.exec(select(col(Invoice.seller_id), func.sum(col(Invoice.amount_fen)))
                        .where(col(Invoice.buyer_id) == anchor_id,
                               col(Invoice.status) == DocStatus.CONFIRMED,
                               col(Invoice.issue_date) >= since,
                               col(Invoice.issue_date) <= until)
                        .group_by(col(Invoice.seller_id))).all()
    return {seller: int(total) for seller, total in rows}


def _held_back(session: Session, anchor_id: int, as_of: date, until: date
               ) -> dict[int, list[tuple[int, int]]]:
    """seller -> [(day 1..N the payment would have come, fen)] of the anchor's confirmed,
    unpaid invoices due by *until* (one past due counts from day 1)."""
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for seller, due, amount, paid in session.exec(
            select(col(Invoice.seller_id), col(Invoice.due_date), col(Invoice.amount_fen),
                   col(Invoice.paid_fen))
            .where(col(Invoice.buyer_id) == anchor_id,
                   col(Invoice.status) == DocStatus.CONFIRMED,
                   col(Invoice.amount_fen) > col(Invoice.paid_fen),
                   col(Invoice.due_date) <= until)):
        out[seller].append((max(1, (due - as_of).days), amount - paid))
    return out


def run(*, session: Session, anchor_id: int, days_late: int,
        as_of: date | None = None) -> list[SupplierStress]:
    """The anchor's tier-1 and tier-2 suppliers if it pays *days_late* days late, over the
    next *days_late* days from *as_of* (today): those that run short first at the top,
    then by the largest shortfall, then by name."""
    if not isinstance(days_late, int) or isinstance(days_late, bool) \
            or not 1 <= days_late <= MAX_DAYS:
        raise ValidationError(msg(N_("Enter a whole number of days from 1 to %(max)s."),
                                  max=MAX_DAYS), field="days_late")
    as_of = as_of or clock.today()
    tier1 = sorted(set(_edges(session, [anchor_id]).get(anchor_id, [])) - {anchor_id})
    theirs = _edges(session, tier1)
    tier2 = sorted({s for t in tier1 for s in theirs.get(t, [])} - set(tier1) - {anchor_id})
    if not tier1:
        return []
    names = dict(session.exec(select(col(Firm.id), col(Firm.name))
                              .where(col(Firm.id).in_(tier1 + tier2))).all())
    bought = _bought(session, anchor_id, as_of - timedelta(days=WINDOW_DAYS), as_of)
    held = _held_back(session, anchor_id, as_of, as_of + timedelta(days=days_late))

    out: dict[int, SupplierStress] = {}
    for f in tier1:
        cushion = bought.get(f, 0) * CUSHION_DAYS // WINDOW_DAYS
        first, total = None, 0
        for day, amount in sorted(held.get(f, [])):
            total += amount
            if first is None and total > cushion:
                first = day
        out[f] = SupplierStress(f, names.get(f, "?"), 1, bought.get(f, 0), cushion, total,
                                first, max(0, total - cushion), anchor_id, "")
    for f in tier2:
        buyers = sorted((out[b] for b in tier1 if f in theirs.get(b, [])
                         and out[b].runs_out_day is not None),
                        key=lambda b: (b.runs_out_day, b.name, b.firm_id))
        cause = buyers[0] if buyers else None
        out[f] = SupplierStress(f, names.get(f, "?"), 2, 0, 0, 0,
                                cause.runs_out_day if cause else None, 0,
                                cause.firm_id if cause else None,
                                cause.name if cause else "")
    return sorted(out.values(), key=lambda v: (v.runs_out_day is None, v.runs_out_day or 0,
                                               -v.shortfall_fen, v.name, v.firm_id))
