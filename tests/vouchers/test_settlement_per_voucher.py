"""The daily settlement settles each matured voucher in a transaction of its own.

It used to settle every matured voucher in one transaction, holding every loan and
ledger head they touched until the end, all or nothing: one voucher whose loan could no
longer take a payment rolled back every other, and a repayment of a loan settled early
in the run waited for the whole run. Now each voucher is locked, settled and committed
alone (same lock order: voucher, its loans by id, their heads); one that fails is
rolled back alone and named, with what it still owes and why, in the job's message;
running the job again settles only what is still active.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from flask_babel import Babel, force_locale
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from tests.pgschema import pg_factory  # noqa: F401
from tests.vouchers import settlement_book as book
from trellis import clock, db
from trellis.ledger import lifecycle, posting, reports
from trellis.ledger.models import Loan, Repayment
from trellis.messages import Message
from trellis.platform import i18n
from trellis.vouchers import jobs, settlement
from trellis.vouchers.errors import SettlementIncomplete
from trellis.vouchers.models import Voucher

TODAY = clock.today()
D0 = TODAY - timedelta(days=60)


def _book(factory, n: int = 2, *, apart: bool = False) -> tuple[list[int], list[int]]:
    """*n* paid-out loans (in *n* different ledger shards when *apart*) and *n* matured
    vouchers, the i-th with a financed part of 1,000 fen repaying the i-th loan and a
    held part of 500 fen: (voucher ids, loan ids), in id order."""
    def keep(kept: list[int], loan_id: int, shards: int) -> bool:
        return not apart or posting.shard_of(loan_id, shards) not in {
            posting.shard_of(i, shards) for i in kept}

    with db.transaction(factory) as s:
        anchor, vendor = book.firms(s)
        loans = book.paid_out_loans(s, vendor, keep, lambda kept: len(kept) >= n)
        vouchers = [book.matured_voucher(s, anchor, vendor, f"V-PV-{i}",
                                         [(1_000, loan_id), (500, None)])
                    for i, loan_id in enumerate(loans)]
        return vouchers, loans


def _state(factory) -> tuple[dict[str, str], dict[int, int]]:
    """Each voucher's status by code, and the repayments' totals by loan."""
    with db.transaction(factory) as s:
        status = {v.code: v.status for v in s.scalars(select(Voucher))}
        paid: dict[int, int] = {}
        for r in s.scalars(select(Repayment)):
            paid[r.loan_id] = paid.get(r.loan_id, 0) + r.amount_fen
        return status, paid


@pytest.fixture(scope="module")
def app():
    i18n.compile_catalogs()
    app = Flask(__name__)
    app.config.update(BABEL_DEFAULT_LOCALE="zh_CN")
    Babel(app, default_translation_directories=";".join(str(p) for p in
                                                        i18n.translation_dirs()))
    return app


def test_a_voucher_that_fails_does_not_stop_the_others_and_a_rerun_settles_once(
        session_factory, app):
    (v0, v1, v2), (a, b, c) = _book(session_factory, 3)
    with db.transaction(session_factory) as s:   # loan b was written off meanwhile
        s.execute(update(Loan).where(Loan.id == b).values(status="written_off"))
    with pytest.raises(SettlementIncomplete) as failed:
        jobs.settle_vouchers(session_factory=session_factory, settings=None)
    said = str(failed.value)
    assert said.startswith("Settled 2 matured voucher(s); 1 could not be settled"), said
    assert f"V-PV-1 (¥15.00): Loan {b}, which a part of voucher V-PV-1 repays" in said
    assert _state(session_factory) == ({"V-PV-0": "settled", "V-PV-1": "active",
                                        "V-PV-2": "settled"}, {a: 1_000, c: 1_000})
    message = Message(failed.value.template, failed.value.params)   # as the run stores it
    with app.test_request_context(), force_locale("zh_CN"):
        zh = i18n.render(Message.loads(message.dumps()))
    assert "¥15.00" in zh and "V-PV-1" in zh and "Settled" not in zh and "Loan" not in zh, zh

    with db.transaction(session_factory) as s:   # put right: the next run settles it, once
        s.execute(update(Loan).where(Loan.id == b).values(status="active"))
    assert jobs.settle_vouchers(session_factory=session_factory,
                                settings=None) == "settled 1 matured voucher(s)"
    assert jobs.settle_vouchers(session_factory=session_factory,
                                settings=None) == "settled 0 matured voucher(s)"
    assert _state(session_factory) == ({"V-PV-0": "settled", "V-PV-1": "settled",
                                        "V-PV-2": "settled"}, {a: 1_000, b: 1_000, c: 1_000})
    with db.transaction(session_factory) as s:
        assert reports.check(session=s) == []


def _conflict() -> OperationalError:
    class Deadlock(Exception):
        sqlstate = "40P01"

    return OperationalError("UPDATE loans ...", {}, Deadlock("deadlock detected"))


def test_a_conflicting_voucher_runs_again_then_is_named(session_factory, monkeypatch):
    (v0, v1), _loans = _book(session_factory, 2)
    real, calls = settlement.settle_if_active, []

    def conflicting(*, session, voucher_id, as_of):
        calls.append(voucher_id)
        if voucher_id == v0 and calls.count(v0) < jobs.SETTLE_ATTEMPTS:
            raise _conflict()   # the first voucher succeeds on its last attempt
        if voucher_id == v1:
            raise _conflict()   # the second never does
        return real(session=session, voucher_id=voucher_id, as_of=as_of)

    monkeypatch.setattr(settlement, "settle_if_active", conflicting)
    with pytest.raises(SettlementIncomplete, match=r"Settled 1 matured voucher\(s\); 1 "
                       r"could not .*V-PV-1 \(¥15.00\): payments to the same loans "
                       r"conflicted 4 times in a row"):
        jobs.settle_vouchers(session_factory=session_factory, settings=None)
    assert calls == [v0] * jobs.SETTLE_ATTEMPTS + [v1] * jobs.SETTLE_ATTEMPTS
    assert _state(session_factory)[0] == {"V-PV-0": "settled", "V-PV-1": "active"}


@pytest.mark.postgres_only
def test_a_repayment_waits_for_one_voucher_not_the_whole_run(pg_factory,  # noqa: F811
                                                              monkeypatch):
    """While the run settles the second voucher, a repayment of the first voucher's loan
    (another shard) goes through at once: the first voucher's locks went with its
    commit. Before, the run held them to its end and the repayment ran out of time."""
    (v0, v1), (a, c) = _book(pg_factory, 2, apart=True)
    second_started, repaid, outcome = threading.Event(), threading.Event(), []
    real = settlement.settle

    def slow_second(*, session, voucher_id, paid_on, **kw):
        if voucher_id == v1:
            second_started.set()
            repaid.wait(15)   # the run holds the second voucher's locks meanwhile
        return real(session=session, voucher_id=voucher_id, paid_on=paid_on, **kw)

    def repayment_of_a():
        assert second_started.wait(30)
        try:
            with db.transaction(pg_factory) as s:
                s.execute(text("SET LOCAL lock_timeout = '3s'"))
                lifecycle.repay(session=s, loan_id=a, amount_fen=100, paid_on=TODAY,
                                idempotency_key="beside-the-run")
            outcome.append("repaid")
        except Exception as exc:
            outcome.append(type(exc.__cause__ or exc).__name__ + ": " + str(exc)[:200])
        finally:
            repaid.set()

    monkeypatch.setattr(settlement, "settle", slow_second)
    other = threading.Thread(target=repayment_of_a)
    other.start()
    assert jobs.settle_vouchers(session_factory=pg_factory,
                                settings=None) == "settled 2 matured voucher(s)"
    other.join(60)
    assert outcome == ["repaid"]
    assert _state(pg_factory) == ({"V-PV-0": "settled", "V-PV-1": "settled"},
                                  {a: 1_100, c: 1_000})
    with db.transaction(pg_factory) as s:
        assert reports.check(session=s) == []
