"""Daily interest accrual, set-based: a few statements per day, whatever the book size.

For each day ``d`` not yet booked, every live loan with ``accrued_until = d`` gets day
``d``'s contract interest and, past its due date, penalty interest, both computed in SQL
with exactly the integer expression of :func:`trellis.ledger.replay.daily_interest`:

1. ``INSERT INTO ledger_accrual_batch SELECT id ... FOR UPDATE`` locks the loans and
   freezes the set in a temporary table (under READ COMMITTED a loan paid out while the
   job runs would otherwise join the later statements but not the hash);
2. one ``SELECT`` reads the amounts of the batch; they are hashed into the journal's
   chain (the hash must cover every posting);
3. one journal entry (``accrual``) is appended, and one ``INSERT ... SELECT`` writes its
   postings: per loan, debit the receivable and credit the income, each leg carrying the
   loan id, so every loan's sub-ledger balances on its own;
4. one ``UPDATE`` adds the same amounts to the batch's balance columns and moves
   ``accrued_until`` to ``d + 1``.

A day already booked for a loan is never booked again (step 1 selects only loans whose
``accrued_until`` is that day), so re-running the job is harmless. :func:`mark_overdue`
moves active loans past their due date to ``overdue`` in one ``UPDATE``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    CursorResult,
    MetaData,
    SQLColumnExpression,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlmodel import Session, col

from trellis.db import table_of
from trellis.ledger.chart import Acct
from trellis.ledger.dates import check_not_future
from trellis.ledger.journal import EntryKind
from trellis.ledger.models import JournalPosting, Loan, LoanStatus
from trellis.ledger.posting import account_ids, append_bulk
from trellis.ledger.replay import MICRO

logger = logging.getLogger(__name__)

LIVE = (LoanStatus.ACTIVE.value, LoanStatus.OVERDUE.value)

# Temporary tables (per connection, outside the application's metadata): the loans of
# one day's batch, and the loans one run of :func:`accrue` locked before anything else.
BATCH = Table("ledger_accrual_batch", MetaData(), Column("loan_id", BigInteger,
                                                         primary_key=True))
CREATE_BATCH = ("CREATE TEMPORARY TABLE IF NOT EXISTS ledger_accrual_batch "
                "(loan_id BIGINT PRIMARY KEY)")
SCOPE = Table("ledger_accrual_scope", MetaData(), Column("loan_id", BigInteger,
                                                         primary_key=True))
CREATE_SCOPE = ("CREATE TEMPORARY TABLE IF NOT EXISTS ledger_accrual_scope "
                "(loan_id BIGINT PRIMARY KEY)")


def _daily(rate_col: SQLColumnExpression[int]) -> ColumnElement[int]:
    """SQL for half-up(principal x rate / (MICRO x day_count)), integers only."""
    denominator = col(Loan.day_count) * MICRO
    return (col(Loan.principal_fen) * rate_col * 2 + denominator) // (denominator * 2)


def _exprs(day: date) -> tuple[ColumnElement[int], ColumnElement[Any], ColumnElement[bool]]:
    interest = _daily(col(Loan.rate_micro))
    penalty = case((col(Loan.due_date) < day, _daily(col(Loan.penalty_rate_micro))), else_=0)
    cond = and_(col(Loan.status).in_(LIVE), col(Loan.accrued_until) == day)
    return interest, penalty, cond


@dataclass(frozen=True, slots=True)
class DayResult:
    day: date
    loans: int
    interest_fen: int
    penalty_fen: int
    entry_seq: int | None


def accrue_day(*, session: Session, day: date, currency: str = "CNY",
               scoped: bool = False) -> DayResult:
    """Book day *day*'s interest for every live loan whose ``accrued_until`` is *day*
    (*scoped*: only among the loans :func:`accrue` locked first)."""
    session.flush()
    interest, penalty, cond = _exprs(day)
    cond = and_(cond, col(Loan.currency) == currency)
    if scoped:
        cond = and_(cond, col(Loan.id).in_(select(SCOPE.c.loan_id)))
    session.execute(text(CREATE_BATCH))
    session.execute(delete(BATCH))
    session.execute(insert(BATCH).from_select(
        ["loan_id"], select(col(Loan.id)).where(cond).order_by(col(Loan.id)).with_for_update()))
    in_batch = col(Loan.id).in_(select(BATCH.c.loan_id))
    rows = session.execute(select(col(Loan.id), interest, penalty).where(in_batch)
                           .order_by(col(Loan.id))).all()
    if not rows:
        return DayResult(day, 0, 0, 0, None)
    ids = account_ids(session, currency)
    # in account-code order, loans by id: the canonical order of the entry hash
    legs = ((Acct.INTEREST_RECEIVABLE, 1, 1), (Acct.PENALTY_RECEIVABLE, 1, 2),
            (Acct.INTEREST_INCOME, -1, 1), (Acct.PENALTY_INCOME, -1, 2))
    hash_rows = [(a.value, row[0], day, sign * row[pos])
                 for a, sign, pos in legs for row in rows if row[pos]]
    total_i = sum(r[1] for r in rows)
    total_p = sum(r[2] for r in rows)
    seq = None
    if hash_rows:
        key = (f"accrual:{currency}:{day.isoformat()}:{rows[0][0]}-{rows[-1][0]}:"
               f"{len(rows)}:{total_i}:{total_p}")

        def insert_postings(entry_id: int) -> int:
            parts = []
            for acct, sign, pos in legs:
                amount = interest if pos == 1 else penalty
                parts.append(select(literal(entry_id), literal(ids[acct.value]), col(Loan.id),
                                    literal(day), amount * sign)
                             .where(in_batch, amount != 0))
            stmt = insert(table_of(JournalPosting)).from_select(
                ["entry_id", "account_id", "loan_id", "value_date", "amount_fen"],
                union_all(*parts))
            result = cast(CursorResult[Any], session.execute(
                stmt.execution_options(preserve_rowcount=True)))
            return result.rowcount

        entry = append_bulk(session=session, kind=EntryKind.ACCRUAL, value_date=day,
                            idempotency_key=key, hash_rows=hash_rows,
                            insert_postings=insert_postings, currency=currency,
                            presorted=True,
                            memo=f"Interest for {day.isoformat()}: {len(rows)} loans")
        seq = entry.seq
    session.execute(update(Loan).where(in_batch).values(
        interest_fen=col(Loan.interest_fen) + interest, penalty_fen=col(Loan.penalty_fen) + penalty,
        accrued_until=day + timedelta(days=1)).execution_options(synchronize_session=False))
    session.expire_all()
    return DayResult(day, len(rows), total_i, total_p, seq)


def accrue(*, session: Session, as_of: date, currency: str = "CNY",
           today: date | None = None) -> list[DayResult]:
    """Book interest for every day before *as_of* that a live loan has not had yet.

    Runs :func:`accrue_day` for each day from the earliest ``accrued_until`` among live
    loans up to the day before *as_of*; returns one result per day that booked anything.
    *as_of* may not be after *today* (default: the date today): interest is booked for
    days that are over, never in advance (:class:`~trellis.ledger.errors.FutureDate`).
    """
    check_not_future(as_of, today=today, field="as_of")
    # Lock every loan this run will touch first, in id order and before the ledger head:
    # the lock order of every writer (loans, then head). The batches are then taken only
    # among these loans: a loan paid out meanwhile is left for the next run, because
    # locking it after the head would reverse the order and could deadlock a repayment.
    session.flush()
    session.execute(text(CREATE_SCOPE))
    session.execute(delete(SCOPE))
    session.execute(insert(SCOPE).from_select(["loan_id"], select(col(Loan.id)).where(
        col(Loan.status).in_(LIVE), col(Loan.currency) == currency, col(Loan.accrued_until) < as_of)
        .order_by(col(Loan.id)).with_for_update()))
    first = session.execute(select(func.min(col(Loan.accrued_until))).where(
        col(Loan.id).in_(select(SCOPE.c.loan_id)))).scalar_one_or_none()
    results = []
    day = first
    while day is not None and day < as_of:
        result = accrue_day(session=session, day=day, currency=currency, scoped=True)
        if result.loans:
            results.append(result)
        day += timedelta(days=1)
    session.flush()
    return results


def first_unbooked_day(*, session: Session, as_of: date, currency: str = "CNY"
                       ) -> date | None:
    """The earliest day before *as_of* some live loan has no interest booked for."""
    return session.execute(select(func.min(col(Loan.accrued_until))).where(
        col(Loan.status).in_(LIVE), col(Loan.currency) == currency, col(Loan.accrued_until) < as_of)
    ).scalar_one_or_none()


def mark_overdue(*, session: Session, as_of: date) -> int:
    """Move every active loan with money owed past its due date to ``overdue``."""
    owed = (col(Loan.principal_fen) + col(Loan.interest_fen) + col(Loan.penalty_fen)
            + col(Loan.fees_fen))
    cond = and_(col(Loan.status) == LoanStatus.ACTIVE.value, col(Loan.due_date) < as_of,
                owed > 0)
    # lock them in id order first, like every other writer, then change them
    ids = session.scalars(select(col(Loan.id)).where(cond).order_by(col(Loan.id))
                          .with_for_update()).all()
    if not ids:
        return 0
    result = cast(CursorResult[Any], session.execute(
        update(Loan).where(cond, col(Loan.id).in_(ids)).values(status=LoanStatus.OVERDUE.value)
        .execution_options(synchronize_session=False)))
    session.expire_all()
    return result.rowcount
