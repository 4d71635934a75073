"""The on-time repayment's hot path (:mod:`trellis.ledger.repaying`) against the general
path (:func:`trellis.ledger.lifecycle.recompute`, a replay of the day).

Two loans with the same terms get the same history; one's payments take the hot path,
the other's are forced through the general path. Every posting each payment writes, and
each loan's row afterwards, must be the same. Then: the hot path's statement count on
PostgreSQL, and a caller's Loan object after it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import pq
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from trellis import db
from trellis.ledger import accrual, lifecycle, posting, repaying
from trellis.ledger.models import JournalEntry, JournalPosting, Loan, Repayment

D0 = date(2026, 1, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def entry_postings(session, key: str, loan_id: int) -> list[tuple]:
    """The postings of repayment *key* as (account, value-date offset, amount), loan id
    left out (the two loans differ only in it)."""
    rows = session.execute(
        select(JournalPosting.account_id, JournalPosting.value_date,
               JournalPosting.amount_fen, JournalPosting.loan_id)
        .join(JournalEntry, JournalEntry.id == JournalPosting.entry_id)
        .where(JournalEntry.idempotency_key == f"repayment:{key}")).all()
    assert all(r.loan_id == loan_id for r in rows)
    return sorted((r.account_id, (r.value_date - D0).days, r.amount_fen) for r in rows)


def row(session, loan_id: int) -> tuple:
    loan = session.get(Loan, loan_id, populate_existing=True)
    return (loan.status, loan.principal_fen, loan.interest_fen, loan.penalty_fen,
            loan.fees_fen, loan.accrued_until, loan.closed_on)


history = st.lists(st.tuples(st.integers(0, 6),              # days accrued first
                             st.integers(0, 3),              # paid so many days later
                             st.integers(1, 700_000)),       # amount, fen
                   min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(plan=history, fee=st.integers(0, 5_000), due=st.integers(3, 20),
       first=st.booleans())
def test_hot_path_writes_what_the_general_path_writes(session, make_loan, make_firm,
                                                      monkeypatch, plan, fee, due, first):
    nested = session.begin_nested()
    try:
        terms = dict(amount_fen=1_000_000, fee_fen=fee, rate="0.1234", penalty_rate="0.036",
                     due_date=day(due), first_loan=first, cooling_off_days=3)
        hot = make_loan(firm=make_firm(), **terms)
        general = make_loan(firm=make_firm(), **terms)
        real_on_time = repaying.on_time
        today, took_hot = D0, 0
        for n, (wait, later, amount) in enumerate(plan):
            today += timedelta(days=wait)
            accrual.accrue(session=session, as_of=today)
            accrual.mark_overdue(session=session, as_of=today)
            paid_on = today + timedelta(days=later)
            if row(session, hot.id)[0] not in ("active", "overdue"):
                break
            locked = repaying.lock(session, hot.id)
            took_hot += real_on_time(locked, paid_on)
            lifecycle.repay(session=session, loan_id=hot.id, amount_fen=amount,
                            paid_on=paid_on, idempotency_key=f"h{n}", today=day(60))
            monkeypatch.setattr(repaying, "on_time", lambda *a: False)
            lifecycle.repay(session=session, loan_id=general.id, amount_fen=amount,
                            paid_on=paid_on, idempotency_key=f"g{n}", today=day(60))
            monkeypatch.setattr(repaying, "on_time", real_on_time)
            assert (entry_postings(session, f"h{n}", hot.id)
                    == entry_postings(session, f"g{n}", general.id)), n
            assert row(session, hot.id) == row(session, general.id), n
        if not first:   # outside a cooling-off window every first payment is on time
            assert took_hot >= 1
    finally:
        nested.rollback()


def sent_statements(trace: str) -> list[str]:
    """The statements a libpq protocol trace shows the client sending: a simple ``Query``
    or an extended-protocol ``Execute`` (of a statement prepared or not), whichever way
    it was sent (the ORM, Core, or the driver's own cursor)."""
    return [line for line in trace.splitlines()
            if line.startswith("F\t") and line.split("\t")[2] in ("Query", "Execute")]


@pytest.mark.postgres_only
def test_an_on_time_repayment_is_three_statements(session, make_loan, tmp_path):
    loan_id = make_loan(amount_fen=1_000_000).id
    accrual.accrue(session=session, as_of=day(5))
    lifecycle.repay(session=session, loan_id=loan_id, amount_fen=100, paid_on=day(5),
                    idempotency_key="warm")   # the chart and shard count are cached
    # counted on the wire: the hot path sends its statements through the driver's own
    # cursor, which SQLAlchemy's cursor events do not see
    pgconn = session.connection().connection.driver_connection.pgconn
    path = tmp_path / "libpq.trace"
    with open(path, "w") as out:
        pgconn.trace(out.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            rep, replayed = lifecycle.record_repayment(
                session=session, loan_id=loan_id, amount_fen=5_000, paid_on=day(5),
                idempotency_key="lean")
        finally:
            pgconn.untrace()
    seen = sent_statements(path.read_text())
    assert not replayed and rep.entry_id is not None
    assert len(seen) == 3, seen   # lock the loan; key, balances, head; write it all
    stored = session.scalars(select(Repayment).where(Repayment.id == rep.id)
                             .execution_options(populate_existing=True)).one()
    assert (stored.amount_fen, stored.paid_on, stored.entry_id) == (5_000, day(5),
                                                                    rep.entry_id)


def _calls(session, function: str) -> int:
    """How often this transaction has called the PL/pgSQL *function* so far."""
    return session.execute(text(
        "select coalesce(pg_stat_get_xact_function_calls(p.oid), 0) from pg_proc p "
        "where p.proname = :f and pg_function_is_visible(p.oid)"), {"f": function}).scalar_one()


@pytest.mark.postgres_only
def test_an_on_time_repayment_runs_the_balance_check_once_and_no_terms_check(
        session, make_loan):
    """The server's work on the hot path (issue 11): the loan's terms trigger does not
    fire for the update of its running figures, the entry's balance is checked once at
    commit (migration 0019l)."""
    session.execute(text("set local track_functions = 'pl'"))
    loan_id = make_loan(amount_fen=1_000_000).id
    accrual.accrue(session=session, as_of=day(5))
    before = _calls(session, "ledger_refuse_terms_change")
    lifecycle.repay(session=session, loan_id=loan_id, amount_fen=5_000, paid_on=day(5),
                    idempotency_key="counted")
    balanced = _calls(session, "ledger_entry_balanced")
    session.execute(text("set constraints all immediate"))   # the deferred checks run now
    assert _calls(session, "ledger_refuse_terms_change") == before
    assert _calls(session, "ledger_entry_balanced") > balanced
    session.execute(text("set constraints all deferred"))


def test_a_loan_the_caller_holds_shows_the_payment(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, rate="0.072")
    accrual.accrue(session=session, as_of=day(10))
    loan = session.get(Loan, loan.id, populate_existing=True)   # held before the payment
    assert loan.interest_fen == 2_000
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=2_500, paid_on=day(10),
                    idempotency_key="seen")
    assert (loan.interest_fen, loan.principal_fen) == (0, 999_500)
    again, replayed = lifecycle.record_repayment(
        session=session, loan_id=loan.id, amount_fen=2_500, paid_on=day(10),
        idempotency_key="seen")
    assert replayed and again.amount_fen == 2_500
    assert loan.principal_fen == 999_500


@pytest.mark.postgres_only
def test_a_conflict_on_the_drivers_cursor_reaches_the_retries(session):
    # the hot path's statements bypass SQLAlchemy's execution; a deadlock or a
    # serialisation failure there must still reach trellis.db.run and the web layer's
    # retry as SQLAlchemy's DBAPIError, and other errors must not look retryable
    nested = session.begin_nested()
    with pytest.raises(DBAPIError) as conflict:
        posting.fetch_one(session, "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING "
                                   "ERRCODE = '40P01'; END $$", {})
    nested.rollback()
    assert db.is_retryable(conflict.value)
    nested = session.begin_nested()
    with pytest.raises(DBAPIError) as other:
        posting.fetch_one(session, "SELECT 1 / CAST(:zero AS integer)", {"zero": 0})
    nested.rollback()
    assert not db.is_retryable(other.value)
    assert posting.fetch_one(session, "SELECT CAST(:n AS integer) + 1", {"n": 1}) == (2,)
