"""The ledger's scheduled jobs, run through their own transactions."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.ledger.conftest import AS_OF
from trellis.chain import registry
from trellis.ledger import jobs, lifecycle, origination, reports
from trellis.ledger.chart import Acct
from trellis.ledger.models import Loan, LoanStatus, Offer

D0 = date(2026, 1, 1)


def test_accrue_daily_accrues_marks_overdue_and_provisions(session, session_factory,
                                                           make_loan):
    current = make_loan(amount_fen=1_000_000, due_date=D0 + timedelta(days=90))
    late = make_loan(amount_fen=2_000_000, due_date=D0 + timedelta(days=10))
    outcome = jobs.accrue_daily(session_factory=session_factory, settings=None,
                                as_of=D0 + timedelta(days=20))
    assert outcome.startswith("accrued 20 day(s) up to 2026-01-21: 40 loan-days")
    assert "1 loan(s) now overdue" in outcome
    session.expire_all()
    current, late = session.get(Loan, current.id), session.get(Loan, late.id)
    assert (current.status, late.status) == (LoanStatus.ACTIVE, LoanStatus.OVERDUE)
    assert current.interest_fen == 20 * 200 and late.interest_fen == 20 * 400
    # RF-STD holds 10 % of principal for 1-30 days past due
    assert late.allowance_fen == 200_000 and current.allowance_fen == 0
    again = jobs.accrue_daily(session_factory=session_factory, settings=None,
                              as_of=D0 + timedelta(days=20))
    assert again.startswith("accrued 0 day(s)")
    # 45 days past due: the 31-60 bucket holds 25 %
    jobs.accrue_daily(session_factory=session_factory, settings=None,
                      as_of=D0 + timedelta(days=56))
    session.expire_all()
    assert session.get(Loan, late.id).allowance_fen == 500_000
    lifecycle.write_off(session=session, loan_id=late.id, as_of=D0 + timedelta(days=56),
                        idempotency_key="wo")
    b = reports.balances(session=session, loan_id=late.id)
    assert b[Acct.LOSS_ALLOWANCE.value] == 0
    # expense = allowance built (500,000) + the rest written off
    assert b[Acct.WRITE_OFF_EXPENSE.value] == session.get(Loan, late.id).written_off_fen


def test_repaid_loans_release_their_allowance(session, session_factory, make_loan):
    loan = make_loan(amount_fen=1_000_000, due_date=D0 + timedelta(days=5))
    jobs.accrue_daily(session_factory=session_factory, settings=None,
                      as_of=D0 + timedelta(days=10))
    session.expire_all()
    assert session.get(Loan, loan.id).allowance_fen == 100_000
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=2_000_000,
                    paid_on=D0 + timedelta(days=10), idempotency_key="all")
    jobs.update_overdue(session_factory=session_factory, settings=None,
                        as_of=D0 + timedelta(days=11))
    session.expire_all()
    assert session.get(Loan, loan.id).allowance_fen == 0
    b = reports.balances(session=session, loan_id=loan.id)
    assert b[Acct.LOSS_ALLOWANCE.value] == b[Acct.WRITE_OFF_EXPENSE.value] == 0


def test_disburse_approved_pays_out_and_cancels_double_financing(
        session, session_factory, world, embedded_chain, chain_settings):
    loans = []
    for amount in (10_000_000, 5_000_000):
        inv = world.invoice(amount)
        app = origination.apply(session=session, firm_id=world.vendor.id,
                                product_code="RF-STD", invoice_ids=[inv.id], as_of=AS_OF)
        offer = session.scalars(select(Offer).where(Offer.application_id == app.id)).one()
        loans.append((inv, origination.accept_offer(session=session, offer_id=offer.id,
                                                    as_of=AS_OF)))
    twin = world.invoice(loans[1][0].amount_fen, issued=loans[1][0].issue_date)
    registry.register_financing(session=session, settings=chain_settings,
                                invoice_ids=[twin.id], financed_by="other-bank")
    session.flush()
    outcome = jobs.disburse_approved(session_factory=session_factory, settings=chain_settings,
                                     as_of=AS_OF)
    assert outcome == "paid out 1 loan(s), cancelled 1 (financed elsewhere)"
    session.expire_all()
    ok, refused = (session.get(Loan, loan.id) for _, loan in loans)
    assert ok.status == LoanStatus.ACTIVE and ok.disbursed_on == AS_OF
    assert refused.status == LoanStatus.CANCELLED
    # the reason is a stored message, read in each person's language
    from trellis.messages import Message

    said = str(Message.loads(refused.cancel_reason))
    assert said.startswith("Not paid out:") and "another financier" in said, said


def test_anchor_ledger_head_queues_the_chain_head_once(session, session_factory, make_loan):
    from trellis.chain.models import Document

    assert jobs.anchor_ledger_head(session_factory=session_factory,
                                   settings=None) == "the journal is empty"
    from trellis.ledger.anchoring import doc_id

    loan = make_loan()
    seq, digest = reports.head(session=session)
    first = jobs.anchor_ledger_head(session_factory=session_factory, settings=None)
    jobs.anchor_ledger_head(session_factory=session_factory, settings=None)
    assert first.startswith(f"queued ledger head {seq} ")
    docs = session.scalars(select(Document).where(Document.doc_type == "ledger_entry")).all()
    shard, = (s for s, n, _h in reports.heads(session=session) if n)   # the loan's shard
    assert [d.doc_id for d in docs] == [doc_id("CNY", shard, 1)]
    assert shard == (loan.id % len(reports.heads(session=session)))
    last = next(h for s, _n, h in reports.heads(session=session) if s == shard)
    assert last in docs[0].canonical


def test_disbursement_waits_while_the_chain_is_down(session, session_factory, world,
                                                    chain_settings, monkeypatch):
    from trellis.chain import registry as registry_mod
    from trellis.chain.errors import ChainUnavailable

    inv = world.invoice(10_000_000)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    offer = session.scalars(select(Offer).where(Offer.application_id == app.id)).one()
    loan = origination.accept_offer(session=session, offer_id=offer.id, as_of=AS_OF)

    def down(**_kw):
        raise ChainUnavailable("the node does not answer")

    monkeypatch.setattr(registry_mod, "register_financing", down)
    outcome = jobs.disburse_approved(session_factory=session_factory, settings=chain_settings,
                                     as_of=AS_OF)
    assert outcome == "paid out 0 loan(s), cancelled 0 (financed elsewhere); 1 wait for the chain"
    session.expire_all()
    assert session.get(Loan, loan.id).status == LoanStatus.PENDING


def test_allowances_stay_equal_to_the_journal_when_dates_come_round_again(
        session, session_factory, make_loan):
    """Defect 3: accrue D, then an earlier date, then D again left loan rows with an
    allowance the journal did not hold; the earlier run released allowances of loans
    overdue on D."""
    late = make_loan(amount_fen=2_000_000, due_date=D0 + timedelta(days=10))
    later = make_loan(amount_fen=1_000_000, due_date=D0 + timedelta(days=40))
    day_d, earlier = D0 + timedelta(days=56), D0 + timedelta(days=30)
    for as_of in (day_d, earlier, day_d, earlier, day_d):
        jobs.accrue_daily(session_factory=session_factory, settings=None, as_of=as_of)
        session.expire_all()
        assert reports.check(session=session, hashes=False) == []
        # 46 days past due (31-60: 25 %) and 16 days (1-30: 10 %) as of D, every time
        assert session.get(Loan, late.id).allowance_fen == 500_000
        assert session.get(Loan, later.id).allowance_fen == 100_000
    b = reports.balances(session=session)
    assert -b[Acct.LOSS_ALLOWANCE.value] == 600_000


def test_a_drifted_allowance_row_is_caught_and_mended_from_the_journal(
        session, session_factory, make_loan):
    from sqlalchemy import text

    late = make_loan(amount_fen=2_000_000, due_date=D0 + timedelta(days=10))
    jobs.accrue_daily(session_factory=session_factory, settings=None,
                      as_of=D0 + timedelta(days=20))
    session.execute(text("update loans set allowance_fen = 7 where id = :i"), {"i": late.id})
    assert any("allowance_fen is 7 fen" in p for p in reports.check(session=session,
                                                                     hashes=False))
    jobs.update_overdue(session_factory=session_factory, settings=None,
                        as_of=D0 + timedelta(days=20))
    session.expire_all()
    assert session.get(Loan, late.id).allowance_fen == 200_000
