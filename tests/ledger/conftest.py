"""Fixtures of the ledger tests.

``books_checked`` (autouse): after every test that used the database session, the whole
ledger is checked (:func:`trellis.ledger.reports.check`: entries balance, the trial
balance sums to zero, every loan equals its sub-ledger, the hash chain verifies) and the
test fails with the list of problems.

``make_loan`` creates a firm and a loan row directly (``pending`` unless ``disburse``),
for tests of the journal and the lifecycle below the application stage.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from trellis.ledger import reports


@pytest.fixture(autouse=True)
def books_checked(request):
    # fetched before the test so that the session outlives this fixture's teardown
    session = request.getfixturevalue("session") if "session" in request.fixturenames else None
    yield
    if session is None or not session.is_active:
        return
    session.flush()
    problems = reports.check(session=session)
    assert problems == [], "the books are wrong after the test:\n" + "\n".join(problems)


@pytest.fixture
def product(session):
    from trellis.ledger.models import Product

    def get(code: str = "RF-STD") -> Product:
        return session.scalars(select(Product).where(Product.code == code)).one()

    return get


@pytest.fixture
def make_loan(session, make_firm, product):
    from trellis.ledger import lifecycle
    from trellis.ledger.models import Loan

    def make(*, amount_fen: int = 1_000_000, rate: str = "0.072", fee_fen: int = 0,
             penalty_rate: str = "0", due_date: date = date(2026, 3, 31),
             disburse: date | None = date(2026, 1, 1), first_loan: bool = False,
             cooling_off_days: int = 7, firm=None, day_count: int = 360) -> Loan:
        from trellis.ledger.apr import rate_micro

        firm = firm or make_firm()
        loan = Loan(firm_id=firm.id, product_id=product().id, amount_fen=amount_fen,
                    rate_micro=rate_micro(rate), penalty_rate_micro=rate_micro(penalty_rate),
                    day_count=day_count, fee_fen=fee_fen, cooling_off_days=cooling_off_days,
                    first_loan=first_loan, due_date=due_date,
                    waterfall=["penalty", "fees", "interest", "principal"])
        session.add(loan)
        session.flush()
        if disburse is not None:
            lifecycle.disburse(session=session, settings=None, loan_id=loan.id,
                               as_of=disburse)
        return loan

    return make
