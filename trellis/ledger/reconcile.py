"""The facts a replay reads, reconciled with the journal (part of ``trellis ledger check``).

A loan's postings of kind disbursement, accrual and repayment are, by construction, a
replay (:func:`trellis.ledger.replay.replay`) of its terms and its payments. So:

* :func:`cash_problems`: per loan and value date, the cash the journal received (or paid
  out at disbursement) equals the ``loan_repayments`` rows of that date (and the loan's
  amount on its pay-out day). A deleted or edited payment record shows up here even
  before anything replays the loan.
* :func:`replay_problems`: per loan, each account's total in the journal (those kinds)
  equals a fresh replay of the stored terms and payments. An edited rate, amount, fee or
  due date shows up as interest or principal the journal does not hold.
* :func:`disbursement_problems`: every pay-out entry of a loan has its
  ``loan_disbursements`` record and agrees with it (principal, fee, value date), and
  every record names its loan's pay-out entry.

Both return plain sentences, like :func:`trellis.ledger.reports.check`. Migration
``0011c`` also refuses such edits in the database; these checks catch what bypassed it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from trellis.db import id_of
from trellis.ledger.chart import Acct
from trellis.ledger.journal import EntryKind
from trellis.ledger.lifecycle import REPLAY_ACCOUNTS, REPLAY_KINDS, stored_payments, terms_of
from trellis.ledger.models import (
    Disbursement,
    JournalEntry,
    JournalPosting,
    Loan,
    Repayment,
)
from trellis.ledger.posting import account_ids
from trellis.ledger.replay import Balances, replay


def cash_problems(session: Session, loan_ids: list[int] | None = None) -> list[str]:
    """Per loan and value date, journal cash (fen) that the payment records and pay-out
    do not account for, as sentences (see the module); *loan_ids* limits the loans."""
    cash = account_ids(session)[Acct.CASH.value]
    stmt = (select(col(JournalPosting.loan_id), col(JournalPosting.value_date),
                   func.sum(col(JournalPosting.amount_fen)))
            .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
            .where(col(JournalPosting.account_id) == cash, col(JournalPosting.loan_id).is_not(None),
                   col(JournalEntry.kind) != EntryKind.PAYOUT.value)
            .group_by(col(JournalPosting.loan_id), col(JournalPosting.value_date)))
    facts_stmt = (select(col(Repayment.loan_id), col(Repayment.paid_on),
                         func.sum(col(Repayment.amount_fen)))
                  .group_by(col(Repayment.loan_id), col(Repayment.paid_on)))
    loans_stmt = select(col(Loan.id), col(Loan.disbursed_on), col(Loan.amount_fen)).where(
        col(Loan.disbursed_on).is_not(None))
    if loan_ids is not None:
        stmt = stmt.where(col(JournalPosting.loan_id).in_(loan_ids))
        facts_stmt = facts_stmt.where(col(Repayment.loan_id).in_(loan_ids))
        loans_stmt = loans_stmt.where(col(Loan.id).in_(loan_ids))
    booked = {(lo, vd): int(s) for lo, vd, s in session.execute(stmt) if s}
    facts: dict[tuple[int | None, date], int] = defaultdict(int)
    for lo, vd, s in session.execute(facts_stmt):
        facts[(lo, vd)] += int(s)
    for lo, vd, amount in session.execute(loans_stmt):
        facts[(lo, vd)] -= int(amount)
    problems = []
    for key in sorted(set(booked) | {k for k, v in facts.items() if v}):
        journal, recorded = booked.get(key, 0), facts.get(key, 0)
        if journal != recorded:
            problems.append(f"Loan {key[0]}: the journal holds {journal} fen of cash on "
                            f"{key[1]} but the payment records (and pay-out) say {recorded} "
                            "fen.")
    return problems


def replay_problems(session: Session, loan_ids: list[int] | None = None) -> list[str]:
    """Per loan and account, journal totals (fen) that differ from a fresh replay of its
    stored terms and payments, as sentences; *loan_ids* limits the loans."""

    ids = account_ids(session)
    codes = {ids[a.value]: a.value for a in REPLAY_ACCOUNTS}
    stmt = (select(col(JournalPosting.loan_id), col(JournalPosting.account_id),
                   func.sum(col(JournalPosting.amount_fen)))
            .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
            .where(col(JournalPosting.loan_id).is_not(None),
                   col(JournalPosting.account_id).in_(list(codes)),
                   col(JournalEntry.kind).in_([k.value for k in REPLAY_KINDS]))
            .group_by(col(JournalPosting.loan_id), col(JournalPosting.account_id)))
    loans_stmt = select(Loan).where(col(Loan.disbursed_on).is_not(None)).order_by(col(Loan.id))
    if loan_ids is not None:
        stmt = stmt.where(col(JournalPosting.loan_id).in_(loan_ids))
        loans_stmt = loans_stmt.where(col(Loan.id).in_(loan_ids))
    booked: dict[int, dict[str, int]] = defaultdict(dict)
    for lo, acct, s in session.execute(stmt):
        booked[lo][codes[acct]] = int(s or 0)
    problems = []
    for loan in session.scalars(loans_stmt):
        loan_id, disbursed_on = id_of(loan), loan.disbursed_on
        assert disbursed_on is not None   # loans_stmt takes paid-out loans only
        payments = stored_payments(session, loan_id)
        until = max([loan.accrued_until or disbursed_on] + [p.paid_on for p in payments])
        try:
            outcome = replay(terms_of(loan), start=disbursed_on, until=until,
                             opening=Balances(), payments=payments)
        except ValueError as exc:   # a payment dated before the pay-out
            problems.append(f"Loan {loan.id} cannot be replayed: {exc}.")
            continue
        sums: dict[str, int] = defaultdict(int)
        for p in outcome.postings:
            sums[str(p.account)] += p.amount_fen
        for code in sorted(set(sums) | set(booked.get(loan_id, {}))):
            want, have = sums.get(code, 0), booked.get(loan_id, {}).get(code, 0)
            if want != have:
                problems.append(f"Loan {loan.id}: account {code} holds {have} fen in the "
                                f"journal but a replay of the loan's terms and payments "
                                f"gives {want} fen (terms or payments changed?).")
    return problems


def disbursement_problems(session: Session, loan_ids: list[int] | None = None) -> list[str]:
    """Pay-out entries (one loan's, kind disbursement) without a matching
    ``loan_disbursements`` record, and records without their entry, as sentences;
    *loan_ids* limits the loans. Principal and fee are compared in fen with the entry's
    postings to loans receivable and fees receivable."""
    ids = account_ids(session)
    principal, fee = ids[Acct.LOANS.value], ids[Acct.FEES_RECEIVABLE.value]
    stmt = (select(col(JournalEntry.id), col(JournalEntry.loan_id), col(JournalEntry.value_date),
                   col(JournalPosting.account_id), func.sum(col(JournalPosting.amount_fen)))
            .join(JournalPosting, col(JournalPosting.entry_id) == col(JournalEntry.id))
            .where(col(JournalEntry.kind) == EntryKind.DISBURSEMENT.value,
                   col(JournalEntry.loan_id).is_not(None),
                   col(JournalPosting.account_id).in_([principal, fee]))
            .group_by(col(JournalEntry.id), col(JournalEntry.loan_id), col(JournalEntry.value_date),
                      col(JournalPosting.account_id)))
    records = select(Disbursement)
    if loan_ids is not None:
        stmt = stmt.where(col(JournalEntry.loan_id).in_(loan_ids))
        records = records.where(col(Disbursement.loan_id).in_(loan_ids))
    entries: dict[int, dict[str, Any]] = {}
    e: dict[str, Any] | None   # an entry's figures: loan, value date, amount and fee (fen)
    for entry_id, loan_id, vd, account_id, total in session.execute(stmt):
        e = entries.setdefault(entry_id, {"loan": loan_id, "on": vd, "amount": 0, "fee": 0})
        e["amount" if account_id == principal else "fee"] += int(total or 0)
    problems = []
    for rec in session.scalars(records.order_by(col(Disbursement.id))):
        e = entries.pop(rec.entry_id, None)
        if e is None or e["loan"] != rec.loan_id:
            problems.append(f"Loan {rec.loan_id}: its disbursement record names entry "
                            f"{rec.entry_id}, which is not the loan's pay-out entry.")
        elif (e["amount"], e["fee"], e["on"]) != (rec.amount_fen, rec.fee_fen,
                                                   rec.disbursed_on):
            problems.append(f"Loan {rec.loan_id}: the disbursement record says "
                            f"{rec.amount_fen} fen and a fee of {rec.fee_fen} fen on "
                            f"{rec.disbursed_on}, but its pay-out entry holds {e['amount']} "
                            f"fen and {e['fee']} fen on {e['on']}.")
    for entry_id, e in sorted(entries.items()):
        problems.append(f"Loan {e['loan']}: its pay-out entry {entry_id} has no "
                        "disbursement record.")
    return problems
