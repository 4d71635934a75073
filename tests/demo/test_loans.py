"""The demo loan book: every loan state a relationship manager meets, booked through the
ledger, with the books exact (issue 11, item 9)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlmodel import col, select

from trellis.demo.loans import PLANS, bank_reference, seed_loan_book
from trellis.demo.seed import seed_demo
from trellis.ledger import lifecycle, reports
from trellis.ledger.chart import Acct
from trellis.ledger.models import Loan, Repayment
from trellis.trade.models import Payment

TODAY = date(2026, 11, 30)


def test_the_demo_book_holds_every_state_and_the_books_are_exact(session):
    seeded = seed_demo(session=session, n_vendors=120, seed=7, end=TODAY)
    loans = seed_loan_book(session=session, cluster_id=seeded.cluster_id, today=TODAY)
    assert list(loans) == [p.name for p in PLANS]
    session.expire_all()
    got = {name: session.get(Loan, i) for name, i in loans.items()}
    status = {name: loan.status for name, loan in got.items()}
    assert status == {
        "current": "active", "cooling_off": "active", "repaid": "repaid",
        "cooled_off": "cooled_off", "overdue_1_30": "overdue", "overdue_31_60": "overdue",
        "overdue_61_90": "overdue", "overdue_90_plus": "overdue", "swept": "repaid",
        "written_off": "written_off", "current_2": "active"}
    buckets = {name: lifecycle.bucket(lifecycle.dpd(got[name], TODAY))
               for name in ("overdue_1_30", "overdue_31_60", "overdue_61_90",
                            "overdue_90_plus")}
    assert buckets == {"overdue_1_30": "1-30", "overdue_31_60": "31-60",
                       "overdue_61_90": "61-90", "overdue_90_plus": "90+"}
    cooling = lifecycle.terms_of(got["cooling_off"]).cooling_off_until
    assert cooling is not None and cooling >= TODAY
    assert got["current"].principal_fen < got["current"].amount_fen
    assert got["current"].interest_fen > 0 and got["overdue_31_60"].penalty_fen > 0
    assert got["overdue_61_90"].allowance_fen > 0
    assert got["written_off"].written_off_fen > 0
    assert reports.check(session=session) == []
    tb = reports.trial_balance(session=session)
    assert tb.balanced and tb.balance(Acct.INTEREST_INCOME) < 0
    assert tb.balance(Acct.VENDOR_PAYABLE) < 0    # the anchor's surplus owed to the vendor
    # reader 11, R23: the repayments carried the key "demo-…", which the loan page read as
    # 演示数据; each now carries the reference a bank statement shows for the transfer
    keys = {r.idempotency_key for r in session.exec(select(Repayment).where(
        col(Repayment.loan_id).in_(list(loans.values()))))}
    wanted = {bank_reference(7, f"repay-{p.name}", TODAY - timedelta(days=ago))
              for p in PLANS for ago, _how in p.repay}
    assert len(wanted) == sum(len(p.repay) for p in PLANS)
    assert {k for k in keys if not k.startswith("anchor-payment:")} == wanted
    assert all(re.fullmatch(r"2026\d{4}\d{12}", k) for k in wanted)
    swept = bank_reference(7, "sweep-swept", TODAY - timedelta(days=3))
    assert session.exec(select(Payment).where(Payment.reference == swept)).one()
    assert not [k for k in keys if "demo" in k.lower()]
    # idempotent: a second run books nothing
    assert seed_loan_book(session=session, cluster_id=seeded.cluster_id, today=TODAY) == {}
    assert len(session.exec(select(Loan)).all()) == len(PLANS)


def test_a_bank_reference_is_the_same_for_the_same_seed_and_differs_otherwise():
    day = date(2026, 11, 5)
    ref = bank_reference(7, "repay-current", day)
    assert ref == bank_reference(7, "repay-current", day) and len(ref) == 20
    assert ref.startswith("20261105") and ref.isdigit()
    assert len({ref, bank_reference(8, "repay-current", day),
                bank_reference(7, "repay-repaid", day),
                bank_reference(7, "repay-current", date(2026, 11, 6))}) == 4
