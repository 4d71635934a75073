"""Defect 1 of issue 11: the daily job and repayments never surface a deadlock.

The daily job once booked accrual under the ledger-head lock and then, in the same
transaction, locked more loan rows (overdue, allowances): the reverse of the order
repayments follow, so PostgreSQL broke deadlocks by failing one side (40P01) and callers
saw 500s. Now every step takes its loans before the head in short transactions, and the
transaction boundary (:func:`trellis.db.run`, the web layer's retry) runs a conflicting
transaction again. PostgreSQL with real commits; many threads for a fixed amount of work.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.conftest import give_payout_account, next_uscc
from tests.pgschema import pg_factory  # noqa: F401
from trellis import db
from trellis.errors import TrellisError
from trellis.ledger import jobs, lifecycle, reports
from trellis.ledger.apr import rate_micro
from trellis.ledger.models import Loan, Product
from trellis.trade.models import Firm

D0 = date(2026, 1, 1)


def make_book(factory, n=24):
    with db.transaction(factory) as s:
        product = s.scalars(select(Product).where(Product.code == "RF-STD")).one()
        product.provision_bps = {"1-30": 100, "31-60": 2500, "61-90": 5000, "90+": 10000}
        firm = Firm(uscc=next_uscc(), name="死锁测试", role="vendor")
        s.add(firm)
        s.flush()
        give_payout_account(s, firm)
        ids = []
        for i in range(n):
            loan = Loan(firm_id=firm.id, product_id=product.id, amount_fen=5_000_000 + i,
                        rate_micro=rate_micro("0.072"), penalty_rate_micro=rate_micro("0.036"),
                        due_date=D0 + timedelta(days=5 + i % 10),
                        waterfall=["penalty", "fees", "interest", "principal"])
            s.add(loan)
            s.flush()
            lifecycle.disburse(session=s, settings=None, loan_id=loan.id, as_of=D0)
            ids.append(loan.id)
    return ids


#: Job runs each job thread makes, and repayments each payment thread makes at least
#: (it goes on paying while any job thread still runs, so payments overlap every run)
JOB_RUNS, MIN_PAYMENTS = 2, 5
#: Seconds after which the test gives up waiting: a hang, not a slow machine
HANG = 600


@pytest.mark.postgres_only
def test_daily_job_and_repayments_never_surface_a_deadlock(pg_factory):  # noqa: F811
    # bounded by the work done, not by wall time: on a loaded machine a job run can take
    # seconds, and a time limit counted how fast it ran rather than whether it deadlocked
    ids = make_book(pg_factory)
    errors: list[BaseException] = []
    done = {"jobs": 0, "repayments": 0}
    jobs_running = [4]
    lock = threading.Lock()
    barrier = threading.Barrier(12)

    frontier = [5]   # the latest day a job ran for; payments land around it

    def job_worker(seed):
        rng = random.Random(seed)
        barrier.wait()
        try:
            for _ in range(JOB_RUNS):
                day = frontier[0] = min(frontier[0] + rng.randint(0, 2), 300)
                jobs.accrue_daily(session_factory=pg_factory, settings=None,
                                  as_of=D0 + timedelta(days=day - rng.randint(0, 3)))
                with lock:
                    done["jobs"] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            with lock:
                jobs_running[0] -= 1

    def pay_worker(seed):
        rng = random.Random(seed)
        barrier.wait()
        n = 0
        while (jobs_running[0] > 0 or n < MIN_PAYMENTS) and not errors:
            n += 1
            loan_id = rng.choice(ids)
            # back-dated, on time, or ahead of the job (which moves the loan ahead of it)
            paid_on = D0 + timedelta(days=max(1, frontier[0] + rng.randint(-10, 4)))
            try:
                db.run(pg_factory, lambda s, i=loan_id, p=paid_on, k=f"p{seed}-{n}":
                       lifecycle.repay(session=s, loan_id=i, amount_fen=rng.randint(1, 90_000),
                                       paid_on=p, idempotency_key=k))
                with lock:
                    done["repayments"] += 1
            except TrellisError:
                pass   # e.g. a loan already repaid: a clear refusal, not a deadlock
            except BaseException as exc:
                errors.append(exc)
                return

    threads = ([threading.Thread(target=job_worker, args=(s,), daemon=True)
                for s in range(4)]
               + [threading.Thread(target=pay_worker, args=(s,), daemon=True)
                  for s in range(8)])
    for t in threads:
        t.start()
    give_up = time.monotonic() + HANG
    for t in threads:
        t.join(timeout=max(0.0, give_up - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"still running after {HANG} s: {done}"
    deadlocks = [e for e in errors if isinstance(e, OperationalError)]
    assert not errors, f"{len(deadlocks)} deadlock(s) reached a caller: {errors[:3]}"
    assert done["jobs"] == 4 * JOB_RUNS and done["repayments"] > 20, done
    with db.transaction(pg_factory) as s:
        assert reports.check(session=s) == []
