"""Property tests: random sequences of pay-outs, accruals, repayments (many back-dated)
and overdue marking never break the books.

After every step: every entry balances, the trial balance sums to zero and each loan
equals its sub-ledger. At the end also: the hash chain verifies, cash equals money
received less money paid out, each loan's payments are accounted for component by
component (money is conserved), and each loan equals a clean replay of its payments.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.ledger import accrual, lifecycle, reports
from trellis.ledger.chart import Acct
from trellis.ledger.errors import CannotRepay
from trellis.ledger.models import Loan, LoanStatus
from trellis.ledger.replay import Balances, replay

D0 = date(2026, 1, 1)

loan_terms = st.tuples(
    st.integers(100_000, 5_000_000),        # amount, fen
    st.sampled_from(["0.0365", "0.072", "0.1234", "0.18"]),
    st.integers(0, 9_000),                  # fee
    st.booleans(),                          # first loan (cooling-off)
    st.integers(3, 45),                     # due after, days
)
steps = st.lists(st.one_of(
    st.tuples(st.just("accrue"), st.integers(1, 12)),
    st.tuples(st.just("repay"), st.integers(0, 2), st.integers(1, 2_500_000),
              st.integers(0, 25)),
    st.tuples(st.just("overdue")),
), min_size=1, max_size=12)


def natural(b: dict, acct: Acct) -> int:
    return -b[acct.value]


@settings(max_examples=50, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(terms=st.lists(loan_terms, min_size=1, max_size=3), plan=steps)
def test_random_histories_keep_the_books(session, make_loan, make_firm, terms, plan):
    nested = session.begin_nested()
    try:
        # one firm per loan: a firm has at most one first loan (issue 11, defect 6)
        loans = [make_loan(firm=make_firm(), amount_fen=a, rate=r, fee_fen=f, first_loan=first,
                           penalty_rate="0.036", due_date=D0 + timedelta(days=due))
                 for a, r, f, first, due in terms]
        ids = [loan.id for loan in loans]
        today, paid, n = D0, 0, 0
        for step in plan:
            if step[0] == "accrue":
                today += timedelta(days=step[1])
                accrual.accrue(session=session, as_of=today)
            elif step[0] == "overdue":
                accrual.mark_overdue(session=session, as_of=today)
            else:
                _, idx, amount, back = step
                loan_id = ids[idx % len(ids)]
                n += 1
                paid_on = max(D0, today - timedelta(days=back))
                live = session.get(Loan, loan_id).status in (LoanStatus.ACTIVE,
                                                            LoanStatus.OVERDUE)
                try:
                    lifecycle.repay(session=session, loan_id=loan_id, amount_fen=amount,
                                    paid_on=paid_on, idempotency_key=f"h{n}")
                    paid += amount
                    assert live
                except CannotRepay:
                    assert not live
            assert reports.check(session=session, hashes=False) == []
        assert reports.check(session=session) == []
        lent = sum(a for a, *_ in terms)
        assert reports.trial_balance(session=session).balance(Acct.CASH) == paid - lent
        session.expire_all()
        for loan_id in ids:
            loan = session.get(Loan, loan_id)
            b = reports.balances(session=session, loan_id=loan_id)
            received = sum(p.amount_fen for p in lifecycle.stored_payments(session, loan_id))
            assert received == (
                (loan.amount_fen - loan.principal_fen)
                + (natural(b, Acct.INTEREST_INCOME) - loan.interest_fen)
                + (natural(b, Acct.PENALTY_INCOME) - loan.penalty_fen)
                + (natural(b, Acct.FEE_INCOME) - loan.fees_fen)
                + natural(b, Acct.VENDOR_PAYABLE))
            assert min(natural(b, a) for a in (Acct.INTEREST_INCOME, Acct.PENALTY_INCOME,
                                               Acct.FEE_INCOME, Acct.VENDOR_PAYABLE)) >= 0
            payments = lifecycle.stored_payments(session, loan_id)
            until = max([loan.accrued_until] + [p.paid_on for p in payments])
            clean = replay(lifecycle.terms_of(loan), start=loan.disbursed_on, until=until,
                           opening=Balances(), payments=payments)
            assert clean.balances == Balances(loan.principal_fen, loan.interest_fen,
                                              loan.penalty_fen, loan.fees_fen)
    finally:
        nested.rollback()
        session.expire_all()
