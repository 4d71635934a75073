"""Outside reader, round 8 (zh8b): what the vendor's voucher, invoice, order, offer and
loan pages say, in Chinese (the default), on the demo cluster.

R3: the voucher page's finance button filed an application at once (no amount, no
quote); R5: a part already asked for still offered to finance it; R12: the invoice page
never said it had become a voucher with another due date, and an empty maturity silently
became the longest tenor; R13: an order whose invoice had become a voucher got an offer;
R14: the tick-box confirmed a cooling-off right the offer did not show; R15: "金额过大。"
without the limit; R20: 放款中 in the due-date column and ¥0.00 owed; R24: a part passed
on told nobody.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from tests.platform.conftest import csrf_token, login
from tests.platform.vendor_portal.test_finance import (  # noqa: F401
    TODAY,
    apply_for,
    confirmed_invoice,
    demo,
)
from trellis.demo.seed import PASSWORD
from trellis.ledger.models import Application, Loan, Offer
from trellis.messages import render
from trellis.protection.models import Notification
from trellis.trade.models import Invoice, PurchaseOrder
from trellis.vouchers import services as vs
from trellis.vouchers.models import Voucher, VoucherFragment


def logout(client):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def _issue_empty_maturity(client, session, demo, inv):  # noqa: F811
    login(client, demo["anchor"], PASSWORD)
    response = client.post("/anchor/vouchers", data={
        "csrf_token": csrf_token(client, "/anchor/vouchers"), "invoice_id": str(inv.id),
        "maturity_date": ""})
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    logout(client)
    return session.exec(select(Voucher).where(Voucher.invoice_id == inv.id)).one()


def test_a_voucher_part_is_financed_through_an_amount_form_and_then_links_its_application(
        client, session, demo):  # noqa: F811
    vendor, vendor2 = demo["vendor"], demo["vendor2"]
    inv = confirmed_invoice(session, vendor.firm_id, buyer_id=demo["anchor"].firm_id)
    anchor_form = None
    login(client, demo["anchor"], PASSWORD)
    anchor_form = client.get("/anchor/vouchers").get_data(as_text=True)
    assert "留空则为发票自身的到期日" in anchor_form            # R12: the default is said
    logout(client)
    voucher = _issue_empty_maturity(client, session, demo, inv)
    assert voucher.maturity_date == inv.due_date                # not the longest tenor
    (root,) = vs.fragments(session=session, voucher_id=voucher.id)

    login(client, vendor, PASSWORD)
    # R12: the invoice's page says what it became, with the voucher's due date and a link
    page = client.get(f"/vendor/trade/invoice/{inv.id}").get_data(as_text=True)
    assert f"已转为数字债权凭证 {voucher.code}，到期日" in page
    assert f'href="/vendor/vouchers/{voucher.id}"' in page
    # R24: passing a part tells both firms
    give = root.amount_fen // 2
    response = client.post(f"/vendor/vouchers/parts/{root.id}/pass", data={
        "csrf_token": csrf_token(client, f"/vendor/vouchers/{voucher.id}"),
        f"p{root.id}-to_firm_id": str(vendor2.firm_id), f"p{root.id}-amount": f"{give / 100:.2f}"})
    assert response.status_code == 303
    told = {n.firm_id: n.message_zh for n in session.exec(select(Notification).where(
        Notification.kind == "voucher"))}
    assert "向贵司转让了数字债权凭证" in told[vendor2.firm_id]
    assert f"¥{give / 100:,.2f}" in told[vendor2.firm_id]
    assert "贵司已将数字债权凭证" in told[vendor.firm_id]
    logout(client)

    login(client, vendor2, PASSWORD)
    assert "向贵司转让了数字债权凭证" in client.get("/vendor/messages").get_data(as_text=True)
    part = session.exec(select(VoucherFragment).where(
        VoucherFragment.holder_id == vendor2.firm_id,
        VoucherFragment.voucher_id == voucher.id)).one()
    # R3: the voucher page's button leads to a form; nothing is filed by a GET or a click
    page = client.get(f"/vendor/vouchers/{voucher.id}").get_data(as_text=True)
    form_url = f"/vendor/vouchers/parts/{part.id}/finance"
    assert f'href="{form_url}"' in page and "申请融资" in page and "查看融资报价" not in page
    form = client.get(form_url)
    text = form.get_data(as_text=True)
    assert form.status_code == 200 and "最多可借" in text and "提交申请" in text
    maximum = part.amount_fen * 8 // 10
    assert f'value="{maximum / 100:.2f}"' in text            # the most, editable
    assert session.exec(select(Application).where(
        Application.firm_id == vendor2.firm_id)).first() is None
    # R15: an absurd amount says the limit
    huge = client.post(form_url, data={"csrf_token": csrf_token(client, form_url),
                                       "amount": "99999999999"})
    assert huge.status_code == 422
    assert f"最多可借 ¥{maximum / 100:,.2f}" in huge.get_data(as_text=True)
    # the amount chosen is the amount asked for
    filed = client.post(form_url, data={"csrf_token": csrf_token(client, form_url),
                                        "amount": "1,000.00"})
    assert filed.status_code == 303
    app = session.exec(select(Application).where(Application.firm_id == vendor2.firm_id)).one()
    assert app.requested_fen == 100_000
    # R5: the part now links its application instead of offering to finance it again
    page = client.get(f"/vendor/vouchers/{voucher.id}").get_data(as_text=True)
    assert f"查看申请 {app.id}" in page and f'href="{form_url}"' not in page
    again = client.get(form_url)
    assert again.status_code == 303 and again.location.endswith(f"/applications/{app.id}")


def test_an_order_whose_invoice_became_a_voucher_is_marked_and_refused(
        client, session, demo):  # noqa: F811
    vendor, anchor = demo["vendor"], demo["anchor"]
    order = PurchaseOrder(seller_id=vendor.firm_id, buyer_id=anchor.firm_id, number="PO-R13",
                          amount_fen=20_000_000, order_date=TODAY - timedelta(days=20),
                          status="confirmed")
    session.add(order)
    session.flush()
    inv = Invoice(seller_id=vendor.firm_id, buyer_id=anchor.firm_id, number="INV-R13",
                  amount_fen=20_000_000, issue_date=TODAY - timedelta(days=3),
                  due_date=TODAY + timedelta(days=60), status="confirmed", order_id=order.id)
    session.add(inv)
    session.flush()
    vs.issue(session=session, anchor_id=anchor.firm_id, invoice_id=inv.id,
             maturity_date=None, issued_on=TODAY)
    login(client, vendor, PASSWORD)
    page = client.get("/vendor/apply?product=OF-STD&q=PO-R13").get_data(as_text=True)
    # reader 11, F31: an order that has become an invoice is not offered at all (it was
    # listed with its box disabled, reader Q9); the trade pages still say why
    assert f'id="doc-{order.id}"' not in page
    listed = client.get("/vendor/trade?kind=order&q=PO-R13").get_data(as_text=True)
    assert "对应发票已转为凭证" in listed
    detail = client.get(f"/vendor/trade/order/{order.id}").get_data(as_text=True)
    assert "INV-R13" in detail and "对应发票已转为凭证" in detail
    refused = client.post("/vendor/apply", data={
        "csrf_token": csrf_token(client, "/vendor/apply"), "product": "OF-STD",
        "doc_ids": [str(order.id)], "amount": ""})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "订单 PO-R13 对应的发票 INV-R13 已转为数字债权凭证" in text
    assert session.exec(select(Application).where(
        Application.firm_id == vendor.firm_id)).first() is None


def test_an_offer_without_cooling_off_and_a_loan_awaiting_payout_read_right(
        client, session, demo):  # noqa: F811
    vendor = demo["vendor"]
    login(client, vendor, PASSWORD)
    inv = confirmed_invoice(session, vendor.firm_id)
    response = apply_for(client, [inv.id], amount="99999999999")   # R15 on the apply page
    assert response.status_code == 422
    assert "凭这些单据最多可借 ¥" in response.get_data(as_text=True)
    response = apply_for(client, [inv.id])
    assert response.status_code == 303
    offer = session.exec(select(Offer).order_by(Offer.id.desc())).first()
    offer.cooling_off_days = 0          # as on a firm's second loan
    session.add(offer)
    session.flush()
    page = client.get(response.location).get_data(as_text=True)
    assert "本笔贷款不适用冷静期" in page
    assert "以及冷静期权利" not in page                          # R14: nothing unshown ticked
    accepted = client.post(response.location + "/accept", data={
        "csrf_token": csrf_token(client, response.location), "read": "y"})
    assert accepted.status_code == 303
    loan = session.exec(select(Loan).where(Loan.firm_id == vendor.firm_id,
                                           Loan.status == "pending")).one()
    loans = client.get("/vendor/loans").get_data(as_text=True)
    row = loans.split(f'href="/vendor/loans/{loan.id}"')[1].split("</tr>")[0]
    assert f"待放款 ¥{loan.amount_fen / 100:,.2f}" in row and "放款中" not in row   # R20
    assert loan.due_date is None or loan.due_date.isoformat() in row


def test_two_decline_reasons_read_as_sentences_not_joined_with_a_list_mark():
    """R21: "…平均月销售额。、请补充…" — sentences join with ； and end with one 。."""
    stored = {"t": "Your application %(id)s for %(amount)s was declined: %(why)s",
              "p": {"id": 3, "amount": 1, "why": [
                  {"en": "Above sales.", "zh": "申请金额超过贵司近三个月对该买方的平均月销售额。"},
                  "请补充最近的发货单后再申请"]}}
    text = render(stored, locale="zh_CN")
    assert "。、" not in text and "平均月销售额；请补充最近的发货单后再申请。" in text
    assert render({"t": "%(x)s", "p": {"x": ["发票 A", "发票 B"]}}, locale="zh_CN") == \
        "发票 A、发票 B"
