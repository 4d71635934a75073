"""Stress test for an anchor: "if we pay N days late, which of our vendors run out of
cash first?"

From each vendor's own trade flows over the last :data:`WINDOW_DAYS` days (payments
received and paid), its loans falling due, and a cash cushion estimated as what it kept
of its trade flows over the last :data:`CUSHION_DAYS` days, the test runs day by day for
N days:

    cash(t) = cushion + t x (daily inflow - daily outflow) - lost inflow(t) - debts due by t

For a direct supplier the lost inflow is what the anchor would have paid it in those
days. A second-tier supplier loses what its buyer would have paid it from the day that
buyer runs out of cash (the delay cascades one tier down). A vendor "runs out" on the
first day its cash goes below zero. All money is integer fen; per-day rates are exact
multiples of 1/WINDOW_DAYS fen held as integers, so no float decides who runs out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from trellis.errors import ValidationError
from trellis.ledger.models import Loan
from trellis.messages import N_, msg
from trellis.trade.models import Firm, Payment, Relationship

WINDOW_DAYS = 180
CUSHION_DAYS = 90
MAX_DAYS = 365


@dataclass
class VendorStress:
    firm_id: int
    name: str
    tier: int
    daily_in_fen: int
    daily_out_fen: int
    anchor_share: Fraction
    cushion_fen: int
    debts_due_fen: int
    runs_out_day: int | None
    shortfall_fen: int
    cause_firm_id: int | None = None
    cause_name: str = ""
    short_anyway: bool = False  # runs out within the N days even if everyone pays on time
    debts: list[tuple[date, int]] = field(default_factory=list)

    @property
    def anchor_share_pct(self) -> int:
        """The anchor's share of the vendor's sales, in whole percent (0 to 100)."""
        return round(self.anchor_share * 100)


def _suppliers(session: Session, buyer_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    if not buyer_ids:
        return out
    for supplier, buyer in session.exec(
            select(col(Relationship.supplier_id), col(Relationship.buyer_id))
            .where(col(Relationship.buyer_id).in_(buyer_ids))):
        out[buyer].append(supplier)
    return out


def _flows(session: Session, firm_ids: list[int], start: date, end: date
           ) -> tuple[dict[int, dict[int, int]], dict[int, int]]:
    """(payer, payee) -> fen paid in [start, end), for payments touching *firm_ids*."""
    received: dict[int, dict[int, int]] = defaultdict(dict)
    paid: dict[int, int] = defaultdict(int)
    if not firm_ids:
        return received, paid
    rows = session.exec(select(col(Payment.payer_id), col(Payment.payee_id),
                               func.sum(col(Payment.amount_fen)))
                        .where(col(Payment.paid_on) >= start, col(Payment.paid_on) < end,
                               col(Payment.payee_id).in_(firm_ids))
                        .group_by(col(Payment.payer_id), col(Payment.payee_id))).all()
    for payer, payee, total in rows:
        received[payee][payer] = int(total)
    out_rows = session.exec(select(col(Payment.payer_id), func.sum(col(Payment.amount_fen)))
                            .where(col(Payment.paid_on) >= start, col(Payment.paid_on) < end,
                                   col(Payment.payer_id).in_(firm_ids))
                            .group_by(col(Payment.payer_id))).all()
    for payer, total in out_rows:
        paid[payer] = int(total)
    return received, paid


def _debts(session: Session, firm_ids: list[int], as_of: date, until: date
           ) -> dict[int, list[tuple[date, int]]]:
    """Live loans' outstanding amounts by due date, per firm (from the ledger)."""
    out: dict[int, list[tuple[date, int]]] = defaultdict(list)
    rows = session.exec(select(Loan).where(col(Loan.firm_id).in_(firm_ids),
                                           col(Loan.status).in_(["active", "overdue"]),
                                           col(Loan.due_date) <= until)).all() if firm_ids else []
    for loan in rows:
        assert loan.due_date is not None   # the WHERE above leaves out loans without one
        out[loan.firm_id].append((max(loan.due_date, as_of), loan.outstanding_fen))
    return out


def run(*, session: Session, anchor_id: int, days_late: int,
        as_of: date | None = None) -> list[VendorStress]:
    """The anchor's tier-1 and tier-2 vendors under an *days_late* payment delay, those
    that run out of cash first at the top (then by the largest shortfall)."""
    if not isinstance(days_late, int) or not 1 <= days_late <= MAX_DAYS:
        raise ValidationError(msg(N_("Enter a whole number of days from 1 to %(max)s."),
                                  max=MAX_DAYS), field="days_late")
    as_of = as_of or date.today()
    tier1 = sorted(set(_suppliers(session, [anchor_id]).get(anchor_id, [])) - {anchor_id})
    sup2 = _suppliers(session, tier1)
    tier2 = sorted({s for t in tier1 for s in sup2.get(t, [])} - set(tier1) - {anchor_id})
    scope = tier1 + tier2
    if not scope:
        return []
    names = dict(session.exec(select(col(Firm.id), col(Firm.name))
                              .where(col(Firm.id).in_(scope))).all())
    received, paid = _flows(session, scope, as_of - timedelta(days=WINDOW_DAYS), as_of)
    recent_in, recent_out = _flows(session, scope, as_of - timedelta(days=CUSHION_DAYS), as_of)
    debts = _debts(session, scope, as_of, as_of + timedelta(days=days_late))

    def base(firm_id: int, tier: int, lost_from: int) -> VendorStress:
        inflow = sum(received[firm_id].values())
        cushion = max(0, sum(recent_in[firm_id].values()) - recent_out[firm_id])
        share = Fraction(received[firm_id].get(lost_from, 0), inflow) if inflow else Fraction(0)
        due = sorted(debts.get(firm_id, []))
        return VendorStress(firm_id, names.get(firm_id, "?"), tier,
                            inflow // WINDOW_DAYS, paid[firm_id] // WINDOW_DAYS, share, cushion,
                            sum(a for _, a in due), None, 0, debts=due)

    def simulate(v: VendorStress, lost_in_window: int, lost_from_day: int
                 ) -> tuple[int | None, int]:
        """(first day below zero or None, largest shortfall in fen). Cash is counted in
        units of 1/WINDOW_DAYS fen, so every daily rate is a whole number."""
        net = sum(received[v.firm_id].values()) - paid[v.firm_id]
        lost_daily = lost_in_window
        cash = v.cushion_fen * WINDOW_DAYS
        due = [(d, a * WINDOW_DAYS) for d, a in v.debts]
        lowest, first = cash, None
        for t in range(1, days_late + 1):
            cash += net
            if t > lost_from_day:
                cash -= lost_daily
            day = as_of + timedelta(days=t)
            while due and due[0][0] <= day:
                cash -= due.pop(0)[1]
            lowest = min(lowest, cash)
            if cash < 0 and first is None:
                first = t
        return first, (-lowest + WINDOW_DAYS - 1) // WINDOW_DAYS if lowest < 0 else 0

    def stress(v: VendorStress, lost_in_window: int, lost_from_day: int, cause: int,
               cause_name: str) -> VendorStress:
        v.runs_out_day, v.shortfall_fen = simulate(v, lost_in_window, lost_from_day)
        v.short_anyway = simulate(v, 0, days_late)[0] is not None
        if v.runs_out_day is not None and not v.short_anyway:
            v.cause_firm_id, v.cause_name = cause, cause_name
        return v

    out: dict[int, VendorStress] = {}
    for f in tier1:
        out[f] = stress(base(f, 1, anchor_id), received[f].get(anchor_id, 0), 0, anchor_id, "")
    for f in tier2:
        # the buyer of f that runs out first passes the delay on
        buyers = [b for b in tier1 if f in sup2.get(b, []) and out[b].runs_out_day is not None]
        buyers.sort(key=lambda b: cast(int, out[b].runs_out_day))   # not None: see above
        if not buyers:
            out[f] = stress(base(f, 2, -1), 0, days_late, -1, "")
        else:
            b = buyers[0]
            late = out[b].runs_out_day
            assert late is not None   # buyers holds only those that run out
            out[f] = stress(base(f, 2, b), received[f].get(b, 0), late, b, out[b].name)
    return sorted(out.values(), key=lambda v: (v.runs_out_day is None,
                                               v.runs_out_day or 0, -v.shortfall_fen, v.name))


def short_by_cause(rows: list[VendorStress]) -> tuple[list[VendorStress], list[VendorStress]]:
    """The suppliers of *rows* (a :func:`run`) that run out of cash within the delay, in
    two lists: those our late payment (directly, or through their buyer) drives short, and
    those short of cash even if everyone paid on time (the delay is not their cause)."""
    short = [r for r in rows if r.runs_out_day is not None]
    return [r for r in short if not r.short_anyway], [r for r in short if r.short_anyway]


@dataclass(frozen=True)
class AnchorRow:
    """One supplier of a :func:`run` as the anchor who runs it sees it: when it runs out
    and why, its trade-based cushion and the anchor's share of its inflow, but not the
    debts it owes the bank (counted in the run, never shown: a supplier's loans are the
    bank's confidential customer information, see :mod:`trellis.scoring.disclosure`)."""

    firm_id: int
    name: str
    tier: int
    anchor_share_pct: int
    cushion_fen: int
    runs_out_day: int | None
    shortfall_fen: int
    cause_name: str
    short_anyway: bool


def for_anchor(rows: list[VendorStress]) -> list[AnchorRow]:
    """*rows* without what the anchor may not see (the suppliers' debts to the bank)."""
    return [AnchorRow(r.firm_id, r.name, r.tier, r.anchor_share_pct, r.cushion_fen,
                      r.runs_out_day, r.shortfall_fen, r.cause_name, r.short_anyway)
            for r in rows]
