"""The concurrency drill of issue 11 on PostgreSQL, kept in the suite.

16 writers for a bounded time, mixing vendor repayments (often back-dated, some ahead of
the daily job), the daily job (interest, overdue, allowances, anchoring), anchor payments
that sweep the loans financing their invoices, and idempotency keys sent again by other
writers. Every writer goes through the transaction boundary the application uses
(:func:`trellis.db.run`, the jobs). Afterwards: no error other than a clear refusal
reached a writer, no update was lost (every running total equals the sum of its facts),
the trial balance is zero and ``check`` is clean.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import give_payout_account, next_uscc
from tests.pgschema import pg_factory  # noqa: F401
from trellis import clock, db
from trellis.errors import TrellisError
from trellis.ledger import jobs, lifecycle, reports
from trellis.ledger.apr import rate_micro
from trellis.ledger.chart import Acct
from trellis.ledger.models import JournalEntry, Loan, LoanDocument, Product, Repayment
from trellis.trade import payments
from trellis.trade.models import Firm, Invoice, PaymentAllocation

pytestmark = [pytest.mark.postgres, pytest.mark.postgres_only]
D0 = date(2026, 1, 1)
SECONDS = 12


def _book(factory, n=24):
    with db.transaction(factory) as s:
        product = s.scalars(select(Product).where(Product.code == "RF-STD")).one()
        product.provision_bps = {"1-30": 100, "31-60": 2500, "61-90": 5000, "90+": 10000}
        anchor = Firm(uscc=next_uscc(), name="演练核心企业", role="anchor")
        vendor = Firm(uscc=next_uscc(), name="演练供应商", role="vendor")
        s.add_all([anchor, vendor])
        s.flush()
        give_payout_account(s, vendor)
        loans = {}
        for i in range(n):
            inv = Invoice(seller_id=vendor.id, buyer_id=anchor.id, number=f"DRILL-{i}",
                          amount_fen=2_000_000, issue_date=D0 - timedelta(days=5),
                          due_date=D0 + timedelta(days=10 + i), status="confirmed")
            s.add(inv)
            s.flush()
            loan = Loan(firm_id=vendor.id, product_id=product.id, amount_fen=1_600_000 + i,
                        rate_micro=rate_micro("0.072"), penalty_rate_micro=rate_micro("0.036"),
                        fee_fen=3_000, due_date=D0 + timedelta(days=12 + i),
                        first_loan=i == 0, cooling_off_days=7 if i == 0 else 0,
                        waterfall=["penalty", "fees", "interest", "principal"])
            s.add(loan)
            s.flush()
            s.add(LoanDocument(loan_id=loan.id, invoice_id=inv.id))
            lifecycle.disburse(session=s, settings=None, loan_id=loan.id, as_of=D0,
                               register_financing=lambda **kw: None)
            loans[loan.id] = inv.id
        return anchor.id, loans


def test_sixteen_writers_lose_nothing_and_surface_no_error(pg_factory):  # noqa: F811
    anchor_id, loans = _book(pg_factory)
    loan_ids = list(loans)
    frontier = [3]
    shared = [(f"shared-{n}", random.Random(n).choice(loan_ids), 7_000 + n) for n in range(12)]
    stats: Counter = Counter()
    errors: list[BaseException] = []
    stop = time.monotonic() + SECONDS
    barrier = threading.Barrier(16)

    def attempt(fn, label):
        try:
            fn()
            stats[label] += 1
        except TrellisError as exc:   # a clear refusal (4xx), e.g. a loan already repaid
            stats[f"refused {type(exc).__name__}"] += 1

    def writer(seed):
        rng = random.Random(seed)
        barrier.wait()
        n = 0
        try:
            while time.monotonic() < stop:
                n += 1
                op = rng.random()
                day = D0 + timedelta(days=max(1, frontier[0] + rng.randint(-12, 3)))
                if op < 0.12:
                    frontier[0] = min(frontier[0] + rng.randint(0, 2), 300)
                    as_of = D0 + timedelta(days=frontier[0] - rng.randint(0, 3))
                    attempt(lambda a=as_of: jobs.accrue_daily(
                        session_factory=pg_factory, settings=None, as_of=a), "daily job")
                elif op < 0.32:
                    loan_id = rng.choice(loan_ids)
                    ref = f"BANK-{rng.randint(0, 400)}"   # references repeat: refused
                    attempt(lambda i=loan_id, r=ref, d=day: db.run(
                        pg_factory, lambda s: payments.record_invoice_payment(
                            session=s, payer_id=anchor_id, invoice_id=loans[i],
                            amount_fen=rng.choice([50_000, 120_000, 300_000]), paid_on=d,
                            reference=r, today=clock.today(),
                            sweep=lifecycle.anchor_payment)), "sweep")
                elif op < 0.52:
                    key, loan_id, amount = rng.choice(shared)
                    attempt(lambda k=key, i=loan_id, a=amount: db.run(
                        pg_factory, lambda s: lifecycle.repay(
                            session=s, loan_id=i, amount_fen=a, paid_on=D0 + timedelta(days=2),
                            idempotency_key=k)), "repeated key")
                else:
                    loan_id = rng.choice(loan_ids)
                    attempt(lambda i=loan_id, d=day, k=f"w{seed}-{n}": db.run(
                        pg_factory, lambda s: lifecycle.repay(
                            session=s, loan_id=i, amount_fen=rng.choice([999, 30_000, 80_000]),
                            paid_on=d, idempotency_key=k)), "repayment")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 120)
    assert not any(t.is_alive() for t in threads)
    assert errors == [], f"{len(errors)} error(s) reached a writer: {errors[:3]}"
    assert stats["daily job"] > 3 and stats["sweep"] > 10 and stats["repayment"] > 30, stats

    with db.transaction(pg_factory) as s:
        assert reports.check(session=s) == []
        tb = reports.trial_balance(session=s)
        assert tb.balanced and tb.total_debit_fen == tb.total_credit_fen
        # no lost update: every invoice's paid amount is the sum of its payments
        paid = dict(s.execute(select(PaymentAllocation.invoice_id,
                                     func.sum(PaymentAllocation.amount_fen))
                              .group_by(PaymentAllocation.invoice_id)).all())
        for inv in s.scalars(select(Invoice).where(Invoice.id.in_(list(loans.values())))):
            assert inv.paid_fen == int(paid.get(inv.id, 0)), inv.number
        # cash in the journal is exactly the money the records say came in and went out
        received = s.scalar(select(func.coalesce(func.sum(Repayment.amount_fen), 0)))
        lent = s.scalar(select(func.sum(Loan.amount_fen)).where(Loan.id.in_(loan_ids)))
        assert tb.balance(Acct.CASH) == received - lent
        # every sweep of an invoice reached the ledger once
        swept = s.scalar(select(func.coalesce(func.sum(Repayment.amount_fen), 0))
                         .where(Repayment.source == "anchor"))
        assert swept <= sum(paid.values())
        keys = s.execute(select(Repayment.idempotency_key, func.count())
                         .group_by(Repayment.idempotency_key)).all()
        assert all(n == 1 for _k, n in keys)
        entry_keys = s.scalars(select(JournalEntry.idempotency_key)).all()
        assert len(entry_keys) == len(set(entry_keys))
    print(dict(stats))
