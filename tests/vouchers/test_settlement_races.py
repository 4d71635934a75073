"""Settling matured vouchers beside repayments of the same loans (PostgreSQL, real commits).

A voucher's settlement repays several loans in one transaction. It once repaid them one
after the other: the first repayment took its loan and that loan's ledger head, and the second then
waited for its loan while holding the head. A repayment of the second loan (loan first,
then the same head) waited for that head: a deadlock, which PostgreSQL broke by failing
the job. Now the settlement locks every loan (by id) and then their heads before it
repays any, and the job runs each voucher's transaction again on a conflict, a bounded
number of times, naming the voucher after the last (tests/vouchers/
test_settlement_per_voucher.py).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.pgschema import pg_factory  # noqa: F401
from tests.vouchers import settlement_book as book
from trellis import clock, db
from trellis.ledger import posting, reports
from trellis.ledger.models import Loan, Repayment
from trellis.vouchers import jobs
from trellis.vouchers.models import Voucher

TODAY = clock.today()
D0 = TODAY - timedelta(days=60)


def _book(factory) -> tuple[int, int, int]:
    """Loans a < b in one ledger shard, and a matured voucher whose first financed part
    repays b and second repays a: (a, b, shard)."""
    with db.transaction(factory) as s:
        anchor, vendor = book.firms(s)
        shards = posting.shard_count(s)

        def two_share_a_shard(kept: list[int]) -> bool:
            return len({posting.shard_of(i, shards) for i in kept}) < len(kept)

        loans = book.paid_out_loans(s, vendor, lambda kept, i, n: True, two_share_a_shard)
        b = loans[-1]
        a = next(i for i in loans if posting.shard_of(i, shards) == posting.shard_of(
            b, shards))
        book.matured_voucher(s, anchor, vendor, "V-RACE-1", [(1_000, b), (1_000, a)])
        return a, b, posting.shard_of(a, shards)


@pytest.mark.postgres_only
def test_settlement_beside_a_repayment_of_its_second_loan(pg_factory, caplog):  # noqa: F811
    a, b, shard = _book(pg_factory)
    caplog.set_level(logging.INFO, logger="trellis.db")
    holding, failures = threading.Event(), []

    def repayment_of_a():
        """The locks a repayment of loan a takes, in its order, with a pause between
        them in which the job runs (so the interleaving is the same every time)."""
        try:
            with db.transaction(pg_factory) as s:
                s.execute(select(Loan.id).where(Loan.id == a).with_for_update())
                holding.set()
                time.sleep(1.5)
                posting.lock_head(s, "CNY", shard)
        except BaseException as exc:
            failures.append(exc)

    other = threading.Thread(target=repayment_of_a)
    other.start()
    assert holding.wait(30)
    started = time.monotonic()
    outcome = jobs.settle_vouchers(session_factory=pg_factory, settings=None)
    other.join(60)
    assert outcome == "settled 1 matured voucher(s)"
    assert failures == []
    assert time.monotonic() - started < 20
    # no deadlock was needed to get there: nothing was run again
    assert [r.message for r in caplog.records if "conflict" in r.message] == []
    with db.transaction(pg_factory) as s:
        assert s.scalars(select(Voucher.status)).one() == "settled"
        paid = {r.loan_id: r.amount_fen for r in s.scalars(select(Repayment))}
        assert paid == {a: 1_000, b: 1_000}
        problems = reports.check(session=s)
    assert problems == []
