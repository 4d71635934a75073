"""Loss allowance by days-past-due bucket.

Each product holds ``provision_bps``: the share of principal to hold as allowance per DPD
bucket (``"1-30"``, ``"31-60"``, ``"61-90"``, ``"90+"``; ``"current"`` is not provisioned
loan by loan). :func:`provision` moves every overdue loan's allowance to its bucket's
target and releases the allowance of loans that are no longer live; one ``provision``
entry per run (debit credit-loss expense, credit loss allowance, per loan). A write-off
uses the loan's allowance first.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import or_, select
from sqlmodel import Session

from trellis.ledger import status
from trellis.ledger.chart import Acct
from trellis.ledger.journal import Entry, EntryKind, Posting
from trellis.ledger.lifecycle import bucket, dpd
from trellis.ledger.models import Loan, Product
from trellis.ledger.posting import post


def target_allowance(principal_fen: int, bps: int) -> int:
    """*bps* of *principal_fen*, half up."""
    return (principal_fen * bps * 2 + 10_000) // 20_000


def provision(*, session: Session, as_of: date) -> int:
    """Bring allowances in line with DPD buckets on *as_of*; returns loans changed."""
    rates = {p.id: p.provision_bps or {} for p in session.scalars(select(Product))}
    live = [s.value for s in status.LIVE]
    loans = session.scalars(
        select(Loan).where(or_(Loan.allowance_fen > 0,
                               (Loan.status.in_(live)) & (Loan.due_date < as_of)))
        .order_by(Loan.id).with_for_update().execution_options(populate_existing=True)).all()
    legs: list[Posting] = []
    changed = []
    for loan in loans:
        target = 0
        if loan.status in live:
            b = bucket(dpd(loan, as_of))
            if b != "current":
                target = target_allowance(loan.principal_fen, int(rates[loan.product_id]
                                                                   .get(b, 0)))
        delta = target - loan.allowance_fen
        if delta:
            legs += [Posting(Acct.WRITE_OFF_EXPENSE, delta, loan.id),
                     Posting(Acct.LOSS_ALLOWANCE, -delta, loan.id)]
            changed.append((loan, target))
    if not legs:
        return 0
    digest = hashlib.sha256(repr([(p.loan_id, p.amount_fen) for p in legs]).encode())
    post(session=session, entry=Entry(
        kind=EntryKind.PROVISION, value_date=as_of,
        idempotency_key=f"provision:{as_of.isoformat()}:{digest.hexdigest()[:20]}",
        postings=tuple(legs), memo=f"Loss allowance by DPD bucket on {as_of.isoformat()}"))
    for loan, target in changed:
        loan.allowance_fen = target
    session.flush()
    return len(changed)
