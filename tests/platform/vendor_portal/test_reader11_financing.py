"""Reader 11, F33 and F31: documents that cannot be financed are not offered, and a loan
refused at pay-out reads as what it is (the vendor's and the RM's pages, in Chinese).

* F33: an invoice repaid in the cooling-off period is held by the platform's own
  registration: the apply page leaves it out, a posted form is refused naming the earlier
  loan; a loan refused at pay-out on it says the platform's own loan holds it, the loan
  list shows no amount lent, and the application says its loan was not paid out.
* F31: an order that has become an invoice (here one the buyer has paid) is not offered
  for order financing, is refused with the reason, and the RM's review page flags it and
  offers no approval.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token, login
from tests.platform.vendor_portal.test_finance import (  # noqa: F401
    TODAY,
    apply_for,
    confirmed_invoice,
    demo,
)
from tests.platform.vendor_portal.test_vouchers_web import logout
from trellis.chain.errors import DoubleFinancing
from trellis.demo.seed import PASSWORD
from trellis.ledger import lifecycle
from trellis.ledger.models import Application, Loan, LoanDocument, Offer, Product
from trellis.trade.models import Invoice, PurchaseOrder


def chinese(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_an_invoice_repaid_in_cooling_off_is_not_offered_and_its_refused_loan_says_why(
        client, session, settings, demo):  # noqa: F811
    vendor = demo["vendor"]
    login(client, vendor, PASSWORD)
    chinese(client)
    inv = confirmed_invoice(session, vendor.firm_id)
    response = apply_for(client, [inv.id])
    assert response.status_code == 303, text_of(response.get_data(as_text=True))[:1500]
    accept = client.post(response.location + "/accept", data={
        "csrf_token": csrf_token(client, response.location), "read": "y"})
    assert accept.status_code == 303
    first = session.exec(select(Loan).where(Loan.firm_id == vendor.firm_id)).one()
    lifecycle.disburse(session=session, settings=settings, loan_id=first.id, as_of=TODAY)
    lifecycle.repay(session=session, loan_id=first.id, amount_fen=first.amount_fen,
                    paid_on=TODAY, idempotency_key="reader11-cool", today=TODAY)
    session.refresh(first)
    assert first.status == "cooled_off"
    session.commit()
    # not offered again, and a form posted from an older page is refused with the reason
    page = client.get(f"/vendor/apply?q={inv.number}").get_data(as_text=True)
    assert f'id="doc-{inv.id}"' not in page
    again = apply_for(client, [inv.id])
    assert again.status_code == 422
    said = text_of(again.get_data(as_text=True))
    assert f"贷款 {first.id}" in said and "不能再次融资" in said and "其他金融机构" not in said

    # a loan signed before the rule (as in the reader's walk), refused at pay-out
    app = Application(firm_id=vendor.firm_id, product_id=first.product_id,
                      requested_fen=500_000, eligible_fen=500_000, invoice_ids=[inv.id],
                      order_ids=[], fragment_ids=[], status="accepted", as_of=TODAY)
    session.add(app)
    session.flush()
    second = Loan(firm_id=vendor.firm_id, product_id=first.product_id, application_id=app.id,
                  amount_fen=500_000, rate_micro=first.rate_micro, tenor_days=30,
                  due_date=TODAY + timedelta(days=40), status="pending")
    session.add(second)
    session.flush()
    session.add(LoanDocument(loan_id=second.id, invoice_id=inv.id))
    session.commit()
    with pytest.raises(DoubleFinancing):
        lifecycle.disburse(session=session, settings=settings, loan_id=second.id, as_of=TODAY)
    session.rollback()
    lifecycle.cancel(session=session, loan_id=second.id,
                     reason=lifecycle.not_paid_out(session, second.id, DoubleFinancing("x")))
    session.commit()
    loan_page = text_of(client.get(f"/vendor/loans/{second.id}").get_data(as_text=True))
    assert f"贷款 {first.id}" in loan_page and "并非其他金融机构" in loan_page, loan_page[-2000:]
    assert "或另一笔贷款" not in loan_page
    listing = client.get("/vendor/loans").get_data(as_text=True)
    row = re.search(rf'<tr><td[^>]*><a href="/vendor/loans/{second.id}">.*?</tr>', listing,
                    re.S).group(0)
    assert "¥5,000.00" not in row.split("</td>")[1], row      # nothing lent
    assert "从未发放" in text_of(row) and "未放款" in text_of(row)
    own = text_of(client.get(f"/vendor/applications/{app.id}").get_data(as_text=True))
    assert "贷款未放款" in own and f"贷款 {second.id} 在放款前已取消" in own, own[:2000]
    listed = text_of(client.get("/vendor/applications").get_data(as_text=True))
    assert "贷款未放款" in listed


def _invoiced_order(session, firm_id):
    """A confirmed order of the firm that became an invoice the buyer has paid in full."""
    inv = session.exec(select(Invoice).where(
        Invoice.seller_id == firm_id, Invoice.order_id.is_not(None),
        Invoice.status == "confirmed").order_by(Invoice.id)).first()
    order = session.get(PurchaseOrder, inv.order_id)
    order.status = "confirmed"
    inv.paid_fen = inv.amount_fen
    session.commit()
    return order, inv


def test_an_order_that_became_a_paid_invoice_is_not_offered_and_the_rm_is_told(
        client, session, demo):  # noqa: F811
    vendor = demo["vendor"]
    order, inv = _invoiced_order(session, vendor.firm_id)
    login(client, vendor, PASSWORD)
    chinese(client)
    page = client.get(f"/vendor/apply?product=OF-STD&q={order.number}").get_data(as_text=True)
    assert f'id="doc-{order.id}"' not in page
    refused = client.post("/vendor/apply", data={
        "csrf_token": csrf_token(client, "/vendor/apply?product=OF-STD"), "product": "OF-STD",
        "doc_ids": [str(order.id)], "amount": "10000"})
    assert refused.status_code == 422
    said = text_of(refused.get_data(as_text=True))
    assert f"订单 {order.number}已开具发票（发票 {inv.number}）" in said, said[:3000]
    assert "买方已付清" in said
    assert session.exec(select(Application).where(
        Application.firm_id == vendor.firm_id)).all() == []
    # an application filed before the rule: the RM reads why and cannot approve it
    of = session.exec(select(Product).where(Product.code == "OF-STD")).one()
    app = Application(firm_id=vendor.firm_id, product_id=of.id, requested_fen=1_000_000,
                      eligible_fen=1_000_000, invoice_ids=[], order_ids=[order.id],
                      fragment_ids=[], status="review", as_of=TODAY, grade="B")
    session.add(app)
    session.commit()
    logout(client)
    login(client, demo["rm"], PASSWORD)
    chinese(client)
    rm_page = client.get(f"/ledger/applications/{app.id}").get_data(as_text=True)
    flag = text_of(rm_page.split('id="unfinanceable"')[1].split("</div>")[0])
    assert inv.number in flag and "买方已付清" in flag, flag
    assert 'value="approve"' not in rm_page and 'value="decline"' in rm_page
    assert 'id="proposed-terms"' not in rm_page
    assert session.exec(select(Offer).where(Offer.application_id == app.id)).all() == []
