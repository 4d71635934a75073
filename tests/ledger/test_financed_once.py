"""A document the platform registered for financing is not offered again (reader 11, F33).

An outside reader repaid loan 12 on invoice …044 inside the cooling-off period; the apply
page offered …044 again, an offer was made and signed, and a minute later the pay-out job
cancelled the new loan saying the invoice was "already financed (by another financier, or
by another loan)". The registry keeps every registration (the contract has no release),
so the platform refuses the invoice at every step before money moves, naming its own
earlier loan; a refusal at pay-out that does happen says the platform's own loan holds
the invoice, not another financier. On SQLite and PostgreSQL (the ``session`` fixture).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.ledger.conftest import AS_OF
from tests.vouchers.test_financing_route import no_limit, scorer_for
from trellis.chain.errors import DoubleFinancing
from trellis.chain.registry import registered
from trellis.ledger import claims, lifecycle, origination
from trellis.ledger.claims import DocumentClaimed
from trellis.ledger.models import Application, LoanStatus, Offer
from trellis.notifications import render

REVIEW = {"scorer": scorer_for("C"), "limiter": no_limit}   # grade C goes to an RM


def _signed(session, world, inv):
    """Applied for *inv*, approved at once and signed: the loan, pending pay-out."""
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF, scorer=scorer_for("A"),
                            limiter=no_limit)
    assert app.status == "approved", app.review_reasons
    offer = session.scalars(select(Offer).where(Offer.application_id == app.id)).one()
    return origination.accept_offer(session=session, offer_id=offer.id, as_of=AS_OF)


def _cooled_off(session, world, inv, settings):
    """*inv* financed, paid out (registered on the embedded chain) and repaid in full
    inside the cooling-off period."""
    loan = _signed(session, world, inv)
    lifecycle.disburse(session=session, settings=settings, loan_id=loan.id, as_of=AS_OF)
    day = AS_OF + timedelta(days=2)
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=lifecycle.owed_by_borrower(loan),
                    paid_on=day, idempotency_key=f"cool-{loan.id}", today=day)
    session.refresh(loan)
    assert loan.status in (LoanStatus.COOLED_OFF, LoanStatus.REPAID)
    return loan


def test_an_invoice_repaid_in_the_cooling_off_period_is_not_financed_again(
        session, world, embedded_chain, chain_settings):
    inv = world.invoice(1_234_500, due=AS_OF + timedelta(days=60))
    first = _cooled_off(session, world, inv, chain_settings)
    assert registered(session, invoice_ids=[inv.id]) == {("invoice", inv.id)}
    with pytest.raises(DocumentClaimed) as err:
        origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                          invoice_ids=[inv.id], as_of=AS_OF + timedelta(days=2), **REVIEW)
    text = err.value.message
    assert inv.number in text and f"loan {first.id}" in text and "registry" in text, text
    assert "another financier" not in text
    zh = render.text(claims.registered_message(session, ("invoice", inv.id), first.id)
                     .to_json(), "zh_CN")
    assert f"贷款 {first.id}" in zh and "本平台" in zh and "其他金融机构" not in zh, zh


def test_an_application_filed_before_the_rule_is_refused_at_approval_and_signing(
        session, world, embedded_chain, chain_settings, make_user):
    """An application and an offer standing on the invoice (filed before this check, as
    in the reader's walk) are refused when approved or signed, before a loan exists."""
    inv = world.invoice(1_234_500, due=AS_OF + timedelta(days=60))
    first = _cooled_off(session, world, inv, chain_settings)
    # as filed before the check: straight into the table
    waiting = Application(firm_id=world.vendor.id, product_id=first.product_id,
                          requested_fen=900_000, eligible_fen=900_000,
                          invoice_ids=[inv.id], order_ids=[], fragment_ids=[],
                          status="review", as_of=AS_OF, grade="B")
    session.add(waiting)
    session.flush()
    rm = make_user("rm")
    with pytest.raises(DocumentClaimed, match=f"loan {first.id}"):
        origination.decide(session=session, application_id=waiting.id, user_id=rm.id,
                           approve=True, reasons=["ok"], as_of=AS_OF)
    assert [str(m) for m in claims.unfinanceable(session, waiting)] == [
        str(claims.registered_message(session, ("invoice", inv.id), first.id))]
    waiting.status = "approved"
    offer = origination.make_offer(session=session, application=waiting, as_of=AS_OF)
    with pytest.raises(DocumentClaimed, match=f"loan {first.id}"):
        origination.accept_offer(session=session, offer_id=offer.id, as_of=AS_OF)


def test_a_pay_out_refused_for_the_platforms_own_registration_says_so(
        session, world, embedded_chain, chain_settings):
    """A loan signed while the earlier one was open (so the check let it through) and paid
    out after that one was repaid: the registry refuses it; the reason names the earlier
    loan of this platform, not another financier."""
    inv = world.invoice(1_234_500, due=AS_OF + timedelta(days=60))
    first = _cooled_off(session, world, inv, chain_settings)
    second = _signed_without_checks(session, world, inv, first)
    with pytest.raises(DoubleFinancing) as err:
        lifecycle.disburse(session=session, settings=chain_settings, loan_id=second.id,
                           as_of=AS_OF + timedelta(days=3))
    why = lifecycle.not_paid_out(session, second.id, err.value)
    zh = render.text(why.to_json(), "zh_CN")
    assert zh.startswith("未放款：") and f"贷款 {first.id}" in zh and inv.number in zh, zh
    assert "并非其他金融机构" in zh and "或另一笔贷款" not in zh, zh
    en = render.text(why.to_json(), "en")
    assert f"loan {first.id}" in en and "not another financier" in en, en


def _signed_without_checks(session, world, inv, first):
    """A pending loan on *inv* as a signature made before the check existed left it."""
    from trellis.ledger.models import Loan, LoanDocument

    loan = Loan(firm_id=world.vendor.id, product_id=first.product_id, amount_fen=900_000,
                rate_micro=first.rate_micro, penalty_rate_micro=first.penalty_rate_micro,
                fee_fen=0, tenor_days=30, due_date=AS_OF + timedelta(days=40),
                status="pending", first_loan=False)
    session.add(loan)
    session.flush()
    session.add(LoanDocument(loan_id=loan.id, invoice_id=inv.id))
    session.flush()
    return loan


def test_another_financiers_registration_is_named_as_such(session, world, make_loan):
    """No registration of this platform behind the documents: the registry's refusal is
    another financier's, said plainly (no "or by another loan")."""
    from trellis.ledger.models import LoanDocument

    inv = world.invoice(2_000_000)
    loan = make_loan(firm=world.vendor, disburse=None)
    session.add(LoanDocument(loan_id=loan.id, invoice_id=inv.id))
    session.flush()
    why = lifecycle.not_paid_out(session, loan.id, DoubleFinancing(
        "Financing refused: invoice X is already registered for financing by another "
        "financier (account 0xab)"))
    zh = render.text(why.to_json(), "zh_CN")
    assert "其他金融机构" in zh and "另一笔贷款" not in zh and inv.number in zh, zh


# --- reader 11, F31: an order that has become an invoice is financed as the invoice ----------

def test_an_invoiced_order_is_refused_and_the_invoice_named(session, world):
    order = world.order(1_234_500, on=AS_OF - timedelta(days=20))
    inv = world.invoice(1_234_500, issued=AS_OF - timedelta(days=5), order=order)
    with pytest.raises(origination.IneligibleDocument) as err:
        origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                          order_ids=[order.id], as_of=AS_OF, **REVIEW)
    assert err.value.field == "order_ids"
    text = err.value.message
    assert order.number in text and inv.number in text and "receivable financing" in text
    inv.paid_fen = inv.amount_fen   # the buyer paid it: nothing left to finance
    session.flush()
    with pytest.raises(origination.IneligibleDocument, match="buyer has paid"):
        origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                          order_ids=[order.id], as_of=AS_OF, **REVIEW)
    assert session.scalars(select(Application)).all() == []


def test_an_order_whose_invoice_was_rejected_is_still_financed(session, world):
    order = world.order(1_234_500, on=AS_OF - timedelta(days=20))
    inv = world.invoice(1_234_500, issued=AS_OF - timedelta(days=5), order=order)
    inv.status = "rejected"
    session.flush()
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                            order_ids=[order.id], as_of=AS_OF, **REVIEW)
    assert app.status == "review" and claims.unfinanceable(session, app) == []


def test_an_order_invoiced_after_its_offer_cannot_be_signed(session, world):
    order = world.order(1_234_500, on=AS_OF - timedelta(days=20))
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                            order_ids=[order.id], as_of=AS_OF, scorer=scorer_for("A"),
                            limiter=no_limit)
    assert app.status == "approved", app.review_reasons
    offer = session.scalars(select(Offer).where(Offer.application_id == app.id)).one()
    inv = world.invoice(1_234_500, issued=AS_OF - timedelta(days=1), order=order)
    with pytest.raises(origination.IneligibleDocument, match=inv.number):
        origination.accept_offer(session=session, offer_id=offer.id, as_of=AS_OF)
