"""Tampering with the books is refused by the database and, when someone with the keys
to the database gets past that, caught by ``check`` (issue 11, defects 4 and 5).

Each tampering happens inside a savepoint that is rolled back afterwards, so the
after-test check of the books sees the honest ledger again.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from trellis.db import is_postgres
from trellis.ledger import accrual, lifecycle, reports

D0 = date(2026, 1, 1)


def _loan_with_payments(make_loan, session):
    loan = make_loan(amount_fen=1_000_000, rate="0.072", disburse=D0)
    accrual.accrue(session=session, as_of=date(2026, 1, 31))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=148_345,
                    paid_on=date(2026, 1, 10), idempotency_key="bank-1")
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=50_000,
                    paid_on=date(2026, 1, 20), idempotency_key="bank-2")
    session.flush()
    return loan


def _disable(session, table, triggers):
    if is_postgres(session):
        session.execute(text(f"alter table {table} disable trigger user"))
    else:
        for name in triggers:
            session.execute(text(f"drop trigger {name}"))


@pytest.mark.parametrize("statement", [
    "delete from loan_repayments where idempotency_key = 'bank-1'",
    "update loan_repayments set amount_fen = 1 where idempotency_key = 'bank-1'",
    "update loan_repayments set paid_on = '2026-01-02' where idempotency_key = 'bank-1'",
    "update loans set rate_micro = 1 where id = :loan",
    "update loans set amount_fen = 2000000 where id = :loan",
    "update loans set due_date = '2026-12-31' where id = :loan",
])
def test_the_database_refuses_to_change_the_facts_a_replay_reads(session, make_loan,
                                                                  statement):
    loan = _loan_with_payments(make_loan, session)
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="facts|terms cannot change"):
        session.execute(text(statement), {"loan": loan.id})
    nested.rollback()


def test_balances_and_status_of_a_paid_out_loan_still_move(session, make_loan):
    loan = _loan_with_payments(make_loan, session)
    session.execute(text("update loans set accrued_until = accrued_until where id = :i"),
                    {"i": loan.id})


def test_check_catches_a_deleted_repayment_record(session, make_loan):
    loan = _loan_with_payments(make_loan, session)
    assert reports.check(session=session) == []
    nested = session.begin_nested()
    _disable(session, "loan_repayments", ["trg_loan_repayments_no_delete"])
    session.execute(text("delete from loan_repayments where idempotency_key = 'bank-1'"))
    problems = reports.check(session=session, hashes=False)
    nested.rollback()
    assert any(f"Loan {loan.id}: the journal holds 148345 fen of cash on 2026-01-10" in p
               for p in problems), problems


@pytest.mark.parametrize("column, value", [("rate_micro", 90_000), ("amount_fen", 900_000),
                                           ("fee_fen", 5_000)])
def test_check_catches_edited_loan_terms(session, make_loan, column, value):
    loan = _loan_with_payments(make_loan, session)
    nested = session.begin_nested()
    _disable(session, "loans", ["trg_loans_terms_fixed"])
    session.execute(text(f"update loans set {column} = {value} where id = :i"), {"i": loan.id})
    session.expire_all()
    problems = reports.check(session=session, hashes=False)
    nested.rollback()
    session.expire_all()
    assert any(f"Loan {loan.id}: account" in p and "replay" in p for p in problems), problems
