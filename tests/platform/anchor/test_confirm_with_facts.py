"""Reader 10, R5/R21/R27: the confirmation queue and a document's page tell the clerk what
the platform holds (overdue, the order and its deliveries, what was paid), a confirmation
(确权, on chain for good) takes a tick the server checks, and the payables list says which
window its total covers and where an invoice it does not list went."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token
from tests.vouchers.factories import invoice, order
from trellis import clock
from trellis.accounts.models import AuditEvent
from trellis.trade.models import Delivery, DocStatus, Payment, PaymentAllocation

TODAY = clock.today()


def english(client):
    with client.session_transaction() as s:
        s["locale"] = "en"


def text(client, url) -> str:
    """The page as read, its English amounts written ¥ as the Chinese ones (not CN¥)."""
    return client.get(url).get_data(as_text=True).replace("CN¥", "¥")


@pytest.fixture
def anchor_user(client, logged_in, chain):
    return logged_in("anchor", firm=chain.anchor)


def _pay(session, inv, amount_fen, paid_on, reference="FK-1"):
    payment = Payment(payer_id=inv.buyer_id, payee_id=inv.seller_id, reference=reference,
                      amount_fen=amount_fen, paid_on=paid_on)
    session.add(payment)
    session.flush()
    session.add(PaymentAllocation(payment_id=payment.id, invoice_id=inv.id,
                                  amount_fen=amount_fen))
    inv.paid_fen += amount_fen
    session.add(inv)
    session.flush()


def test_the_queue_marks_overdue_and_paid_invoices(client, session, chain, anchor_user):
    english(client)
    old = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                  issue_date=TODAY - timedelta(days=400), terms_days=60)   # 340 days late
    fresh = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    paid = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                   issue_date=TODAY - timedelta(days=300))
    _pay(session, paid, paid.amount_fen, TODAY - timedelta(days=200))
    page = text(client, "/anchor/queue")
    row = {inv.number: page.split(inv.number, 2)[2].split("</tr>")[0]
           for inv in (old, fresh, paid)}
    assert "Overdue by 340 days" in row[old.number]
    assert "Overdue" not in row[fresh.number] and "Paid in full" not in row[fresh.number]
    assert "Already paid" in row[paid.number] and "Overdue" not in row[paid.number]
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    page = text(client, "/anchor/queue")
    assert "已逾期 340 天" in page
    # the paid invoice is said paid once (under "check first"), not twice with one word
    assert page.split(paid.number, 2)[2].split("</tr>")[0].count("已付清") == 1


def test_the_invoice_page_shows_its_order_deliveries_and_payments(client, session, chain,
                                                                  anchor_user):
    english(client)
    po = order(session, chain.tier1, chain.anchor, amount_fen=1_000_000,
               status=DocStatus.CONFIRMED, number="PO-EVIDENCE-1")
    session.add(Delivery(order_id=po.id, delivered_on=TODAY - timedelta(days=15),
                         amount_fen=600_000))
    session.add(Delivery(order_id=po.id, delivered_on=TODAY - timedelta(days=12),
                         amount_fen=400_000))
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                  issue_date=TODAY - timedelta(days=100), terms_days=60)
    inv.order_id = po.id
    _pay(session, inv, 250_000, TODAY - timedelta(days=5), reference="FK-PART")
    page = text(client, f"/anchor/queue/invoice/{inv.id}")
    assert "PO-EVIDENCE-1" in page
    assert "¥6,000.00" in page and "¥4,000.00" in page          # each delivery
    assert "Delivered in total: ¥10,000.00" in page
    assert "¥2,500.00 paid, ¥7,500.00 unpaid." in page and "FK-PART" in page
    assert "Overdue by 40 days" in page
    # the order's own page lists its deliveries too
    assert "¥6,000.00" in text(client, f"/anchor/queue/order/{po.id}")


def test_an_invoice_without_order_or_payment_says_so(client, session, chain, anchor_user):
    english(client)
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    page = text(client, f"/anchor/queue/invoice/{inv.id}")
    assert "This invoice names no purchase order." in page
    assert "Unpaid: ¥10,000.00; no payment recorded." in page
    assert "Overdue by" not in page


def test_a_paid_invoice_page_says_it_is_paid(client, session, chain, anchor_user):
    english(client)
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                  issue_date=date(2025, 7, 1))
    _pay(session, inv, inv.amount_fen, date(2025, 9, 10), reference="FK20250910000012")
    page = text(client, f"/anchor/queue/invoice/{inv.id}")
    assert "Paid in full" in page and "2025-09-10" in page and "FK20250910000012" in page
    assert "Overdue by" not in page   # nothing is owed: not overdue


@pytest.mark.parametrize("bulk", [False, True])
def test_confirming_needs_the_tick_on_the_server(client, session, chain, anchor_user, bulk):
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    url = "/anchor/queue?kind=invoice" if bulk else f"/anchor/queue/invoice/{inv.id}"
    data = {"csrf_token": csrf_token(client, url), "decision": "confirm", "ids": [inv.id]}
    refused = client.post(url, data=data)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "请勾选“我已核对订单与收货”" in body and "未确权任何单据" in body
    assert 'id="checked-error"' in body
    session.refresh(inv)
    assert inv.status == DocStatus.PENDING and inv.confirmed_at is None
    assert not session.exec(select(AuditEvent).where(
        AuditEvent.action == "invoice.confirm")).all()
    done = client.post(url, data={**data, "checked": "y", "ack": [inv.id]})
    assert done.status_code == 303
    session.refresh(inv)
    assert inv.status == DocStatus.CONFIRMED


def test_rejecting_needs_no_tick(client, session, chain, anchor_user):
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    url = f"/anchor/queue/invoice/{inv.id}"
    done = client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "decision": "reject", "reason": "货物未到"})
    assert done.status_code == 303
    session.refresh(inv)
    assert inv.status == DocStatus.REJECTED


def test_a_queue_search_without_hits_says_only_that(client, session, chain, anchor_user):
    """R21: 「没有符合搜索条件的记录。暂无待处理的单据。」 while 531 invoices waited."""
    invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    page = text(client, "/anchor/queue?q=不存在xyz")
    assert "没有符合搜索条件的记录" in page and "暂无待处理的单据" not in page
    empty = text(client, "/anchor/queue?kind=order")
    assert "暂无待处理的单据" in empty


def test_a_confirmed_invoice_is_findable_among_payables_or_said_paid(client, session, chain,
                                                                     anchor_user):
    """R5: the reader confirmed an invoice paid in 2025 and searched 应付账款 · 全部 for
    it: 「此期间没有未付的已确权发票」. An unpaid one is found under 全部 however old;
    a paid one is said to be paid, with the day."""
    english(client)
    old = invoice(session, chain.tier1, chain.anchor, status=DocStatus.CONFIRMED,
                  issue_date=TODAY - timedelta(days=500), number="25332000170000000099")
    page = text(client, f"/anchor/payables?days=all&q={old.number}")
    assert 'data-list-count="1"' in page and old.number in page
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    zh = text(client, f"/anchor/payables?days=all&q={old.number}")
    # reader 12, G14: "未付合计（全部已确权发票，含已逾期） （符合搜索条件）"
    assert "未付合计（全部已确权发票，含已逾期），仅含符合搜索条件的发票" in zh
    english(client)
    paid = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                   issue_date=date(2025, 7, 1), number="25332000170000000001")
    _pay(session, paid, paid.amount_fen, date(2025, 9, 10))
    url = f"/anchor/queue/invoice/{paid.id}"
    client.post(url, data={"csrf_token": csrf_token(client, url), "decision": "confirm",
                           "checked": "y", "ack": paid.id})
    page = text(client, f"/anchor/payables?days=all&q={paid.number}")
    assert "No unpaid confirmed invoices in this period." not in page
    assert f"Invoice {paid.number} was paid in full (¥10,000.00, last payment on 2025-09-10)" \
        in page
    assert f'href="/anchor/queue/invoice/{paid.id}"' in page
    # searched under 30 days, an overdue unpaid one says it is under another tab
    page = text(client, f"/anchor/payables?days=30&q={old.number}")
    assert f"Invoice {old.number} is unpaid and due on" in page


@pytest.mark.parametrize("tab, heading, label", [
    ("30", "Payables coming due", "Total unpaid, due within 30 days (not yet due)"),
    ("7", "Payables coming due", "Total unpaid, due within 7 days (not yet due)"),
    ("overdue", "Overdue payables", "Total unpaid, overdue"),
    ("all", "All unpaid confirmed payables",
     "Total unpaid, all confirmed invoices (overdue ones included)"),
])
def test_the_payables_total_says_its_window(client, session, chain, anchor_user, tab,
                                            heading, label):
    """R27: 「未付合计」 read three different sums under one heading 「即将到期」, over
    debts overdue since 2025."""
    english(client)
    invoice(session, chain.tier1, chain.anchor, issue_date=TODAY - timedelta(days=500))
    page = text(client, f"/anchor/payables?days={tab}")
    assert f"<h1>{heading}</h1>" in page
    assert f"{label}: <strong>" in page


def _backed(session, chain, **kw):
    """An invoice with its order and a delivery behind it, unpaid: nothing to check first."""
    po = order(session, chain.tier1, chain.anchor, amount_fen=1_000_000,
               status=DocStatus.CONFIRMED)
    session.add(Delivery(order_id=po.id, delivered_on=TODAY - timedelta(days=3),
                         amount_fen=1_000_000))
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING, **kw)
    inv.order_id = po.id
    session.add(inv)
    session.flush()
    return inv, po


@pytest.mark.parametrize("bulk", [False, True])
def test_an_invoice_to_check_first_needs_its_own_tick(client, session, chain, anchor_user,
                                                      bulk):
    """Reader 11, F9: one tick for the batch confirmed, in bulk, an invoice with neither
    order nor delivery behind it, and the single page confirmed one paid a year before.
    Each such invoice is marked in the list and confirmed only with its own tick; the
    whole request is refused (nothing confirmed) while one lacks it."""
    backed, _po = _backed(session, chain)
    bare = invoice(session, chain.tier1, chain.anchor, 900_000, status=DocStatus.PENDING)
    undelivered, po = _backed(session, chain, amount_fen=800_000)
    session.exec(select(Delivery).where(Delivery.order_id == po.id)).one()
    for d in session.exec(select(Delivery).where(Delivery.order_id == po.id)).all():
        session.delete(d)
    paid, _ = _backed(session, chain, issue_date=date(2025, 7, 1))
    _pay(session, paid, paid.amount_fen, date(2025, 9, 10))
    session.flush()
    page = text(client, "/anchor/queue?kind=invoice")
    row = {inv.id: page.split(f'id="pick-{inv.id}"', 1)[1].split("</tr>")[0]
           for inv in (backed, bare, undelivered, paid)}
    assert "无订单" in row[bare.id] and f'id="ack-{bare.id}"' in row[bare.id]
    assert "无收货记录" in row[undelivered.id] and "已付清" in row[paid.id]
    assert "ack-" not in row[backed.id] and "无订单" not in row[backed.id]
    for inv in (bare, undelivered, paid):
        ids = [backed.id, inv.id] if bulk else [inv.id]
        url = "/anchor/queue?kind=invoice" if bulk else f"/anchor/queue/invoice/{inv.id}"
        data = {"csrf_token": csrf_token(client, url), "decision": "confirm", "checked": "y",
                "ids": ids}
        refused = client.post(url, data=data)
        body = refused.get_data(as_text=True)
        assert refused.status_code == 422, body
        assert inv.number in body and "本次未确权任何单据" in body
        for each in (backed, inv):
            session.refresh(each)
            assert each.status == DocStatus.PENDING or (not bulk and each is backed)
        assert client.post(url, data={**data, "ack": [inv.id]}).status_code == 303
        session.refresh(inv)
        assert inv.status == DocStatus.CONFIRMED
        if bulk:
            session.refresh(backed)
            assert backed.status == DocStatus.CONFIRMED
            backed, _po = _backed(session, chain, amount_fen=backed.amount_fen + 1)
    # an invoice with its order and delivery needs only the page's tick
    url = f"/anchor/queue/invoice/{backed.id}"
    assert client.post(url, data={"csrf_token": csrf_token(client, url), "decision": "confirm",
                                  "checked": "y"}).status_code == 303


def test_the_seller_is_told_of_each_decision(client, session, chain, anchor_user):
    """Reader 11, F32: a rejected invoice, and why, was seen only by looking through the
    vendor's list; the seller now gets a message for a confirmation and a rejection."""
    from trellis.notifications import render
    from trellis.notifications.models import NotificationEvent

    kept, _po = _backed(session, chain)
    refused = invoice(session, chain.tier1, chain.anchor, 900_000, status=DocStatus.PENDING)
    url = f"/anchor/queue/invoice/{kept.id}"
    assert client.post(url, data={"csrf_token": csrf_token(client, url), "decision": "confirm",
                                  "checked": "y"}).status_code == 303
    url = f"/anchor/queue/invoice/{refused.id}"
    assert client.post(url, data={"csrf_token": csrf_token(client, url), "decision": "reject",
                                  "reason": "货物尚未验收"}).status_code == 303
    from trellis.notifications import events

    events.collect(session=session)
    told = [render.text(e.message, "zh_CN") for e in session.exec(select(NotificationEvent)
            .where(NotificationEvent.firm_id == chain.tier1.id,
                   NotificationEvent.kind == "trade")).all()]
    assert any(f"已确权发票 {kept.number}" in t and "¥10,000.00" in t for t in told), told
    assert any(f"拒绝确权发票 {refused.number}" in t and "理由：货物尚未验收" in t
               for t in told), told


def test_identical_invoices_are_marked_and_each_needs_its_own_tick(client, session, chain,
                                                                   anchor_user):
    """Reader 12, G1: two invoices of one seller to the anchor, same amount and day under
    different numbers (the bank's duplicate screen flags them), were confirmed together
    with the batch's tick and both became collateral. The queue marks each as a possible
    duplicate naming the other; confirming takes each row's own tick. A twin the anchor
    rejected, or one on another day, is no caution."""
    day = TODAY - timedelta(days=2)
    # no order behind it either: the duplicate is still the caution said first
    first = invoice(session, chain.tier1, chain.anchor, 1_000_000, status=DocStatus.PENDING,
                    issue_date=day, number="R12-0001")
    second, _ = _backed(session, chain, issue_date=day, number="R12-0009")
    rejected, _ = _backed(session, chain, issue_date=day, number="R12-0014")
    rejected.status, rejected.reject_reason = DocStatus.REJECTED, "与 R12-0001 重复"
    other_day, _ = _backed(session, chain, issue_date=day - timedelta(days=1), number="R12-0020")
    session.add(rejected)
    session.flush()
    page = text(client, "/anchor/queue?kind=invoice")
    row = {inv.id: page.split(f'id="pick-{inv.id}"', 1)[1].split("</tr>")[0]
           for inv in (first, second, other_day)}
    assert "疑似重复" in row[first.id] and "R12-0009" in row[first.id]
    assert "R12-0014" not in row[first.id]   # rejected: not a twin
    assert "疑似重复" in row[second.id] and "R12-0001" in row[second.id]
    assert "疑似重复" not in row[other_day.id] and "ack-" not in row[other_day.id]
    url = "/anchor/queue?kind=invoice"
    data = {"csrf_token": csrf_token(client, url), "decision": "confirm", "checked": "y",
            "ids": [first.id, second.id]}
    refused = client.post(url, data=data)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422, body
    assert "疑似重复" in body and "R12-0001" in body and "R12-0009" in body
    assert "本次未确权任何单据（共 2 张单据需单独勾选）" in body
    # with another caution too (no order), the duplicate is the one said (reader 12b, H8)
    assert "未关联贵司的采购订单" not in body
    for inv in (first, second):
        session.refresh(inv)
        assert inv.status == DocStatus.PENDING
    # the invoice's own page says it too
    own = text(client, f"/anchor/queue/invoice/{first.id}")
    assert "另一张金额相同的发票（R12-0009）" in own
    assert client.post(url, data={**data, "ack": [first.id, second.id]}).status_code == 303
    for inv in (first, second):
        session.refresh(inv)
        assert inv.status == DocStatus.CONFIRMED
