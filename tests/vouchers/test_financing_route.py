"""Financing a voucher part is an ordinary ledger application: the ledger's automatic
rules decide it or refer it to an RM (no voucher-only shortcut), the ledger's
acceptance pledges the part, pay-out registers it against double financing, and the
anchor's settlement at maturity repays the loan."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.accounts.services import create_user
from trellis.chain.errors import DoubleFinancing
from trellis.ledger import lifecycle, origination
from trellis.ledger.models import Application, Loan
from trellis.messages import texts
from trellis.scoring.result import Flag, ScoreResult
from trellis.vouchers import financing
from trellis.vouchers import services as vs
from trellis.vouchers.models import VoucherFragment
from trellis.vouchers.settlement import settle

TODAY = clock.today()


def scorer_for(grade: str, flagged: bool = False):
    def score(*, session, firm_id, as_of, applied_on=None):
        flags = [Flag("test", "A test flag", "测试")] if flagged else []
        return ScoreResult(firm_id=firm_id, as_of=as_of, score=700, pd=Decimal("0.01"),
                           grade=grade, insufficient=False, insufficient_reasons=[],
                           reasons=[], flags=flags, scorecard_version="test", features={})
    return score


def no_limit(**_kw):
    return 10**12


@pytest.fixture
def chain_settings():
    from trellis.config import Settings

    return Settings(fingerprint_key="vouchers-test-fingerprint-key")


@pytest.fixture
def embedded_chain(chain_settings):
    from trellis.chain import client as client_mod

    node = client_mod.Chain.embedded()
    client_mod.use_chain(chain_settings, node)
    yield node
    client_mod.reset_chains()


def tier2_part(session, chain, face=2_000_000, give=1_000_000):
    """tier 1's invoice issued as a voucher; tier 1 passes *give* fen of it to tier 2."""
    inv = invoice(session, chain.tier1, chain.anchor, face)
    voucher = vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                       maturity_date=vs.add_months(TODAY, 3), issued_on=TODAY)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    part, _rest = vs.pay_supplier(session=session, holder_id=chain.tier1.id,
                                  fragment_id=root.id, to_firm_id=chain.tier2.id,
                                  amount_fen=give, as_of=TODAY)
    return inv, voucher, part


@pytest.mark.parametrize("grade, flagged, status, reason", [
    ("A", False, "approved", None),
    ("C", False, "review", "Grade C is not approved automatically"),
    ("A", True, "review", "Flag: A test flag"),
])
def test_the_ledger_rules_decide_a_part(session, chain, grade, flagged, status, reason):
    _inv, _voucher, part = tier2_part(session, chain)
    app, offer = financing.quote(session=session, holder_id=chain.tier2.id,
                                 fragment_id=part.id, as_of=TODAY,
                                 scorer=scorer_for(grade, flagged), limiter=no_limit)
    assert app.status == status and app.fragment_ids == [part.id]
    assert (offer is not None) == (status == "approved")
    if reason:
        assert any(reason in r for r in texts(app.review_reasons))
    assert financing.fragment_for_application(session=session,
                                              application_id=app.id).id == part.id


def test_an_rm_approved_part_is_paid_out_registered_and_repaid_at_maturity(
        session, chain, embedded_chain, chain_settings):
    rm = create_user(session=session, email="rm-vouchers@example.cn",
                     password="correct horse battery", role="rm")
    inv, voucher, part = tier2_part(session, chain)
    app, offer = financing.quote(session=session, holder_id=chain.tier2.id,
                                 fragment_id=part.id, as_of=TODAY, scorer=scorer_for("C"),
                                 limiter=no_limit)
    assert (app.status, offer) == ("review", None)
    origination.decide(session=session, application_id=app.id, user_id=rm.id, approve=True)
    offer = origination.open_offer(session, app.id)
    assert offer.amount_fen == part.amount_fen * 8 // 10
    # the ledger's own acceptance pledges the part, as the voucher pages do
    loan = origination.accept_offer(session=session, offer_id=offer.id, as_of=TODAY)
    part = session.get(VoucherFragment, part.id)
    assert (part.status, part.loan_id) == ("financed", loan.id)
    assert [e.kind for e in vs.events(session=session, voucher_id=voucher.id)][-1] == "finance"
    lifecycle.disburse(session=session, settings=chain_settings, loan_id=loan.id, as_of=TODAY)
    with pytest.raises(DoubleFinancing, match=voucher.code):
        from trellis.chain.registry import register_financing

        register_financing(session=session, settings=chain_settings, invoice_ids=[inv.id])
    # the settlement runs on the maturity date (the ledger books no payment in advance)
    paid = settle(session=session, voucher_id=voucher.id, paid_on=voucher.maturity_date,
                  today=voucher.maturity_date)
    assert {p.holder_id: p.loan_id for p in paid} == {chain.tier1.id: None,
                                                      chain.tier2.id: loan.id}
    loan = session.get(Loan, loan.id)
    assert loan.status == "repaid" and loan.outstanding_fen == 0
    assert session.scalars(select(Application.status).where(
        Application.id == app.id)).one() == "accepted"
    assert voucher.maturity_date + timedelta(days=3) == loan.due_date
