"""Defect 7 of issue 11 in the core: amounts, dates and keys a payment may carry."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from trellis import clock
from trellis.ledger import accrual, jobs, lifecycle
from trellis.ledger.dates import parse_date
from trellis.ledger.errors import BadDate, BadRepayment
from trellis.ledger.models import JournalEntry, Repayment


@pytest.mark.parametrize("raw", ["20261201", "2026-W48-2", "2026-12-1", "2026-02-30",
                                 " 2026-01-05", "2026-01-05T00:00", 20261201, None])
def test_only_calendar_iso_dates_parse(raw):
    with pytest.raises(BadDate):
        parse_date(raw, field="paid_on")


def test_iso_dates_parse():
    assert parse_date("2026-01-05", field="x") == date(2026, 1, 5)


@pytest.mark.parametrize("change, error", [
    ({"paid_on": clock.today() + timedelta(days=1)}, BadDate),
    ({"idempotency_key": ""}, BadRepayment), ({"idempotency_key": " "}, BadRepayment),
    ({"idempotency_key": 777}, BadRepayment), ({"idempotency_key": "a b"}, BadRepayment),
    ({"amount_fen": 2**63 - 1}, BadRepayment), ({"amount_fen": 0}, BadRepayment),
    ({"amount_fen": 5.0}, BadRepayment),
])
def test_repay_refuses_and_writes_nothing(session, make_loan, change, error):
    loan = make_loan(amount_fen=1_000_000, disburse=date(2026, 1, 1))
    entries = session.scalar(select(func.count()).select_from(JournalEntry))
    args = {"amount_fen": 1_000, "paid_on": date(2026, 1, 5), "idempotency_key": "k", **change}
    with pytest.raises(error):
        lifecycle.repay(session=session, loan_id=loan.id, **args)
    assert session.scalar(select(func.count()).select_from(Repayment)) == 0
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == entries


def test_amount_limit_follows_the_setting(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, disburse=date(2026, 1, 1))
    with pytest.raises(BadRepayment, match="largest"):
        lifecycle.repay(session=session, loan_id=loan.id, amount_fen=5_001,
                        paid_on=date(2026, 1, 5), idempotency_key="k", max_amount_fen=5_000)
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=5_000,
                    paid_on=date(2026, 1, 5), idempotency_key="k", max_amount_fen=5_000)


def test_no_interest_is_booked_in_advance(session, session_factory, make_loan):
    make_loan(amount_fen=1_000_000, disburse=date(2026, 1, 1))
    future = clock.today() + timedelta(days=1)
    with pytest.raises(BadDate):
        accrual.accrue(session=session, as_of=future)
    with pytest.raises(BadDate):
        jobs.accrue_daily(session_factory=session_factory, settings=None, as_of=future)
    with pytest.raises(BadDate):
        lifecycle.write_off(session=session, loan_id=1, as_of=future, idempotency_key="w")
