"""Servicing: disbursement, accrual, waterfall, back-dated payments, cooling-off, overdue,
write-off and recovery. Every test ends with the books checked (conftest)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trellis.ledger import accrual, lifecycle, reports
from trellis.ledger.chart import Acct
from trellis.ledger.errors import (
    BadRepayment,
    CannotRecover,
    CannotRepay,
    CannotWriteOff,
    IdempotencyMismatch,
)
from trellis.ledger.models import Loan, LoanStatus, Repayment

D0 = date(2026, 1, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def fresh(session, loan) -> Loan:
    session.flush()
    session.expire_all()
    return session.get(Loan, loan.id)


def balances(loan):
    return (loan.principal_fen, loan.interest_fen, loan.penalty_fen, loan.fees_fen)


def per_loan(session, loan_id, as_of=None):
    return reports.balances(session=session, loan_id=loan_id, as_of=as_of)


def test_disbursement_books_principal_and_fee(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000)
    assert loan.status == LoanStatus.ACTIVE and loan.accrued_until == D0
    assert balances(loan) == (1_000_000, 0, 0, 3_000)
    b = per_loan(session, loan.id)
    assert b[Acct.CASH.value] == -1_000_000 and b[Acct.FEE_INCOME.value] == -3_000


def test_daily_accrual_books_each_day_once(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, rate="0.072")   # 200 fen a day
    results = accrual.accrue(session=session, as_of=day(30))
    assert len(results) == 30
    accrual.accrue(session=session, as_of=day(30))   # again: nothing more
    loan = fresh(session, loan)
    assert loan.interest_fen == 30 * 200 and loan.accrued_until == day(30)
    assert per_loan(session, loan.id, as_of=day(9))[Acct.INTEREST_INCOME.value] == -10 * 200


def test_set_based_accrual_equals_the_replay(session, make_loan):
    loans = [make_loan(amount_fen=a, rate=r, penalty_rate="0.03", due_date=day(20))
             for a, r in [(1_234_567, "0.0655"), (99_999, "0.1199"), (5_000_000, "0.031")]]
    accrual.accrue(session=session, as_of=day(45))
    for loan in loans:
        loan = fresh(session, loan)
        projected = lifecycle.allocations(session=session, loan_id=loan.id)
        assert projected.balances.interest_fen == loan.interest_fen
        assert projected.balances.penalty_fen == loan.penalty_fen > 0


def test_waterfall_order_penalty_fees_interest_principal(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, penalty_rate="0.036",
                     due_date=day(10))
    accrual.accrue(session=session, as_of=day(20))
    loan = fresh(session, loan)
    # 20 days of interest at 200; 9 days past due (days 11..19) of penalty at 100
    assert balances(loan) == (1_000_000, 4_000, 900, 3_000)
    rep = lifecycle.repay(session=session, loan_id=loan.id, amount_fen=5_000,
                          paid_on=day(20), idempotency_key="p1")
    loan = fresh(session, loan)
    # 900 penalty, 3,000 fees, 1,100 of the 4,000 interest
    assert balances(loan) == (1_000_000, 2_900, 0, 0)
    assert rep.entry_id is not None


def test_full_repayment_closes_and_surplus_goes_to_the_vendor(session, make_loan):
    loan = make_loan(amount_fen=1_000_000)
    accrual.accrue(session=session, as_of=day(10))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1_002_000 + 500,
                    paid_on=day(10), idempotency_key="all")
    loan = fresh(session, loan)
    assert loan.status == LoanStatus.REPAID and loan.closed_on == day(10)
    assert balances(loan) == (0, 0, 0, 0)
    assert per_loan(session, loan.id)[Acct.VENDOR_PAYABLE.value] == -500
    with pytest.raises(CannotRepay):
        lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1, paid_on=day(11),
                        idempotency_key="late")


def test_early_repayment_pays_interest_to_date_only(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, due_date=day(90))
    accrual.accrue(session=session, as_of=day(15))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1_003_000, paid_on=day(15),
                    idempotency_key="early")
    loan = fresh(session, loan)
    assert loan.status == LoanStatus.REPAID
    assert -per_loan(session, loan.id)[Acct.INTEREST_INCOME.value] == 15 * 200


def test_payment_on_a_lagging_loan_books_the_missing_days_first(session, make_loan):
    loan = make_loan(amount_fen=1_000_000)
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=2_000, paid_on=day(10),
                    idempotency_key="p")
    loan = fresh(session, loan)
    assert loan.accrued_until == day(10)
    assert balances(loan) == (1_000_000, 0, 0, 0)


def test_retried_payment_posts_once(session, make_loan):
    loan = make_loan(amount_fen=1_000_000)
    first = lifecycle.repay(session=session, loan_id=loan.id, amount_fen=10_000,
                            paid_on=day(5), idempotency_key="same")
    again = lifecycle.repay(session=session, loan_id=loan.id, amount_fen=10_000,
                            paid_on=day(5), idempotency_key="same")
    assert again.id == first.id
    assert fresh(session, loan).principal_fen == 1_000_000 - 9_000
    with pytest.raises(IdempotencyMismatch):
        lifecycle.repay(session=session, loan_id=loan.id, amount_fen=10_001, paid_on=day(5),
                        idempotency_key="same")


@pytest.mark.parametrize("amount, paid_on, error", [
    (0, day(1), BadRepayment), (-5, day(1), BadRepayment), (10.0, day(1), BadRepayment),
    (100, D0 - timedelta(days=1), BadRepayment),
])
def test_bad_payments_are_refused(session, make_loan, amount, paid_on, error):
    loan = make_loan()
    with pytest.raises(error):
        lifecycle.repay(session=session, loan_id=loan.id, amount_fen=amount, paid_on=paid_on,
                        idempotency_key="bad")


# --- back-dated payments --------------------------------------------------------------

PLANS = {
    "one partial": [(10, 500_000)],
    "two partials": [(5, 100_000), (20, 300_000)],
    "same day twice": [(7, 1_500), (7, 400_000)],
    "on disbursement day": [(0, 250_000)],
    "repaid in full": [(12, 1_004_400)],
    "repaid in full late": [(45, 1_000_000 + 2_000 + 45 * 200 + 14 * 100)],
    "overpaid": [(12, 1_100_000)],
    "after the due date": [(40, 200_000), (50, 300_000)],
}


@pytest.mark.parametrize("plan", list(PLANS), ids=list(PLANS))
@pytest.mark.parametrize("order", ["as recorded", "reversed"])
def test_back_dated_payments_equal_on_time_payments(session, make_loan, make_firm, plan,
                                                    order):
    """Loan A gets each payment on its day; loan B gets the same payments only after
    60 days have been accrued (back-dated, possibly out of order). Every balance, on
    every date, must be the same."""
    terms = dict(amount_fen=1_000_000, fee_fen=2_000, rate="0.072", penalty_rate="0.036",
                 due_date=day(30))
    on_time, back = make_loan(**terms), make_loan(**terms)
    payments = PLANS[plan]
    for n, (d, amount) in enumerate(payments):
        accrual.accrue(session=session, as_of=day(d))
        lifecycle.repay(session=session, loan_id=on_time.id, amount_fen=amount,
                        paid_on=day(d), idempotency_key=f"a{n}")
    accrual.accrue(session=session, as_of=day(60))
    accrual.mark_overdue(session=session, as_of=day(60))
    late = list(enumerate(payments))
    if order == "reversed":
        late.reverse()
    for n, (d, amount) in late:
        lifecycle.repay(session=session, loan_id=back.id, amount_fen=amount, paid_on=day(d),
                        idempotency_key=f"b{n}")
    a, b = fresh(session, on_time), fresh(session, back)
    assert balances(a) == balances(b)
    assert (a.status, a.closed_on, a.accrued_until) == (b.status, b.closed_on,
                                                        b.accrued_until)
    for d in range(-1, 61):
        assert per_loan(session, a.id, day(d)) == per_loan(session, b.id, day(d)), d


def test_back_dated_payment_reverses_later_interest(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, rate="0.072")
    accrual.accrue(session=session, as_of=day(30))
    assert fresh(session, loan).interest_fen == 6_000
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=502_000, paid_on=day(10),
                    idempotency_key="late")
    loan = fresh(session, loan)
    # 10 days at 200 paid; then 500,000 left: 100 a day for 20 days
    assert balances(loan) == (500_000, 2_000, 0, 0)
    assert per_loan(session, loan.id, day(9))[Acct.INTEREST_INCOME.value] == -2_000
    assert per_loan(session, loan.id, day(10))[Acct.INTEREST_INCOME.value] == -2_100


def test_back_dated_full_payment_closes_on_its_value_date(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, rate="0.072", due_date=day(20))
    accrual.accrue(session=session, as_of=day(40))
    accrual.mark_overdue(session=session, as_of=day(40))
    assert fresh(session, loan).status == LoanStatus.OVERDUE
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1_003_000, paid_on=day(15),
                    idempotency_key="late")
    loan = fresh(session, loan)
    assert (loan.status, loan.closed_on) == (LoanStatus.REPAID, day(15))
    assert balances(loan) == (0, 0, 0, 0)
    assert -per_loan(session, loan.id)[Acct.INTEREST_INCOME.value] == 3_000
    assert per_loan(session, loan.id)[Acct.PENALTY_INCOME.value] == 0


# --- cooling-off ----------------------------------------------------------------------

@pytest.mark.parametrize("paid_day, first, waived", [
    (0, True, True), (5, True, True), (7, True, True), (8, True, False), (5, False, False),
])
def test_cooling_off_waives_interest_and_fees(session, make_loan, paid_day, first, waived):
    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, first_loan=first)
    accrual.accrue(session=session, as_of=day(paid_day))
    owed = 1_000_000 + 3_000 + 200 * paid_day
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=owed, paid_on=day(paid_day),
                    idempotency_key="all")
    loan = fresh(session, loan)
    b = per_loan(session, loan.id)
    assert balances(loan) == (0, 0, 0, 0)
    if waived:
        assert loan.status == LoanStatus.COOLED_OFF
        assert b[Acct.INTEREST_INCOME.value] == b[Acct.FEE_INCOME.value] == 0
        assert b[Acct.VENDOR_PAYABLE.value] == -(3_000 + 200 * paid_day)   # refunded
    else:
        assert loan.status == LoanStatus.REPAID
        assert b[Acct.FEE_INCOME.value] == -3_000
        assert b[Acct.INTEREST_INCOME.value] == -200 * paid_day


def test_cooling_off_reapplies_earlier_payments_to_principal(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, first_loan=True)
    accrual.accrue(session=session, as_of=day(3))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=400_000, paid_on=day(3),
                    idempotency_key="part")
    # 3,000 fee and 600 interest were paid first
    assert fresh(session, loan).principal_fen == 1_000_000 - 400_000 + 3_600
    accrual.accrue(session=session, as_of=day(6))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=600_000, paid_on=day(6),
                    idempotency_key="rest")
    loan = fresh(session, loan)
    assert loan.status == LoanStatus.COOLED_OFF and balances(loan) == (0, 0, 0, 0)
    b = per_loan(session, loan.id)
    assert b[Acct.INTEREST_INCOME.value] == b[Acct.FEE_INCOME.value] == 0
    assert b[Acct.VENDOR_PAYABLE.value] == 0 and b[Acct.CASH.value] == 0


def test_partial_payment_in_window_keeps_charges(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, first_loan=True)
    accrual.accrue(session=session, as_of=day(10))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=500_000, paid_on=day(4),
                    idempotency_key="part")
    loan = fresh(session, loan)
    assert loan.status == LoanStatus.ACTIVE
    assert -per_loan(session, loan.id)[Acct.FEE_INCOME.value] == 3_000


# --- overdue, write-off, recovery -----------------------------------------------------

@pytest.mark.parametrize("dpd, bucket", [(0, "current"), (1, "1-30"), (30, "1-30"),
                                         (31, "31-60"), (60, "31-60"), (61, "61-90"),
                                         (90, "61-90"), (91, "90+"), (400, "90+")])
def test_dpd_buckets(dpd, bucket):
    assert lifecycle.bucket(dpd) == bucket


def test_overdue_penalty_and_dpd(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, rate="0.072", penalty_rate="0.036",
                     due_date=day(30))
    accrual.accrue(session=session, as_of=day(30))
    assert accrual.mark_overdue(session=session, as_of=day(30)) == 0
    accrual.accrue(session=session, as_of=day(45))
    assert accrual.mark_overdue(session=session, as_of=day(45)) == 1
    loan = fresh(session, loan)
    assert loan.status == LoanStatus.OVERDUE
    assert lifecycle.dpd(loan, day(45)) == 15
    assert lifecycle.bucket(lifecycle.dpd(loan, day(45))) == "1-30"
    assert loan.penalty_fen == 14 * 100   # days 31..44
    assert loan.interest_fen == 45 * 200


def test_write_off_and_recovery(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, fee_fen=1_000, rate="0.072", due_date=day(10))
    with pytest.raises(CannotWriteOff):
        lifecycle.write_off(session=session, loan_id=loan.id, as_of=day(5),
                            idempotency_key="wo")
    accrual.accrue(session=session, as_of=day(100))
    accrual.mark_overdue(session=session, as_of=day(100))
    lifecycle.write_off(session=session, loan_id=loan.id, as_of=day(105),
                        idempotency_key="wo")
    loan = fresh(session, loan)
    assert loan.status == LoanStatus.WRITTEN_OFF
    assert balances(loan) == (0, 0, 0, 0)
    assert loan.written_off_fen == 1_000_000 + 1_000 + 105 * 200
    assert per_loan(session, loan.id)[Acct.WRITE_OFF_EXPENSE.value] == loan.written_off_fen
    with pytest.raises(CannotRepay):
        lifecycle.repay(session=session, loan_id=loan.id, amount_fen=100, paid_on=day(106),
                        idempotency_key="r")
    lifecycle.recover(session=session, loan_id=loan.id, amount_fen=300_000, paid_on=day(200),
                      idempotency_key="rec1")
    lifecycle.recover(session=session, loan_id=loan.id, amount_fen=800_000, paid_on=day(230),
                      idempotency_key="rec2")
    loan = fresh(session, loan)
    b = per_loan(session, loan.id)
    assert loan.recovered_fen == loan.written_off_fen
    assert -b[Acct.RECOVERIES.value] == loan.written_off_fen
    assert -b[Acct.VENDOR_PAYABLE.value] == 1_100_000 - loan.written_off_fen


def test_recovery_needs_a_written_off_loan(session, make_loan):
    loan = make_loan()
    with pytest.raises(CannotRecover):
        lifecycle.recover(session=session, loan_id=loan.id, amount_fen=100, paid_on=day(3),
                          idempotency_key="x")
    assert session.get(Repayment, 1) is None or session.get(Repayment, 1).source != "recovery"


def test_back_dated_cooling_off_of_a_loan_already_overdue(session, make_loan):
    """Found by the property test: a first loan due within its cooling-off window, marked
    overdue, then repaid in full with a payment dated inside the window."""
    loan = make_loan(amount_fen=500_000, fee_fen=1_000, first_loan=True, due_date=day(3),
                     penalty_rate="0.036")
    accrual.accrue(session=session, as_of=day(12))
    accrual.mark_overdue(session=session, as_of=day(12))
    assert fresh(session, loan).status == LoanStatus.OVERDUE
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=500_000, paid_on=day(5),
                    idempotency_key="late-full")
    loan = fresh(session, loan)
    assert (loan.status, loan.closed_on) == (LoanStatus.COOLED_OFF, day(5))
    b = per_loan(session, loan.id)
    assert b[Acct.INTEREST_INCOME.value] == b[Acct.PENALTY_INCOME.value] == 0
    assert b[Acct.FEE_INCOME.value] == 0


def test_the_statement_shows_what_the_cooling_off_waived(session, make_loan):
    """Issue 15: the statement's 冷静期：免除利息和费用 row showed no amount; it shows the
    interest and fees waived."""
    from trellis.ledger import statement

    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, first_loan=True)
    accrual.accrue(session=session, as_of=day(5))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1_000_000 + 3_000 + 1_000,
                    paid_on=day(5), idempotency_key="all")
    st = statement.build(session=session, loan_id=loan.id, as_of=day(6))
    (waived,) = [line for line in st.lines if line.kind == "waived"]
    assert waived.fees_fen == -3_000 and waived.interest_fen == -200 * 5
    assert waived.penalty_fen == 0


@pytest.mark.parametrize("first_loan", [True, False])
def test_the_schedule_counts_a_repayment_made_on_the_pay_out_day(session, make_loan,
                                                                  first_loan):
    """Reader 11, F4: repaid ¥1,000 on the day of the pay-out (fee ¥450 and ¥550 of
    principal), the statement's schedule and the assistant still asked for the whole
    principal and the fee: the schedule replayed the pay-out day without its payment."""
    from trellis.ledger import statement

    loan = make_loan(amount_fen=15_000_000, fee_fen=45_000, rate="0.055",
                     due_date=day(30), first_loan=first_loan)
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=100_000, paid_on=day(0),
                    idempotency_key="day-one")
    loan = fresh(session, loan)
    assert (loan.principal_fen, loan.fees_fen) == (14_945_000, 0)
    (due,) = statement.build(session=session, loan_id=loan.id).schedule
    assert (due["principal_fen"], due["fees_fen"]) == (14_945_000, 0)
    assert due["total_fen"] == 14_945_000 + due["interest_fen"]
    assert 0 < due["interest_fen"] < 15_000_000 * 55 * 30 // 1000 // 360 + 30


def test_the_statement_columns_add_up_after_a_cooling_off_with_a_paid_fee(session, make_loan,
                                                                          make_firm):
    """Reader 12, G2 and G6: loan ¥150,000 with a ¥450 fee; the borrower repaid ¥50,000 in
    the window (the fee first), then the buyer paid ¥200,810, which settled the loan in the
    window. The statement showed the paid fee waived a second time: its columns left ¥450
    of principal and −¥450 of fees on a loan owing nothing, against a journal that credited
    ¥100,450 of principal that day. A later payout of part of the surplus had no line.
    Each column now sums to what is owed (0) and to what the journal holds."""
    from trellis.ledger import payouts, statement

    loan = make_loan(amount_fen=15_000_000, fee_fen=45_000, first_loan=True)
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=5_000_000, paid_on=day(0),
                    idempotency_key="vendor")
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=20_081_000, paid_on=day(0),
                    idempotency_key="buyer")
    loan = fresh(session, loan)
    assert loan.status == LoanStatus.COOLED_OFF and balances(loan) == (0, 0, 0, 0)
    lines = statement.build(session=session, loan_id=loan.id).lines
    total = {f: sum(getattr(line, f) for line in lines)
             for f in ("principal_fen", "interest_fen", "penalty_fen", "fees_fen")}
    assert total == dict.fromkeys(total, 0), [(line.kind, line) for line in lines]
    (moved,) = [line for line in lines if line.kind == "reapplied"]
    assert moved.principal_fen == -45_000   # the paid fee went to principal
    # after the payment that paid the fee, just before the one that completed the window
    kinds = [line.kind for line in lines if line.kind != "accrued"]
    assert kinds == ["pay_out", "fee_charged", "payment_vendor", "reapplied", "waived",
                     "payment_vendor"], kinds
    # the principal the journal credited on the buyer's day: the fee moved plus the payment
    on_day = sum(-line.principal_fen for line in lines
                 if line.kind in ("reapplied", "payment_vendor") and line is not lines[2])
    assert on_day == 10_045_000
    surplus = sum(line.surplus_fen for line in lines)   # held for the borrower: −
    assert -surplus == payouts.loan_surplus(session=session, loan_id=loan.id).owed
    assert -surplus == 20_081_000 - 10_000_000
    payouts.pay_out_surplus(session=session, firm_id=loan.firm_id, amount_fen=81_000,
                            paid_on=day(3), idempotency_key="back")
    lines = statement.build(session=session, loan_id=loan.id).lines
    (paid,) = [line for line in lines if line.kind == "surplus_paid"]
    assert (paid.on, paid.amount_fen, paid.surplus_fen) == (day(3), 81_000, 81_000)
    assert sum(line.surplus_fen for line in lines) == -10_000_000
    assert statement.describe(paid, "zh") == "余款已付至贵司"
    assert statement.describe(moved, "zh") == "冷静期：已付的利息和费用改为归还本金"


COLUMNS = ("principal_fen", "interest_fen", "penalty_fen", "fees_fen")


def _column_totals(lines) -> dict[str, int]:
    return {f: sum(getattr(line, f) for line in lines) for f in COLUMNS}


def _journal_owed(session, loan_id) -> dict[str, int]:
    """What the journal holds of the loan, per statement column, in fen."""
    b = per_loan(session, loan_id)
    return {"principal_fen": b.get(Acct.LOANS.value, 0),
            "interest_fen": b.get(Acct.INTEREST_RECEIVABLE.value, 0),
            "penalty_fen": b.get(Acct.PENALTY_RECEIVABLE.value, 0),
            "fees_fen": b.get(Acct.FEES_RECEIVABLE.value, 0)}


@pytest.mark.parametrize("first_payment", [0, 400_000, 999_999])
def test_a_cooled_off_loan_reads_its_fee_and_interest_waived(session, make_loan, first_payment):
    """Reader 13, H1: a loan settled inside the cooling-off still read 手续费 ¥210.37
    charged and paid; the waiver showed only as a principal line. The fee and interest
    columns now carry the waiver (the whole fee and interest charged, reversed) and end at
    0; what was paid to them goes to principal on a line of its own; every column still
    sums to what the journal holds."""
    from trellis.ledger import statement

    loan = make_loan(amount_fen=1_000_000, fee_fen=21_037, rate="0.072", first_loan=True)
    accrual.accrue(session=session, as_of=day(3))
    if first_payment:
        lifecycle.repay(session=session, loan_id=loan.id, amount_fen=first_payment,
                        paid_on=day(3), idempotency_key="part")
    accrual.accrue(session=session, as_of=day(6))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1_000_000 - first_payment,
                    paid_on=day(6), idempotency_key="rest")
    assert fresh(session, loan).status == LoanStatus.COOLED_OFF
    lines = statement.build(session=session, loan_id=loan.id).lines
    assert _column_totals(lines) == _journal_owed(session, loan.id) == dict.fromkeys(COLUMNS, 0)
    (waived,) = [line for line in lines if line.kind == "waived"]
    charged = sum(line.interest_fen for line in lines if line.kind == "accrued")
    assert (waived.fees_fen, waived.interest_fen) == (-21_037, -charged)
    assert charged > 0
    moved = [line for line in lines if line.kind == "reapplied"]
    if first_payment:   # the fee and 3 days' interest were paid first, then re-applied
        (moved_line,) = moved
        assert (moved_line.fees_fen, moved_line.interest_fen) == (21_037, 600)
        assert moved_line.principal_fen == -(21_037 + 600)
    else:
        assert moved == []
    assert statement.describe(waived, "zh") == "冷静期：全部利息和费用免除（冲销已计收）"
    st = statement.build(session=session, loan_id=loan.id)
    assert ("手续费", "¥210.37（冷静期内结清，已全部免除）") in statement.header_rows(st, "zh")


def test_each_movement_adds_across(session, make_loan):
    """Reader 13, H2: the surplus column (退还贵司) had the sign opposite to the amount, so
    a payment's row did not add across. On every row where money moved, the amount is the
    four components plus the surplus; rows that move no money only charge or waive; the
    surplus column sums to minus what is still held for the borrower."""
    from trellis.ledger import payouts, statement

    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, rate="0.072", first_loan=False)
    accrual.accrue(session=session, as_of=day(10))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=300_000, paid_on=day(10),
                    idempotency_key="part")
    accrual.accrue(session=session, as_of=day(20))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=900_000, paid_on=day(20),
                    idempotency_key="over")
    assert fresh(session, loan).status == LoanStatus.REPAID
    payouts.pay_out_surplus(session=session, firm_id=loan.firm_id, amount_fen=50_000,
                            paid_on=day(21), idempotency_key="back")
    lines = statement.build(session=session, loan_id=loan.id).lines
    money = [line for line in lines if line.amount_fen]
    assert {line.kind for line in money} == {"pay_out", "payment_vendor", "surplus_paid"}
    for line in lines:
        across = sum(getattr(line, f) for f in COLUMNS) + line.surplus_fen
        if line.amount_fen:
            assert line.amount_fen == across, line
        else:
            assert line.kind in ("fee_charged", "accrued", "waived") and not line.surplus_fen
    (over,) = [line for line in lines if line.kind == "payment_vendor" and line.surplus_fen]
    assert over.surplus_fen < 0   # received above what was owed: held for the borrower
    assert -sum(line.surplus_fen for line in lines) == payouts.loan_surplus(
        session=session, loan_id=loan.id).owed > 0
    assert _column_totals(lines) == _journal_owed(session, loan.id)


def _running(lines) -> list[int]:
    """What is owed after each line, from the component columns alone (fen)."""
    out, owed = [], 0
    for line in lines:
        owed += sum(getattr(line, f) for f in COLUMNS)
        out.append(owed)
    return out


def test_a_loan_settled_on_its_pay_out_day_shows_a_running_balance(session, make_loan):
    """Reader 13, J7: paid out and settled the same day, every line of the statement read
    当日终应还余额 ¥0.00, the pay-out line too, which a reader takes for a running
    balance. Each line now carries what is owed after it (本行后应还余额); the day's last
    line is what the journal holds at the end of the day."""
    from trellis.ledger import statement

    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, first_loan=True)
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=10_000, paid_on=day(0),
                    idempotency_key="first")
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1_000_000, paid_on=day(0),
                    idempotency_key="rest")
    assert fresh(session, loan).status == LoanStatus.COOLED_OFF
    st = statement.build(session=session, loan_id=loan.id)
    lines = st.lines
    assert {line.on for line in lines} == {day(0)}
    assert [line.kind for line in lines][:3] == ["pay_out", "fee_charged", "payment_vendor"]
    assert [line.balance_fen for line in lines][:3] == [1_000_000, 1_003_000, 993_000]
    assert [line.balance_fen for line in lines] == _running(lines)
    assert lines[-1].balance_fen == sum(_journal_owed(session, loan.id).values()) == 0
    assert statement.LABELS["zh"]["balance"] == "本行后应还余额"
    assert statement.line_cells(lines[0], "zh")[-1] == "10,000.00"


def test_the_running_balance_meets_the_journal_at_each_day_end(session, make_loan):
    """The running balance (J7) over several days, a part payment, an overpayment and a
    payout of surplus: each line is the one before it plus its change, and the last line
    of each day is what the journal holds at the end of that day."""
    from trellis.ledger import payouts, statement

    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, rate="0.072")
    accrual.accrue(session=session, as_of=day(10))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=300_000, paid_on=day(10),
                    idempotency_key="part")
    accrual.accrue(session=session, as_of=day(20))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=900_000, paid_on=day(20),
                    idempotency_key="over")
    payouts.pay_out_surplus(session=session, firm_id=loan.firm_id, amount_fen=50_000,
                            paid_on=day(21), idempotency_key="back")
    lines = statement.build(session=session, loan_id=loan.id).lines
    assert [line.balance_fen for line in lines] == _running(lines)
    receivables = (Acct.LOANS.value, Acct.INTEREST_RECEIVABLE.value,
                   Acct.PENALTY_RECEIVABLE.value, Acct.FEES_RECEIVABLE.value)
    # interest accrues daily and is shown one line per period: where an interest line
    # closes its day, and at the end, the running balance is what the journal holds
    closing = [line for i, line in enumerate(lines) if line.kind == "accrued"
               and (i + 1 == len(lines) or lines[i + 1].on != line.on)] + [lines[-1]]
    assert len(closing) >= 3
    for line in closing:
        held = per_loan(session, loan.id, line.on)
        assert line.balance_fen == sum(held.get(a, 0) for a in receivables), line
    assert [line.balance_fen for line in lines[:2]] == [1_000_000, 1_003_000]
    assert lines[-1].balance_fen == 0


def test_the_csv_has_the_pages_surplus_line_and_no_empty_plan(session, make_loan):
    """Reader 13, J7: the CSV carried an empty 还款计划 section (the page shows none for a
    settled loan) and left out the page's 本笔贷款应退还贵司余款 line."""
    from trellis.ledger import statement

    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, first_loan=True)
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1_010_000, paid_on=day(0),
                    idempotency_key="over")
    st = statement.build(session=session, loan_id=loan.id)
    assert st.schedule == () and st.surplus_owed_fen == 10_000 == st.firm_surplus_owed_fen
    text = statement.to_csv(st, "zh").replace('"', "")
    assert "还款计划" not in text
    assert "本笔贷款应退还贵司余款,100.00" in text and "贵司全部贷款应退还余款,100.00" in text
    assert "Surplus owed to you from this loan,100.00" in statement.to_csv(st, "en")
    live = statement.build(session=session, loan_id=make_loan(amount_fen=500_000).id)
    live_text = statement.to_csv(live, "zh")
    assert "还款计划" in live_text and "应退还贵司余款" not in live_text
