"""An order and the invoice it became are one trade, financed once (DOMAIN.md: order
financing is repaid from the invoice the order becomes).

Found by an outside reader: after invoice …142 had become a voucher, its order (same
buyer, same amount) still got an instant offer; an order whose invoice was financed by a
loan was offered too. On SQLite and PostgreSQL (the ``session`` fixture runs both).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.ledger.conftest import AS_OF
from tests.vouchers.test_financing_route import no_limit, scorer_for
from trellis.ledger import claims, origination
from trellis.ledger.claims import DocumentClaimed
from trellis.ledger.models import Offer
from trellis.vouchers import services as vs

REVIEW = {"scorer": scorer_for("C"), "limiter": no_limit}   # grade C goes to an RM
MATURITY = AS_OF + timedelta(days=90)


def _order_and_invoice(world, amount=2_000_000):
    order = world.order(amount, on=AS_OF - timedelta(days=20))
    inv = world.invoice(amount, issued=AS_OF - timedelta(days=5), order=order)
    return order, inv


def test_an_order_whose_invoice_became_a_voucher_is_refused_naming_the_invoice(session, world):
    order, inv = _order_and_invoice(world)
    vs.issue(session=session, anchor_id=world.anchor.id, invoice_id=inv.id,
             maturity_date=MATURITY, issued_on=AS_OF)
    with pytest.raises(DocumentClaimed) as err:
        origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                          order_ids=[order.id], as_of=AS_OF, **REVIEW)
    assert order.number in err.value.message and inv.number in err.value.message
    assert "voucher" in err.value.message
    assert err.value.field == "order_ids"
    marks = claims.trade_marks(session, firm_id=world.vendor.id, order_ids=[order.id],
                               as_of=AS_OF)
    assert str(marks[("order", order.id)]) == "Its invoice was turned into a voucher"


def test_an_order_whose_invoice_is_in_an_application_or_financed_is_refused(session, world):
    order, inv = _order_and_invoice(world)
    first = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                              invoice_ids=[inv.id], as_of=AS_OF, **REVIEW)
    with pytest.raises(DocumentClaimed, match=f"already in application {first.id}"):
        origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                          order_ids=[order.id], as_of=AS_OF, **REVIEW)
    # and an unlinked order of the same firm is not in the way
    other = world.order(1_000_000, on=AS_OF - timedelta(days=3))
    assert claims.trade_claims(session, firm_id=world.vendor.id, order_ids=[other.id],
                               as_of=AS_OF) == []


def _invoice_of(world, order):
    """The invoice *order* becomes, issued after the order was financed (an order already
    invoiced is not financed: tests/ledger/test_financed_once.py)."""
    return world.invoice(order.amount_fen, issued=AS_OF - timedelta(days=5), order=order)


def test_an_invoice_whose_order_is_financed_is_refused_and_cannot_become_a_voucher(
        session, world):
    order = world.order(2_000_000, on=AS_OF - timedelta(days=20))
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                            order_ids=[order.id], as_of=AS_OF)
    assert app.status == "approved", app.review_reasons
    offer = session.scalars(select(Offer).where(Offer.application_id == app.id)).one()
    loan = origination.accept_offer(session=session, offer_id=offer.id, as_of=AS_OF)
    inv = _invoice_of(world, order)
    with pytest.raises(DocumentClaimed) as err:
        origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                          invoice_ids=[inv.id], as_of=AS_OF, **REVIEW)
    assert f"loan {loan.id}" in err.value.message and order.number in err.value.message
    with pytest.raises(DocumentClaimed, match=order.number):
        vs.issue(session=session, anchor_id=world.anchor.id, invoice_id=inv.id,
                 maturity_date=MATURITY, issued_on=AS_OF)
    marks = claims.trade_marks(session, firm_id=world.vendor.id, invoice_ids=[inv.id],
                               as_of=AS_OF)
    assert str(marks[("invoice", inv.id)]) == "Its order is financed"


# --- a settled claim no longer holds the trade (pages9, issue 15) ----------------------------

def _order_loan(session, world, order, settings):
    """The order financed: applied, approved at once, accepted and paid out (its order
    registered on the embedded chain)."""
    from trellis.ledger import lifecycle

    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                            order_ids=[order.id], as_of=AS_OF)
    assert app.status == "approved", app.review_reasons
    offer = session.scalars(select(Offer).where(Offer.application_id == app.id)).one()
    loan = origination.accept_offer(session=session, offer_id=offer.id, as_of=AS_OF)
    lifecycle.disburse(session=session, settings=settings, loan_id=loan.id, as_of=AS_OF)
    return loan


def test_an_invoice_whose_order_loan_was_repaid_can_be_financed(
        session, world, embedded_chain, chain_settings):
    """The order's loan is repaid in full: that claim is settled, so the invoice the order
    became is free to finance (and to issue as a voucher); it is not refused forever."""
    from trellis.ledger import lifecycle
    from trellis.ledger.models import LoanStatus

    order = world.order(2_000_000, on=AS_OF - timedelta(days=20))
    loan = _order_loan(session, world, order, chain_settings)
    inv = _invoice_of(world, order)
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=lifecycle.owed_by_borrower(loan),
                    paid_on=AS_OF + timedelta(days=3), idempotency_key="order-loan-paid",
                    today=AS_OF + timedelta(days=3))
    session.refresh(loan)
    assert loan.status in (LoanStatus.REPAID, LoanStatus.COOLED_OFF)
    assert claims.trade_claims(session, firm_id=world.vendor.id, invoice_ids=[inv.id],
                               as_of=AS_OF) == []
    assert claims.trade_marks(session, firm_id=world.vendor.id, invoice_ids=[inv.id],
                              as_of=AS_OF) == {}
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF, **REVIEW)
    assert app.invoice_ids == [inv.id] and app.status == "review"


@pytest.mark.parametrize("state", ["active", "overdue", "written_off"])
def test_an_invoice_whose_order_loan_is_not_settled_is_refused_naming_the_order(
        session, world, app, state, embedded_chain, chain_settings):
    """Paid out and still owed (active, overdue, or written off: a write-off is the bank's
    accounting, the debt stands and the invoice is what repays it): refused, and the
    Chinese message names the order and the loan."""
    from flask_babel import force_locale

    from trellis.ledger import accrual, lifecycle
    from trellis.platform.i18n import error_text

    order = world.order(2_000_000, on=AS_OF - timedelta(days=20))
    loan = _order_loan(session, world, order, chain_settings)
    inv = _invoice_of(world, order)
    if state != "active":
        late = loan.due_date + timedelta(days=100)
        accrual.accrue(session=session, as_of=late)
        accrual.mark_overdue(session=session, as_of=late)
        if state == "written_off":
            lifecycle.write_off(session=session, loan_id=loan.id, as_of=late,
                                idempotency_key="order-loan-lost")
    session.refresh(loan)
    assert loan.status == state
    with pytest.raises(DocumentClaimed) as err:
        origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                          invoice_ids=[inv.id], as_of=AS_OF, **REVIEW)
    assert err.value.field == "invoice_ids"
    with app.test_request_context(), force_locale("zh_CN"):
        said = error_text(err.value)
    assert f"订单 {order.number}" in said and f"贷款 {loan.id}" in said, said
    assert f"发票 {inv.number}" in said and "同一笔交易只能融资一次" in said, said


def test_an_order_whose_invoice_the_buyer_rejected_says_so(session, world):
    """Reader 12, G30: the apply page offered orders whose invoices the anchor had rejected
    ("货物未验收"), with no hint. The order stays financeable (confirmed, not invoiced) but
    the buyer's refusal, and why, is said for the applicant and the decider."""
    order, inv = _order_and_invoice(world)
    plain = world.order(1_000_000, on=AS_OF - timedelta(days=10))
    assert claims.refused_invoice_notes(session, [order.id, plain.id]) == {}
    inv.status, inv.reject_reason = "rejected", "货物未验收"
    session.add(inv)
    session.flush()
    notes = claims.refused_invoice_notes(session, [order.id, plain.id])
    assert list(notes) == [order.id]
    text = str(notes[order.id])
    assert inv.number in text and order.number in text and "货物未验收" in text
    # still financeable: the rejected invoice does not make the order "invoiced"
    claims.refuse_if_invoiced(session, [order.id])
