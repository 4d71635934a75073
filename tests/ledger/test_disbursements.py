"""Every pay-out has its record (``loan_disbursements``, migration 0018m), which the
database keeps append-only and ``trellis ledger check`` reconciles with the journal."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.ledger.test_tampering import _disable
from trellis.ledger import reports
from trellis.ledger.models import Disbursement, JournalEntry

D0 = date(2026, 1, 1)


def test_a_pay_out_writes_its_record(session, make_loan):
    loan = make_loan(amount_fen=1_000_000, fee_fen=3_000, disburse=D0)
    rec = session.scalars(select(Disbursement).where(Disbursement.loan_id == loan.id)).one()
    entry = session.get(JournalEntry, rec.entry_id)
    assert (rec.amount_fen, rec.fee_fen, rec.disbursed_on) == (1_000_000, 3_000, D0)
    assert (entry.kind, entry.loan_id) == ("disbursement", loan.id)


@pytest.mark.parametrize("statement", [
    "delete from loan_disbursements where loan_id = :loan",
    "update loan_disbursements set amount_fen = 1 where loan_id = :loan",
])
def test_the_database_refuses_to_change_a_pay_out_record(session, make_loan, statement):
    loan = make_loan(amount_fen=1_000_000, disburse=D0)
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="facts"):
        session.execute(text(statement), {"loan": loan.id})
    nested.rollback()


@pytest.mark.parametrize("statement, says", [
    ("delete from loan_disbursements where loan_id = :loan", "has no disbursement record"),
    ("update loan_disbursements set fee_fen = 9 where loan_id = :loan",
     "the disbursement record says 1000000 fen and a fee of 9 fen"),
])
def test_check_catches_a_pay_out_record_changed_behind_the_triggers(session, make_loan,
                                                                     statement, says):
    loan = make_loan(amount_fen=1_000_000, disburse=D0)
    assert reports.check(session=session, hashes=False) == []
    nested = session.begin_nested()
    _disable(session, "loan_disbursements", ["trg_loan_disbursements_no_delete",
                                             "trg_loan_disbursements_no_update"])
    session.execute(text(statement), {"loan": loan.id})
    problems = reports.check(session=session, hashes=False)
    nested.rollback()
    assert any(p.startswith(f"Loan {loan.id}: ") and says in p for p in problems), problems


def test_the_migration_records_earlier_pay_outs_from_the_journal(tmp_path):
    """Loans paid out before 0018m get their record from their pay-out entry."""
    from sqlalchemy import text as sql

    from tests.ledger.test_deadlocks import make_book
    from trellis import db, migrate

    url = f"sqlite:///{tmp_path}/backfill.db"
    migrate.upgrade(url)
    engine = db.make_engine(url)
    factory = db.make_sessionmaker(engine)
    try:
        ids = make_book(factory, n=3)
        with engine.begin() as conn:
            before = conn.execute(sql("select loan_id, amount_fen, fee_fen, disbursed_on, "
                                      "entry_id from loan_disbursements order by loan_id")
                                  ).all()
        migrate.downgrade(url, "0018l_ledger_shards")
        migrate.upgrade(url)
        with engine.begin() as conn:
            after = conn.execute(sql("select loan_id, amount_fen, fee_fen, disbursed_on, "
                                     "entry_id from loan_disbursements order by loan_id")
                                 ).all()
        assert [r[0] for r in before] == ids and after == before
        with db.transaction(factory) as s:
            assert reports.check(session=s, hashes=False) == []
    finally:
        engine.dispose()
