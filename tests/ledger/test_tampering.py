"""Tampering with the books is refused by the database and, when someone with the keys
to the database gets past that, caught by ``check`` (issue 11, defects 4 and 5).

Each tampering happens inside a savepoint that is rolled back afterwards, so the
after-test check of the books sees the honest ledger again.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from trellis.db import is_postgres
from trellis.ledger import accrual, lifecycle, reports
from trellis.ledger.anchoring import doc_id
from trellis.ledger.journal import entry_label

D0 = date(2026, 1, 1)


def _loan_with_payments(make_loan, session):
    loan = make_loan(amount_fen=1_000_000, rate="0.072", disburse=D0)
    accrual.accrue(session=session, as_of=date(2026, 1, 31))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=148_345,
                    paid_on=date(2026, 1, 10), idempotency_key="bank-1")
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=50_000,
                    paid_on=date(2026, 1, 20), idempotency_key="bank-2")
    session.flush()
    return loan


def _disable(session, table, triggers):
    if is_postgres(session):
        session.execute(text(f"alter table {table} disable trigger user"))
    else:
        for name in triggers:
            session.execute(text(f"drop trigger {name}"))


@pytest.mark.parametrize("statement", [
    "delete from loan_repayments where idempotency_key = 'bank-1'",
    "update loan_repayments set amount_fen = 1 where idempotency_key = 'bank-1'",
    "update loan_repayments set paid_on = '2026-01-02' where idempotency_key = 'bank-1'",
    "update loans set rate_micro = 1 where id = :loan",
    "update loans set amount_fen = 2000000 where id = :loan",
    "update loans set due_date = '2026-12-31' where id = :loan",
    # every term, also beside the running figures (PostgreSQL's trigger fires only for an
    # UPDATE naming a term: migration 0019l)
    "update loans set interest_fen = 0, fee_fen = 1 where id = :loan",
    "update loans set penalty_rate_micro = 1 where id = :loan",
    "update loans set day_count = 365 where id = :loan",
    "update loans set disbursed_on = '2026-01-02' where id = :loan",
    "update loans set first_loan = not first_loan where id = :loan",
    "update loans set cooling_off_days = 30 where id = :loan",
    "update loans set firm_id = firm_id + 1 where id = :loan",
    "update loans set product_id = product_id + 1 where id = :loan",
    "update loans set waterfall = '[\"principal\", \"interest\", \"fees\", \"penalty\"]' "
    "where id = :loan",
])
def test_the_database_refuses_to_change_the_facts_a_replay_reads(session, make_loan,
                                                                  statement):
    loan = _loan_with_payments(make_loan, session)
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="facts|terms cannot change"):
        session.execute(text(statement), {"loan": loan.id})
    nested.rollback()


def test_balances_and_status_of_a_paid_out_loan_still_move(session, make_loan):
    loan = _loan_with_payments(make_loan, session)
    nested = session.begin_nested()  # moved outside the ledger: rolled back before the check
    moved = session.execute(text("update loans set interest_fen = interest_fen + 7, "
                                 "status = 'overdue' where id = :i"), {"i": loan.id})
    assert moved.rowcount == 1  # the trigger guards the terms, not the running figures
    row = session.execute(text("select interest_fen, status from loans where id = :i"),
                          {"i": loan.id}).one()
    nested.rollback()
    assert tuple(row) == (loan.interest_fen + 7, "overdue")


def test_check_catches_a_deleted_repayment_record(session, make_loan):
    loan = _loan_with_payments(make_loan, session)
    assert reports.check(session=session) == []
    nested = session.begin_nested()
    _disable(session, "loan_repayments", ["trg_loan_repayments_no_delete"])
    session.execute(text("delete from loan_repayments where idempotency_key = 'bank-1'"))
    problems = reports.check(session=session, hashes=False)
    nested.rollback()
    assert any(f"Loan {loan.id}: the journal holds 148345 fen of cash on 2026-01-10" in p
               for p in problems), problems


@pytest.mark.parametrize("column, value", [("rate_micro", 90_000), ("amount_fen", 900_000),
                                           ("fee_fen", 5_000)])
def test_check_catches_edited_loan_terms(session, make_loan, column, value):
    loan = _loan_with_payments(make_loan, session)
    nested = session.begin_nested()
    _disable(session, "loans", ["trg_loans_terms_fixed"])
    session.execute(text(f"update loans set {column} = {value} where id = :i"), {"i": loan.id})
    session.expire_all()
    problems = reports.check(session=session, hashes=False)
    nested.rollback()
    session.expire_all()
    assert any(f"Loan {loan.id}: account" in p and "replay" in p for p in problems), problems


# --- defect 5: the chain of hashes against the entries anchored on chain ---------------

def _journal_guard_off(session):
    if is_postgres(session):
        session.execute(text("set constraints all immediate"))   # fire deferred checks
        for table in ("journal_entries", "journal_postings", "loan_repayments"):
            session.execute(text(f"alter table {table} disable trigger user"))
    else:
        for name in ("trg_journal_entries_no_update", "trg_journal_postings_no_update"):
            session.execute(text(f"drop trigger {name}"))


def _anchor_everything(session, session_factory, settings):
    from trellis.chain import jobs as chain_jobs
    from trellis.ledger import jobs

    session.flush()
    jobs.anchor_ledger_head(session_factory=session_factory, settings=settings)
    chain_jobs.anchor_all(session_factory=session_factory, settings=settings, force=True)
    session.expire_all()


def _rehash_from(session, shard, seq):
    """What a forger with the database's keys does: recompute every hash of *shard* from
    *seq* on."""
    from trellis.ledger.journal import entry_hash
    from trellis.ledger.posting import account_codes

    codes = account_codes(session)
    prev = session.execute(text("select hash from journal_entries where seq = :s and "
                                "shard = :sh"), {"s": seq - 1, "sh": shard}).scalar() or "0" * 64
    rows = session.execute(text(
        "select id, seq, kind, idempotency_key, value_date, loan_id, reverses_id, memo "
        "from journal_entries where seq >= :s and shard = :sh order by seq"),
        {"s": seq, "sh": shard}).all()
    for id_, n, kind, key, vd, loan_id, reverses_id, memo in rows:
        postings = [(codes[a], lo, v, amt) for a, lo, v, amt in session.execute(text(
            "select account_id, loan_id, value_date, amount_fen from journal_postings "
            "where entry_id = :e"), {"e": id_})]
        vd = date.fromisoformat(vd) if isinstance(vd, str) else vd
        postings = [(a, lo, date.fromisoformat(v) if isinstance(v, str) else v, amt)
                    for a, lo, v, amt in postings]
        digest = entry_hash(prev_hash=prev, seq=n, currency="CNY", kind=kind,
                            idempotency_key=key, value_date=vd, loan_id=loan_id,
                            reverses_id=reverses_id, memo=memo, postings=postings,
                            shard=shard)
        session.execute(text("update journal_entries set prev_hash = :p, hash = :h "
                             "where id = :i"), {"p": prev, "h": digest, "i": id_})
        prev = digest
    session.execute(text("update ledger_heads set hash = :h where currency = 'CNY' and "
                         "shard = :sh"), {"h": prev, "sh": shard})


def test_check_names_an_edited_posting(session, make_loan):
    _loan_with_payments(make_loan, session)
    entry = session.execute(text("select id, seq, shard, idempotency_key from journal_entries"
                                 " where idempotency_key = 'repayment:bank-1'")).one()
    nested = session.begin_nested()
    _journal_guard_off(session)
    session.execute(text("update journal_postings set amount_fen = amount_fen + 1 where id = "
                         "(select min(id) from journal_postings where entry_id = :e)"),
                    {"e": entry.id})
    problems = reports.check(session=session)
    nested.rollback()
    assert f"{entry_label(entry.seq, entry.shard)} ({entry.idempotency_key}) was altered: " \
           "its hash does not match." in problems


def _append_fake(session, *, key, kind, day, legs, loan_id=None, shard=0):
    """What a forger with the database's keys does: plain INSERTs of a balanced entry,
    hashed and linked like a real one at the end of *shard*'s chain, and that chain's head
    moved onto it. Returns the label check names it by."""
    from trellis.ledger.journal import entry_hash

    seq, prev = next((n, h) for s, n, h in reports.heads(session=session) if s == shard)
    digest = entry_hash(prev_hash=prev, seq=seq + 1, currency="CNY", kind=kind,
                        idempotency_key=key, value_date=day, loan_id=loan_id,
                        reverses_id=None, memo="", postings=legs, shard=shard)
    session.execute(text(
        "insert into journal_entries (seq, currency, shard, idempotency_key, kind, "
        "value_date, loan_id, memo, prev_hash, hash, posted_at) values (:seq, 'CNY', :shard, "
        ":key, :kind, :day, :loan, '', :prev, :hash, :at)"),
        {"seq": seq + 1, "shard": shard, "key": key, "kind": kind, "day": day,
         "loan": loan_id, "prev": prev, "hash": digest, "at": "2026-01-25 10:00:00"})
    entry_id = session.execute(text("select id from journal_entries where idempotency_key = "
                                    ":k"), {"k": key}).scalar_one()
    for code, lo, vd, amount in legs:
        session.execute(text(
            "insert into journal_postings (entry_id, account_id, loan_id, value_date, "
            "amount_fen) select :e, id, :lo, :vd, :amt from ledger_accounts where code = :c "
            "and currency = 'CNY'"), {"e": entry_id, "lo": lo, "vd": vd, "amt": amount,
                                      "c": code})
    session.execute(text("update ledger_heads set seq = :s, hash = :h where currency = 'CNY' "
                         "and shard = :sh"), {"s": seq + 1, "h": digest, "sh": shard})
    assert reports.verify_chain(session=session) == []   # the links alone cannot tell
    return entry_label(seq + 1, shard)


def test_check_catches_a_balanced_fake_entry_appended_with_the_head_moved(session,
                                                                          make_loan):
    loan = _loan_with_payments(make_loan, session)
    assert reports.check(session=session) == []
    nested = session.begin_nested()
    # a fake receipt of 300,000 fen "owed to the vendor" (to be paid out later); the
    # loan's balances do not move, so they cannot tell
    day = date(2026, 1, 25)
    _append_fake(session, key="repayment:fake", kind="repayment", day=day, loan_id=loan.id,
                 legs=[("1002", loan.id, day, 300_000), ("2241", loan.id, day, -300_000)])
    problems = reports.check(session=session)
    nested.rollback()
    assert any(f"Loan {loan.id}: the journal holds 300000 fen of cash on 2026-01-25" in p
               for p in problems), problems


DAY = date(2026, 1, 25)


@pytest.mark.parametrize("in_loan_shard", [False, True], ids=["shard0", "loan_shard"])
@pytest.mark.parametrize("kind, key, legs, reason", [
    # cash taken out of the bank and booked as a credit loss: no loan anywhere
    ("provision", "provision:2026-01-25:fake",
     [("6701", None, DAY, 300_000), ("1002", None, DAY, -300_000)], "without a loan"),
    # invented income, on no loan
    ("repayment", "repayment:fake", [("1002", None, DAY, 300_000),
                                     ("6011", None, DAY, -300_000)], "without a loan"),
    # a payout of a surplus the vendor was never owed (the loan's balances do not move)
    ("payout", "payout:fake", [("2241", "loan", DAY, 300_000),
                               ("1002", "loan", DAY, -300_000)], "more surplus than"),
    # a kind no service posts, on loan-level accounts no other check reads
    ("bonus", "bonus:1", [("6701", "loan", DAY, 300_000), ("6301", "loan", DAY, -300_000)],
     "no service posts"),
    # a write-off of a loan that is still live
    ("write_off", "write-off:loan", [("6701", "loan", DAY, 300_000),
                                     ("6301", "loan", DAY, -300_000)], "not written off"),
])
def test_check_names_an_appended_entry_no_business_fact_explains(session, make_loan, kind,
                                                                 key, legs, reason,
                                                                 in_loan_shard):
    loan = _loan_with_payments(make_loan, session)
    assert reports.check(session=session) == []
    nested = session.begin_nested()
    legs = [(code, loan.id if lo == "loan" else lo, vd, amount) for code, lo, vd, amount
            in legs]
    key = key.replace("loan", str(loan.id))
    # in shard 0 (entries of no or several loans) or at the end of the loan's own chain
    shard = loan.id % len(reports.heads(session=session)) if in_loan_shard else 0
    label = _append_fake(session, key=key, kind=kind, day=DAY, legs=legs, shard=shard,
                         loan_id=loan.id if kind == "write_off" else None)
    problems = reports.check(session=session)
    nested.rollback()
    named = [p for p in problems if p.startswith(f"{label} ({key}) is explained by no "
                                                 "business fact")]
    assert named and reason in named[0], problems


def test_check_names_the_first_entry_of_a_rehashed_history(session, session_factory,
                                                           make_loan, embedded_chain,
                                                           chain_settings):
    _loan_with_payments(make_loan, session)
    _anchor_everything(session, session_factory, chain_settings)
    assert reports.check(session=session, chain=embedded_chain) == []
    target, shard = session.execute(text(
        "select seq, shard from journal_entries where idempotency_key = 'repayment:bank-1'"
    )).one()
    nested = session.begin_nested()
    _journal_guard_off(session)
    session.execute(text("update journal_entries set memo = 'nothing to see' where seq = :s "
                         "and shard = :sh"), {"s": target, "sh": shard})
    _rehash_from(session, shard, target)
    assert reports.verify_chain(session=session) == []   # every link recomputed
    problems = reports.check(session=session, chain=embedded_chain)
    nested.rollback()
    assert problems and problems[0].startswith(
        f"{entry_label(target, shard)} differs from the entry anchored on chain"), problems


def test_the_head_is_anchored_after_the_daily_job(session, session_factory, make_loan):
    from sqlalchemy import select

    from trellis.chain.models import Document
    from trellis.ledger import jobs

    make_loan(amount_fen=1_000_000, disburse=D0)
    jobs.accrue_daily(session_factory=session_factory, settings=None, as_of=date(2026, 1, 5))
    assert set(session.scalars(select(Document.doc_id).where(
        Document.doc_type == "ledger_entry"))) == _every_entry(session)


def test_the_head_is_anchored_at_least_hourly_and_after_the_overdue_job(session,
                                                                       session_factory,
                                                                       make_loan):
    from datetime import timedelta

    from sqlalchemy import select

    from trellis.chain.models import Document
    from trellis.jobs import JOBS
    from trellis.ledger import jobs

    spec = next(j for j in JOBS if j.func == "trellis.ledger.jobs:anchor_ledger_head")
    assert spec.trigger == "interval" and timedelta(**spec.args) <= timedelta(hours=1)
    make_loan(amount_fen=1_000_000, disburse=D0, due_date=date(2026, 1, 20))
    accrual.accrue(session=session, as_of=date(2026, 2, 10))
    session.flush()
    jobs.update_overdue(session_factory=session_factory, settings=None,
                        as_of=date(2026, 2, 10))
    docs = session.scalars(select(Document.doc_id).where(Document.doc_type == "ledger_entry")
                           ).all()
    assert len(docs) == len(set(docs)) and set(docs) == _every_entry(session)
    assert session.scalar(select(Document.doc_id).where(  # the allowance run's entry too
        Document.doc_id.like("CNY:%")).order_by(Document.id.desc()).limit(1)) == \
        doc_id("CNY", 0, reports.heads(session=session)[0][1])


def _every_entry(session):
    """The chain document id of every journal entry, in every shard."""
    return {doc_id("CNY", shard, seq) for shard, seq in session.execute(text(
        "select shard, seq from journal_entries"))}
