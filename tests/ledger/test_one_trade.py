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


def test_an_invoice_whose_order_is_financed_is_refused_and_cannot_become_a_voucher(
        session, world):
    order, inv = _order_and_invoice(world)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                            order_ids=[order.id], as_of=AS_OF)
    assert app.status == "approved", app.review_reasons
    offer = session.scalars(select(Offer).where(Offer.application_id == app.id)).one()
    loan = origination.accept_offer(session=session, offer_id=offer.id, as_of=AS_OF)
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
