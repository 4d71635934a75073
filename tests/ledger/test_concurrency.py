"""Many threads paying out, accruing and repaying against the same loans on PostgreSQL,
with real commits, must leave the books exact.

Runs in its own PostgreSQL schema (migrated, then dropped with everything in it), because
the journal's rows cannot be deleted and the other tests must not see these commits.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from tests.conftest import give_payout_account, next_uscc
from trellis import db, migrate
from trellis.errors import TrellisError
from trellis.ledger import accrual, lifecycle, reports
from trellis.ledger.apr import rate_micro
from trellis.ledger.chart import Acct
from trellis.ledger.models import JournalEntry, Loan, LoanStatus, Product, Repayment
from trellis.ledger.replay import Balances, replay
from trellis.trade.models import Firm

pytestmark = [pytest.mark.postgres, pytest.mark.postgres_only]
D0 = date(2026, 1, 1)
RETRYABLE = ("40P01", "40001")   # deadlock detected, serialization failure


@pytest.fixture
def pg_factory(engine):
    assert engine.dialect.name == "postgresql"  # postgres_only: real row locks and commits
    schema = f"ledger_conc_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    base = engine.url.render_as_string(hide_password=False).split("?")[0]
    url = f"{base}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    own = db.make_engine(url, pool_size=12, max_overflow=4)
    yield db.make_sessionmaker(own)
    own.dispose()
    with engine.begin() as conn:
        conn.execute(text(f'drop schema "{schema}" cascade'))


def run(factory, fn, stats: Counter):
    """One command in its own transaction; retry on deadlock or serialisation failure."""
    for _attempt in range(8):
        try:
            with db.transaction(factory) as session:
                return fn(session)
        except OperationalError as exc:
            code = getattr(exc.orig, "sqlstate", None)
            if code not in RETRYABLE:
                raise
            stats[f"retry {code}"] += 1
        except TrellisError as exc:
            stats[type(exc).__name__] += 1
            return None
    raise AssertionError("gave up after 8 retries")


def test_concurrent_workers_keep_the_books_exact(pg_factory):
    factory = pg_factory
    with db.transaction(factory) as s:
        product = s.scalars(select(Product).where(Product.code == "RF-STD")).one()
        loans = []
        for i in range(12):
            # a firm per loan: a firm has one first loan at most (issue 11, defect 6)
            firm = Firm(uscc=next_uscc(), name=f"并发测试{i}", role="vendor")
            s.add(firm)
            s.flush()
            give_payout_account(s, firm)
            loan = Loan(firm_id=firm.id, product_id=product.id, amount_fen=1_000_000 + i * 7,
                        rate_micro=rate_micro("0.072"), penalty_rate_micro=rate_micro("0.036"),
                        fee_fen=2_000, due_date=D0 + timedelta(days=20),
                        first_loan=i % 3 == 0, cooling_off_days=7,
                        waterfall=["penalty", "fees", "interest", "principal"])
            s.add(loan)
            s.flush()
            loans.append(loan.id)
        active, pending = loans[:8], loans[8:]
        for loan_id in active:
            lifecycle.disburse(session=s, settings=None, loan_id=loan_id, as_of=D0)

    stats: Counter = Counter()
    shared_keys = [(f"shared-{n}", random.Random(n).choice(active), 50_000 + n, D0 +
                    timedelta(days=n % 9)) for n in range(10)]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(seed: int):
        rng = random.Random(seed)
        try:
            barrier.wait()
            for step in range(30):
                op = rng.random()
                if op < 0.15:
                    as_of = D0 + timedelta(days=rng.randint(1, 40))
                    run(factory, lambda s, a=as_of: accrual.accrue(session=s, as_of=a), stats)
                elif op < 0.25:
                    loan_id = rng.choice(pending)
                    run(factory, lambda s, i=loan_id: lifecycle.disburse(
                        session=s, settings=None, loan_id=i, as_of=D0 + timedelta(days=2)),
                        stats)
                elif op < 0.45:
                    key, loan_id, amount, paid_on = rng.choice(shared_keys)
                    run(factory, lambda s, k=key, i=loan_id, a=amount, p=paid_on:
                        lifecycle.repay(session=s, loan_id=i, amount_fen=a, paid_on=p,
                                        idempotency_key=k), stats)
                else:
                    loan_id = rng.choice(active + pending)
                    amount = rng.choice([1, 999, 30_000, 120_000, 400_000])
                    paid_on = D0 + timedelta(days=rng.randint(0, 40))   # often back-dated
                    key = f"w{seed}-{step}"
                    run(factory, lambda s, i=loan_id, a=amount, p=paid_on, k=key:
                        lifecycle.repay(session=s, loan_id=i, amount_fen=a, paid_on=p,
                                        idempotency_key=k), stats)
        except BaseException as exc:   # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)

    with db.transaction(factory) as s:
        assert reports.check(session=s) == []
        # each idempotency key was posted at most once
        keys = s.execute(select(Repayment.idempotency_key, func.count())
                         .group_by(Repayment.idempotency_key)).all()
        assert all(n == 1 for _k, n in keys)
        shared = {k for k, *_ in shared_keys}
        assert shared & {k for k, _n in keys}
        entry_keys = s.scalars(select(JournalEntry.idempotency_key)).all()
        assert len(entry_keys) == len(set(entry_keys))
        # money in and out of the cash account matches the payment facts
        paid_out = s.execute(select(func.coalesce(func.sum(Loan.amount_fen), 0))
                             .where(Loan.disbursed_on.is_not(None))).scalar_one()
        received = s.execute(select(func.coalesce(func.sum(Repayment.amount_fen), 0))
                             ).scalar_one()
        cash = reports.trial_balance(session=s).balance(Acct.CASH)
        assert cash == received - paid_out
        # pending loans were paid out once each
        for loan_id in pending:
            n = s.execute(select(func.count()).select_from(JournalEntry).where(
                JournalEntry.idempotency_key == f"disbursement:{loan_id}")).scalar_one()
            assert n <= 1
        # every loan equals a clean replay of its payments from the first day
        for loan in s.scalars(select(Loan).where(Loan.disbursed_on.is_not(None))):
            payments = lifecycle.stored_payments(s, loan.id)
            until = max([loan.accrued_until] + [p.paid_on for p in payments])
            clean = replay(lifecycle.terms_of(loan), start=loan.disbursed_on, until=until,
                           opening=Balances(), payments=payments)
            assert (loan.principal_fen, loan.interest_fen, loan.penalty_fen,
                    loan.fees_fen) == (clean.balances.principal_fen,
                                       clean.balances.interest_fen,
                                       clean.balances.penalty_fen, clean.balances.fees_fen)
            assert (loan.status in (LoanStatus.REPAID, LoanStatus.COOLED_OFF)) == (
                clean.closed_on is not None)
    print(dict(stats))


def test_one_key_sent_by_eight_workers_at_once_posts_once(pg_factory):
    factory = pg_factory
    with db.transaction(factory) as s:
        product = s.scalars(select(Product).where(Product.code == "RF-STD")).one()
        firm = Firm(uscc=next_uscc(), name="幂等测试", role="vendor")
        s.add(firm)
        s.flush()
        give_payout_account(s, firm)
        loan = Loan(firm_id=firm.id, product_id=product.id, amount_fen=1_000_000,
                    rate_micro=72_000, due_date=D0 + timedelta(days=30),
                    waterfall=["penalty", "fees", "interest", "principal"])
        s.add(loan)
        s.flush()
        lifecycle.disburse(session=s, settings=None, loan_id=loan.id, as_of=D0)
        loan_id = loan.id
    barrier = threading.Barrier(8)
    ids: list[int] = []
    stats: Counter = Counter()

    def worker():
        barrier.wait()
        rep = run(factory, lambda s: lifecycle.repay(
            session=s, loan_id=loan_id, amount_fen=250_000, paid_on=D0 + timedelta(days=5),
            idempotency_key="retry-storm").id, stats)
        ids.append(rep)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(ids) == 8 and len(set(ids)) == 1 and ids[0] is not None
    with db.transaction(factory) as s:
        n = s.execute(select(func.count()).select_from(Repayment)).scalar_one()
        assert n == 1
        loan = s.get(Loan, loan_id)
        assert loan.principal_fen == 1_000_000 - 250_000 + 5 * 200
        assert reports.check(session=s) == []
