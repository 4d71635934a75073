"""Actions in the chat: proposed, done only after the user confirms (through the pages'
services and permission), never for a user who does not confirm, nor for another firm."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.assistant.test_assistant import ask, take_loan
from tests.platform.conftest import csrf_token, login
from trellis import clock
from trellis.accounts import services as accounts
from trellis.accounts.models import AuditEvent
from trellis.assistant import actions
from trellis.assistant.grounding import ungrounded
from trellis.assistant.models import Action
from trellis.demo.seed import PASSWORD
from trellis.errors import Conflict, NotFound, PermissionDenied
from trellis.ledger.models import Application, Loan, Repayment


def test_withdraw_consent_only_after_the_confirm_button(client, session, demo):
    vendor = demo["vendor"]
    login(client, vendor, PASSWORD)
    sent = client.post("/assistant/", data={"csrf_token": csrf_token(client, "/assistant/"),
                                            "text": "我想撤回数据授权"})
    assert sent.status_code == 303
    action = session.exec(select(Action)).one()
    assert action.kind == "withdraw_consent" and action.status == "proposed"
    # proposed, not done: the consent stands until the user confirms
    assert accounts.has_consent(session=session, firm_id=vendor.firm_id, purpose="trade_data")
    page = client.get(sent.location).get_data(as_text=True)
    assert f"/assistant/actions/{action.id}/confirm" in page and "data-confirm" in page
    # a post without the CSRF token does nothing
    assert client.post(f"/assistant/actions/{action.id}/confirm").status_code == 400
    assert accounts.has_consent(session=session, firm_id=vendor.firm_id, purpose="trade_data")
    done = client.post(f"/assistant/actions/{action.id}/confirm",
                       data={"csrf_token": csrf_token(client, sent.location)})
    assert done.status_code == 303
    session.refresh(action)
    assert action.status == "done" and action.decided_by_id == vendor.id
    assert not accounts.has_consent(session=session, firm_id=vendor.firm_id,
                                    purpose="trade_data")
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "consent.withdraw")).one()
    # a second click acts once
    again = client.post(f"/assistant/actions/{action.id}/confirm",
                        data={"csrf_token": csrf_token(client, sent.location)})
    assert again.status_code == 303
    assert len(session.exec(select(AuditEvent).where(
        AuditEvent.action == "consent.withdraw")).all()) == 1
    thread = client.get(f"/assistant/?c={action.conversation_id}").get_data(as_text=True)
    assert "已撤回" in thread and 'data-action-state="done"' in thread


def test_repay_proposed_then_confirmed_through_the_api(client, session, settings, demo):
    vendor = demo["vendor"]
    loan = take_loan(client, session, settings, vendor)
    _, secret = accounts.issue_api_token(session=session, firm_id=vendor.firm_id, name="app")
    auth = {"Authorization": f"Bearer {secret}"}
    r = client.post("/api/v1/assistant/messages", json={"text": "我要还款"}, headers=auth)
    reply = r.json["reply"]
    assert reply["intent"] == "repay" and reply["action"]["state"] == "proposed"
    action = session.get(Action, reply["action"]["id"])
    assert action.params["loan_id"] == loan.id
    msg_facts = {"loan": str(loan.id)}
    assert all(v in reply["text"] for v in msg_facts.values())
    # nothing recorded until confirmed
    assert session.exec(select(Repayment).where(Repayment.loan_id == loan.id)).all() == []
    ok = client.post(f"/api/v1/assistant/actions/{action.id}/confirm", headers=auth)
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.json["status"] == "done"
    rep = session.exec(select(Repayment).where(Repayment.loan_id == loan.id)).one()
    assert rep.amount_fen == action.params["amount_fen"]
    assert rep.idempotency_key == f"assistant-repay:{action.id}"
    twice = client.post(f"/api/v1/assistant/actions/{action.id}/confirm", headers=auth)
    assert twice.status_code == 409
    assert len(session.exec(select(Repayment).where(Repayment.loan_id == loan.id)).all()) == 1


def test_a_user_who_does_not_confirm_gets_nothing_done(client, session, settings, demo):
    vendor = demo["vendor"]
    loan = take_loan(client, session, settings, vendor)
    apps_before = len(session.exec(select(Application)).all())
    for text in ("我想申请融资", "我要还钱", "取消数据授权"):
        reply = ask(session, vendor, text)
        assert reply.message.action.get("state") == "proposed", (text, reply.message.text)
        assert not ungrounded(reply.message.text, reply.message.facts)
    # one open proposal per conversation at most: each new one replaces the last
    assert len(session.exec(select(Action).where(Action.status == "proposed")).all()) == 3
    proposals = session.exec(select(Action).order_by(Action.id)).all()
    cancelled = actions.cancel(session=session, firm_id=vendor.firm_id,
                               action_id=proposals[0].id, user=vendor)
    assert "取消" in cancelled.text
    with pytest.raises(Conflict):
        actions.confirm(session=session, firm_id=vendor.firm_id, action_id=proposals[0].id,
                        user=vendor)
    assert len(session.exec(select(Application)).all()) == apps_before
    assert session.exec(select(Repayment).where(Repayment.loan_id == loan.id)).all() == []
    assert accounts.has_consent(session=session, firm_id=vendor.firm_id, purpose="trade_data")
    session.refresh(loan)
    assert loan.status == "active"


def test_apply_after_confirmation_goes_through_the_ledger(session, demo):
    vendor = demo["vendor"]
    reply = ask(session, vendor, "帮我申请一笔融资")
    action = session.get(Action, reply.message.action["id"])
    assert action.kind == "apply" and action.params["invoice_ids"]
    done = actions.confirm(session=session, firm_id=vendor.firm_id, action_id=action.id,
                           user=vendor)
    app = session.exec(select(Application).where(
        Application.firm_id == vendor.firm_id)).one()
    assert app.invoice_ids == action.params["invoice_ids"] and app.applied_by_id == vendor.id
    assert str(app.id) in done.text
    assert done.links == [{"label": "申请详情", "href": f"/vendor/applications/{app.id}"}]


def test_another_firm_or_an_anchor_cannot_confirm(client, session, demo):
    vendor, other, anchor = demo["vendor"], demo["vendor2"], demo["anchor"]
    reply = ask(session, vendor, "撤回授权")
    action_id = reply.message.action["id"]
    with pytest.raises(NotFound):
        actions.confirm(session=session, firm_id=other.firm_id, action_id=action_id, user=other)
    with pytest.raises(PermissionDenied):   # a user of another firm claiming this firm
        actions.confirm(session=session, firm_id=vendor.firm_id, action_id=action_id,
                        user=other)
    with pytest.raises(PermissionDenied):   # the page's permission: vendors only
        actions.confirm(session=session, firm_id=vendor.firm_id, action_id=action_id,
                        role="anchor")
    login(client, other, PASSWORD)
    refused = client.post(f"/assistant/actions/{action_id}/confirm",
                          data={"csrf_token": csrf_token(client, "/assistant/")})
    assert refused.status_code == 404
    _, secret = accounts.issue_api_token(session=session, firm_id=other.firm_id, name="x")
    assert client.post(f"/api/v1/assistant/actions/{action_id}/confirm",
                       headers={"Authorization": f"Bearer {secret}"}).status_code == 404
    assert session.get(Action, action_id).status == "proposed"
    assert accounts.has_consent(session=session, firm_id=vendor.firm_id, purpose="trade_data")
    # an anchor clerk is never offered an action
    anchor_reply = ask(session, anchor, "我要还款")
    assert not anchor_reply.message.action.get("id")
    assert session.exec(select(Loan).where(Loan.firm_id == anchor.firm_id)).all() == []


def test_a_new_ticket_tells_the_rm_in_app_and_outbox_in_their_language(client, session,
                                                                         demo):
    from trellis.notifications import delivery, render
    from trellis.notifications.models import NotificationEvent, OutboxMessage
    from trellis.protection.models import Notification

    vendor, rm = demo["vendor"], demo["rm"]
    rm.locale = "en"
    session.add(rm)
    session.flush()
    reply = ask(session, vendor, "我要投诉你们的服务")
    again = ask(session, vendor, "转人工", conversation_id=reply.conversation.id)
    assert again.ticket.id == reply.ticket.id
    event = session.exec(select(NotificationEvent).where(
        NotificationEvent.kind == "ticket")).one()   # once per ticket
    assert event.link == f"/assistant/tickets/{reply.ticket.id}"
    note = session.exec(select(Notification).where(Notification.user_id == rm.id)).one()
    assert "complaint" in note.message_en and "投诉" in note.message_zh
    assert session.exec(select(Notification).where(
        Notification.user_id == vendor.id, Notification.kind == "ticket")).all() == []
    out = session.exec(select(OutboxMessage).where(OutboxMessage.event_id == event.id)).one()
    assert out.address == rm.email and out.locale == "en"
    assert "handed a question to you" in render.text(event.message, out.locale)
    assert "转给您" in render.text(event.message, "zh_CN")

    sent = []

    class Sink:
        def send(self, outgoing):
            sent.append(outgoing)

    assert delivery.deliver(session=session, sender=Sink()) == (1, 0)
    assert sent[0].subject == "A customer's question was handed to you"
    login(client, rm, PASSWORD)
    inbox = client.get("/assistant/inbox").get_data(as_text=True)
    assert 'id="new-tickets"' in inbox and "handed a question to you" in inbox
    assert 'id="new-tickets"' not in client.get("/assistant/inbox").get_data(as_text=True)


def test_anchor_clerk_gets_anchor_answers_and_anchor_links(client, session, demo):
    from sqlalchemy import func

    from trellis.trade.models import Invoice

    anchor = demo["anchor"]
    pending = session.exec(select(func.count(Invoice.id), func.sum(Invoice.amount_fen)).where(
        Invoice.buyer_id == anchor.firm_id, Invoice.status == "pending")).one()
    owed = session.exec(select(func.sum(Invoice.amount_fen - Invoice.paid_fen)).where(
        Invoice.buyer_id == anchor.firm_id, Invoice.status == "confirmed",
        Invoice.amount_fen > Invoice.paid_fen)).one()
    from trellis.assistant.answers import yuan

    for text, intent, figure in (
            ("有哪些发票在等我确认", "anchor_pending", yuan(pending[1] or 0)),
            ("发票为什么还没确认", "anchor_pending", yuan(pending[1] or 0)),
            ("我们一共欠供应商多少钱", "anchor_owed", yuan(owed or 0)),
            ("what do we owe and when is it due", "anchor_owed", yuan(owed or 0))):
        reply = ask(session, anchor, text)
        assert reply.intent == intent, (text, reply.intent)
        msg = reply.message
        assert figure in msg.text and not ungrounded(msg.text, msg.facts), msg.text
        assert msg.links and all(link["href"].startswith("/anchor/") for link in msg.links)
    # reader 10, R15: "this month" was answered with every open invoice; the sum is split
    # into overdue, due this month and later, and the parts add up
    from datetime import timedelta

    today = clock.today()
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    due_now = session.exec(select(func.sum(Invoice.amount_fen - Invoice.paid_fen)).where(
        Invoice.buyer_id == anchor.firm_id, Invoice.status == "confirmed",
        Invoice.amount_fen > Invoice.paid_fen, Invoice.due_date >= today,
        Invoice.due_date <= month_end)).one()
    msg = ask(session, anchor, "本月还有多少应付账款要付？").message
    assert f"本月内（{today.isoformat()} 至 {month_end.isoformat()}）到期" in msg.text
    assert msg.facts["month"] == yuan(due_now or 0) and "已逾期" in msg.text
    for text in ("我能借多少", "利率是多少", "你好", "我的评级是什么意思"):
        msg = ask(session, anchor, text).message
        assert all(link["href"].startswith("/anchor/") for link in msg.links), (text, msg.links)
        assert not msg.action.get("id")
    login(client, anchor, PASSWORD)
    for link in ("/anchor/queue", "/anchor/payables", "/anchor/"):
        assert client.get(link).status_code == 200


def test_an_anchor_asking_this_months_payables_or_a_suppliers_loans(session, demo):
    """Reader 12, G5: "本月我们要付多少？" and "我们本月应付多少" went to an RM while
    "应付账款合计多少" was answered; "某供应商的贷款逾期多少？" got the product's fees.
    The first are the month's figure; the last is told, in words, that a supplier's
    loans are the bank's confidential information, with no figure."""
    from datetime import timedelta

    from sqlalchemy import func

    from trellis.assistant.answers import yuan
    from trellis.trade.models import Firm, Invoice

    anchor = demo["anchor"]
    today = clock.today()
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    due_now = session.exec(select(func.sum(Invoice.amount_fen - Invoice.paid_fen)).where(
        Invoice.buyer_id == anchor.firm_id, Invoice.status == "confirmed",
        Invoice.amount_fen > Invoice.paid_fen, Invoice.due_date >= today,
        Invoice.due_date <= month_end)).one()
    for text in ("本月我们要付多少？", "我们本月应付多少", "应付账款合计多少"):
        reply = ask(session, anchor, text)
        assert reply.intent == "anchor_owed" and not reply.handover, (text, reply.intent)
        msg = reply.message
        assert f"本月内（{today.isoformat()} 至 {month_end.isoformat()}）到期" in msg.text
        assert msg.facts["month"] == yuan(due_now or 0), msg.text
        assert not ungrounded(msg.text, msg.facts), msg.text
    supplier = session.exec(select(Firm).where(Firm.role == "vendor")).first()
    for text in ("某供应商的贷款逾期多少？", f"{supplier.name}的贷款逾期多少？",
                 "这家供应商在银行借了多少钱"):
        reply = ask(session, anchor, text)
        assert reply.intent == "supplier_private" and not reply.handover, (text, reply.intent)
        msg = reply.message
        assert "银行的客户保密信息" in msg.text and "贷款" in msg.text, msg.text
        assert "手续费" not in msg.text and not re.search(r"\d", msg.text), msg.text
        assert {link["href"] for link in msg.links} == {"/anchor/early-warning",
                                                         "/anchor/payables"}
    # the anchor's own payables, even overdue ones, stay its own question
    assert ask(session, anchor, "我们对供应商的付款逾期了多少").intent != "supplier_private"
    # a vendor asking the same is not the anchor's question
    assert ask(session, demo["vendor"], "某供应商的贷款逾期多少？").intent != "supplier_private"


def test_an_expired_or_no_longer_allowed_proposal_does_nothing(session, demo):
    from datetime import timedelta

    vendor = demo["vendor"]
    old = ask(session, vendor, "我要撤回授权")
    action = session.get(Action, old.message.action["id"])
    action.created_at = action.created_at - actions.VALID_FOR - timedelta(minutes=1)
    session.add(action)
    session.flush()
    with pytest.raises(Conflict):
        actions.confirm(session=session, firm_id=vendor.firm_id, action_id=action.id,
                        user=vendor)
    assert session.get(Action, action.id).status == "expired"
    assert accounts.has_consent(session=session, firm_id=vendor.firm_id, purpose="trade_data")

    # consent withdrawn on the page between proposal and confirmation: the application
    # is refused exactly as the page would refuse it, and nothing is filed
    proposal = ask(session, vendor, "帮我申请融资")
    accounts.withdraw_consent(session=session, firm_id=vendor.firm_id, purpose="trade_data")
    before = len(session.exec(select(Application)).all())
    said = actions.confirm(session=session, firm_id=vendor.firm_id,
                           action_id=proposal.message.action["id"], user=vendor)
    assert "未完成" in said.text and "授权" in said.text
    assert session.get(Action, proposal.message.action["id"]).status == "failed"
    assert len(session.exec(select(Application)).all()) == before
