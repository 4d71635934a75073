"""The journal in the database: posting, idempotency, append-only, hash chain, balances."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.pgschema import pg_factory  # noqa: F401
from trellis.db import is_postgres
from trellis.ledger import reports
from trellis.ledger.chart import Acct
from trellis.ledger.errors import IdempotencyMismatch, UnbalancedEntry
from trellis.ledger.journal import GENESIS_HASH, Entry, EntryKind, Posting, reversal_of
from trellis.ledger.models import JournalEntry, JournalPosting
from trellis.ledger.posting import post

D1, D2, D3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)

# These tests post bare entries (no loan, no payment record) to test the journal itself;
# the after-test check leaves out the business facts for them (see tests/ledger/conftest).
pytestmark = pytest.mark.journal_unit


def transfer(key, amount, value_date=D1, debit=Acct.CASH, credit=Acct.VENDOR_PAYABLE,
             kind=EntryKind.PAYOUT):
    return Entry(kind=kind, value_date=value_date, idempotency_key=key,
                 postings=(Posting(debit, amount), Posting(credit, -amount)))


def test_entries_are_numbered_and_chained(session):
    first = post(session=session, entry=transfer("a", 100))
    second = post(session=session, entry=transfer("b", 250))
    assert (second.seq, second.prev_hash) == (first.seq + 1, first.hash)
    assert first.seq == 1 and first.prev_hash == GENESIS_HASH
    assert reports.head(session=session) == (second.seq, second.hash)
    assert reports.verify_chain(session=session) == []


def test_the_full_check_names_bare_entries_as_explained_by_no_fact(session):
    post(session=session, entry=transfer("a", 100))
    post(session=session, entry=transfer("b", 50, credit=Acct.INTEREST_INCOME,
                                         kind=EntryKind.REPAYMENT))
    assert reports.check(session=session, facts=False) == []
    problems = reports.check(session=session)
    assert problems[:2] == [
        "Entry 1 (a) is explained by no business fact: it posts to an account without a "
        "loan.",
        "Entry 2 (b) is explained by no business fact: it posts to an account without a "
        "loan."], problems


def test_retry_with_same_key_posts_once(session):
    first = post(session=session, entry=transfer("pay-1", 100))
    again = post(session=session, entry=transfer("pay-1", 100))
    assert again.id == first.id
    n = session.execute(text("select count(*) from journal_postings")).scalar_one()
    assert n == 2
    assert reports.trial_balance(session=session).balance(Acct.CASH) == 100


def test_same_key_for_another_command_is_refused(session):
    post(session=session, entry=transfer("pay-1", 100))
    with pytest.raises(IdempotencyMismatch, match="pay-1"):
        post(session=session, entry=transfer("pay-1", 100, kind=EntryKind.RECOVERY))


def test_unbalanced_entry_is_refused_before_touching_the_database(session):
    bad = Entry(kind=EntryKind.PAYOUT, value_date=D1, idempotency_key="bad",
                postings=(Posting(Acct.CASH, 100), Posting(Acct.LOANS, -99)))
    with pytest.raises(UnbalancedEntry):
        post(session=session, entry=bad)
    assert session.execute(text("select count(*) from journal_entries")).scalar_one() == 0


def test_balances_at_any_value_date(session):
    post(session=session, entry=transfer("a", 100, D1))
    post(session=session, entry=transfer("b", 40, D3))
    # posted later, but for D2: the ledger as now known
    post(session=session, entry=transfer("c", 7, D2))
    cash = {d: reports.balances(session=session, as_of=d)[Acct.CASH.value]
            for d in (date(2025, 12, 31), D1, D2, D3)}
    assert cash == {date(2025, 12, 31): 0, D1: 100, D2: 107, D3: 147}
    for d in (D1, D2, D3):
        assert reports.trial_balance(session=session, as_of=d).balanced


def test_trial_balance_lists_every_account_in_natural_direction(session):
    post(session=session, entry=transfer("a", 100, credit=Acct.INTEREST_INCOME,
                                         kind=EntryKind.REPAYMENT))
    tb = reports.trial_balance(session=session)
    rows = {r.code: r for r in tb.rows}
    assert len(rows) == len(Acct)
    assert rows[Acct.CASH.value].debit_fen == 100
    assert rows[Acct.INTEREST_INCOME.value].credit_fen == 100
    assert rows[Acct.INTEREST_INCOME.value].natural_fen == 100
    assert tb.total_debit_fen == tb.total_credit_fen == 100
    assert tb.as_dict()["balanced"] is True


def test_a_correction_is_a_reversing_entry(session):
    original = post(session=session, entry=transfer("a", 100))
    stored = Entry(kind=EntryKind.PAYOUT, value_date=D1, idempotency_key="a",
                   postings=(Posting(Acct.CASH, 100), Posting(Acct.VENDOR_PAYABLE, -100)))
    rev = post(session=session, entry=reversal_of(stored, entry_id=original.id,
                                                  idempotency_key="a-reversed"))
    assert rev.reverses_id == original.id
    assert reports.trial_balance(session=session).balance(Acct.CASH) == 0
    assert session.execute(text("select count(*) from journal_entries")).scalar_one() == 2


@pytest.mark.parametrize("statement", [
    "update journal_entries set memo = 'changed'",
    "delete from journal_entries",
    "update journal_postings set amount_fen = amount_fen * 2",
    "delete from journal_postings",
])
def test_database_refuses_to_change_the_journal(session, statement):
    post(session=session, entry=transfer("a", 100))
    session.flush()
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    nested.rollback()
    assert reports.trial_balance(session=session).balance(Acct.CASH) == 100


def test_orm_cannot_update_an_entry_either(session):
    row = post(session=session, entry=transfer("a", 100))
    nested = session.begin_nested()
    row.memo = "rewritten"
    with pytest.raises(DBAPIError, match="append-only"):
        session.flush()
    nested.rollback()


@pytest.mark.postgres_only  # the deferred balance trigger is PostgreSQL's
def test_postgres_refuses_an_unbalanced_entry_at_commit(session):
    assert is_postgres(session)
    ok = post(session=session, entry=transfer("a", 100))
    nested = session.begin_nested()
    session.execute(text(
        "insert into journal_entries (seq, currency, idempotency_key, kind, value_date, memo, "
        "prev_hash, hash, posted_at) values (:seq, 'CNY', 'raw', 'payout', '2026-01-01', '', "
        ":prev, :hash, now())"), {"seq": ok.seq + 1, "prev": ok.hash, "hash": "f" * 64})
    entry_id = session.execute(text("select id from journal_entries where idempotency_key = "
                                    "'raw'")).scalar_one()
    session.execute(text("insert into journal_postings (entry_id, account_id, value_date, "
                         "amount_fen) select :e, id, '2026-01-01', 5 from ledger_accounts "
                         "where code = '1002'"), {"e": entry_id})
    with pytest.raises(DBAPIError, match="does not balance"):
        session.execute(text("set constraints all immediate"))
    nested.rollback()
    session.execute(text("set constraints all deferred"))


@pytest.mark.postgres_only  # the deferred balance trigger is PostgreSQL's
def test_postgres_refuses_an_entry_that_balances_only_across_dates(session):
    ok = post(session=session, entry=transfer("a", 100))
    nested = session.begin_nested()
    session.execute(text(
        "insert into journal_entries (seq, currency, idempotency_key, kind, value_date, memo, "
        "prev_hash, hash, posted_at) values (:seq, 'CNY', 'raw', 'payout', '2026-01-01', '', "
        ":prev, :hash, now())"), {"seq": ok.seq + 1, "prev": ok.hash, "hash": "f" * 64})
    entry_id = session.execute(text("select id from journal_entries where idempotency_key = "
                                    "'raw'")).scalar_one()
    session.execute(text("insert into journal_postings (entry_id, account_id, value_date, "
                         "amount_fen) select :e, id, d, a from ledger_accounts, (values "
                         "(date '2026-01-01', 5), (date '2026-01-02', -5)) as v(d, a) "
                         "where code = '1002'"), {"e": entry_id})
    with pytest.raises(DBAPIError, match="does not balance on every value date"):
        session.execute(text("set constraints all immediate"))
    nested.rollback()
    session.execute(text("set constraints all deferred"))


@pytest.mark.postgres_only  # TRUNCATE is PostgreSQL's
def test_postgres_refuses_truncate(session):
    assert is_postgres(session)
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("truncate journal_postings"))
    nested.rollback()


def _disable_guard(session):
    """Within the test's transaction only (rolled back): drop the append-only guard."""
    if is_postgres(session):
        session.execute(text("alter table journal_postings disable trigger user"))
    else:
        session.execute(text("drop trigger trg_journal_postings_no_update"))


def test_rewriting_history_breaks_the_chain(session):
    post(session=session, entry=transfer("a", 100))
    second = post(session=session, entry=transfer("b", 50))
    post(session=session, entry=transfer("c", 25))
    session.flush()
    _disable_guard(session)
    # a forger moves 50 fen of the second entry to another date, keeping it balanced
    session.execute(text("update journal_postings set value_date = '2026-01-05' "
                         "where entry_id = :e"), {"e": second.id})
    problems = reports.verify_chain(session=session)
    assert problems == [f"Entry {second.seq} (b) was altered: its hash does not match."]
    # restore so that the after-test check of the books passes
    session.execute(text("update journal_postings set value_date = '2026-01-01' "
                         "where entry_id = :e"), {"e": second.id})
    assert reports.verify_chain(session=session) == []


def test_check_reports_a_loan_that_disagrees_with_its_sub_ledger(session, make_loan):
    loan = make_loan(amount_fen=500_000)
    assert reports.check(session=session) == []
    session.execute(text("update loans set principal_fen = 400000 where id = :i"),
                    {"i": loan.id})
    problems = reports.check(session=session)
    assert any(f"Loan {loan.id}: principal_fen is 400000 fen" in p for p in problems)
    session.execute(text("update loans set principal_fen = 500000 where id = :i"),
                    {"i": loan.id})
    session.expire_all()


def test_posting_rows_carry_value_dates_and_loans(session, make_loan):
    loan = make_loan(amount_fen=500_000, fee_fen=1_500, disburse=D2)
    rows = session.execute(
        text("select a.code, p.loan_id, p.value_date, p.amount_fen from journal_postings p "
             "join ledger_accounts a on a.id = p.account_id order by a.code")).all()
    assert [(r[0], r[1], str(r[2]), r[3]) for r in rows] == [
        ("1002", loan.id, "2026-01-02", -500_000), ("1134", loan.id, "2026-01-02", 1_500),
        ("1303", loan.id, "2026-01-02", 500_000), ("6021", loan.id, "2026-01-02", -1_500)]
    assert session.get(JournalEntry, session.execute(
        text("select max(id) from journal_entries")).scalar_one()).kind == "disbursement"
    assert JournalPosting.__tablename__ == "journal_postings"


@pytest.mark.postgres_only
def test_a_key_taken_meanwhile_in_another_shard_is_a_mismatch_not_a_crash(pg_factory):  # noqa: F811
    """Two commands under one key for loans of different shards: they lock different
    heads, so the second one's insert waits for the first to commit and then finds the key
    taken. It must refuse with IdempotencyMismatch (a 409), not fail on the unique index."""
    import threading

    from tests.conftest import give_payout_account, next_uscc
    from trellis import db
    from trellis.ledger import lifecycle
    from trellis.ledger.apr import rate_micro
    from trellis.ledger.models import Loan
    from trellis.ledger.posting import shard_count, shard_of
    from trellis.trade.models import Firm

    with db.transaction(pg_factory) as s:
        product = s.execute(text("select id from loan_products where code = 'RF-STD'")
                            ).scalar_one()
        firm = Firm(uscc=next_uscc(), name="分片测试", role="vendor")
        s.add(firm)
        s.flush()
        give_payout_account(s, firm)
        loans = []
        for _ in range(2):
            loan = Loan(firm_id=firm.id, product_id=product, amount_fen=1_000_000,
                        rate_micro=rate_micro("0.072"), due_date=date(2026, 3, 31),
                        waterfall=["penalty", "fees", "interest", "principal"])
            s.add(loan)
            s.flush()
            lifecycle.disburse(session=s, settings=None, loan_id=loan.id, as_of=D1)
            loans.append(loan.id)
        n = shard_count(s)
    assert n > 1 and shard_of(loans[0], n) != shard_of(loans[1], n)

    def entry(loan_id):
        return Entry(kind=EntryKind.REPAYMENT, value_date=D2, idempotency_key="same-key",
                     loan_id=loan_id, postings=(Posting(Acct.CASH, 100, loan_id),
                                                Posting(Acct.VENDOR_PAYABLE, -100, loan_id)))

    first_posted, outcome = threading.Event(), {}

    def first():
        with db.transaction(pg_factory) as s:
            post(session=s, entry=entry(loans[0]))
            first_posted.set()
            threading.Event().wait(0.5)   # the second insert waits on this key meanwhile

    def second():
        first_posted.wait(10)
        try:
            with db.transaction(pg_factory) as s:
                post(session=s, entry=entry(loans[1]))
        except Exception as exc:   # noqa: BLE001 (the test reports what was raised)
            outcome["error"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert isinstance(outcome.get("error"), IdempotencyMismatch), outcome
    with db.transaction(pg_factory) as s:
        assert reports.verify_chain(session=s) == []
        assert s.execute(text("select loan_id from journal_entries where idempotency_key = "
                              "'same-key'")).scalar_one() == loans[0]
