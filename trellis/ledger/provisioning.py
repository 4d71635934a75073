"""Loss allowance by days-past-due bucket; the journal is the only truth.

Each product holds ``provision_bps``: the share of principal to hold as allowance per DPD
bucket (``"1-30"``, ``"31-60"``, ``"61-90"``, ``"90+"``; ``"current"`` is not provisioned
loan by loan). :func:`provision` moves every overdue loan's allowance to its bucket's
target and releases the allowance of loans that are no longer live; one ``provision``
entry per run (debit credit-loss expense, credit loss allowance, per loan). A write-off
uses the loan's allowance first.

What a loan holds is read from the journal (its loss-allowance postings), never from the
loan row, and after the entry is posted the row's ``allowance_fen`` is set from the
journal in one ``UPDATE ... SET allowance_fen = (SELECT ... FROM journal_postings)``: the
row is a copy that cannot drift (``trellis ledger check`` compares them). Each run's entry
key names the journal's position when it ran, so a run that comes round to the same date
and the same movements as an earlier one posts again instead of being taken for a retry
of it. Allowances follow the latest date provisioned: a run for an earlier date (a
back-fill of interest) provisions as of that latest date, so it never releases the
allowance of a loan that is overdue now.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import ScalarSelect, func, or_, select, update
from sqlmodel import Session, col

from trellis.ledger import status
from trellis.ledger.chart import Acct
from trellis.ledger.journal import Entry, EntryKind, Posting
from trellis.ledger.lifecycle import bucket, dpd
from trellis.ledger.models import JournalEntry, JournalPosting, LedgerHead, Loan, Product
from trellis.ledger.posting import account_ids, post


def target_allowance(principal_fen: int, bps: int) -> int:
    """*bps* of *principal_fen*, half up."""
    return (principal_fen * bps * 2 + 10_000) // 20_000


def journal_allowance(session: Session) -> ScalarSelect[int]:
    """SQL: the loss allowance the journal holds for ``loans.id`` (credit shown positive)."""
    allowance = account_ids(session)[Acct.LOSS_ALLOWANCE.value]
    return (select(func.coalesce(-func.sum(col(JournalPosting.amount_fen)), 0))
            .where(col(JournalPosting.loan_id) == col(Loan.id),
                   col(JournalPosting.account_id) == allowance)
            .correlate(Loan).scalar_subquery())


def latest_provision_date(session: Session, currency: str = "CNY") -> date | None:
    """The latest value date an allowance run posted for (None: never provisioned)."""
    return session.scalar(select(func.max(col(JournalEntry.value_date))).where(
        col(JournalEntry.kind) == EntryKind.PROVISION.value,
        col(JournalEntry.currency) == currency))


def provision(*, session: Session, as_of: date) -> int:
    """Bring allowances in line with DPD buckets on *as_of* (or on the latest date already
    provisioned, if later); returns the number of loans whose allowance moved."""
    latest = latest_provision_date(session)
    if latest is not None and latest > as_of:
        as_of = latest
    rates = {p.id: p.provision_bps or {} for p in session.scalars(select(Product))}
    live = [s.value for s in status.LIVE]
    held = journal_allowance(session)
    # loans first, in id order (the lock order), then read what the journal holds for them
    loans = session.scalars(
        select(Loan).where(or_(col(Loan.allowance_fen) > 0, held > 0,
                               (col(Loan.status).in_(live)) & (col(Loan.due_date) < as_of)))
        .order_by(col(Loan.id)).with_for_update().execution_options(populate_existing=True)).all()
    if not loans:
        return 0
    ids = [loan.id for loan in loans]
    booked: dict[int | None, int] = dict(session.execute(
        select(col(Loan.id), held).where(col(Loan.id).in_(ids))).tuples().all())
    legs: list[Posting] = []
    changed = []
    for loan in loans:
        target = 0
        if loan.status in live:
            b = bucket(dpd(loan, as_of))
            if b != "current":
                target = target_allowance(loan.principal_fen, int(rates[loan.product_id]
                                                                   .get(b, 0)))
        delta = target - int(booked.get(loan.id, 0))
        if delta:
            legs += [Posting(Acct.WRITE_OFF_EXPENSE, delta, loan.id),
                     Posting(Acct.LOSS_ALLOWANCE, -delta, loan.id)]
            changed.append(loan.id)
    if legs:
        seq = session.scalar(select(col(LedgerHead.seq)).where(  # the shard it posts to
            col(LedgerHead.currency) == "CNY", col(LedgerHead.shard) == 0)) or 0
        digest = hashlib.sha256(repr([(p.loan_id, p.amount_fen) for p in legs]).encode())
        post(session=session, entry=Entry(
            kind=EntryKind.PROVISION, value_date=as_of,
            idempotency_key=f"provision:{as_of.isoformat()}:{seq}:{digest.hexdigest()[:20]}",
            postings=tuple(legs), memo=f"Loss allowance by DPD bucket on {as_of.isoformat()}"))
    # the rows copy the journal, in one statement (also mending any row that drifted)
    session.execute(update(Loan).where(col(Loan.id).in_(ids))
                    .values(allowance_fen=journal_allowance(session))
                    .execution_options(synchronize_session=False))
    session.expire_all()
    return len(changed)
