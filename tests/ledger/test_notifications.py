"""Notifications: a decision, an offer, a pay-out and due-date reminders reach the vendor's
messages once, in Chinese with amounts in yuan, and leave through the outbox: a file sink
in development, a real SMTP server (aiosmtpd) otherwise; a dead server loses nothing."""

from __future__ import annotations

import socket
from datetime import date, timedelta

import pytest
from sqlmodel import select

from trellis.ledger import origination
from trellis.notifications import delivery, events
from trellis.notifications.models import NotificationEvent, OutboxMessage
from trellis.notifications.senders import DeliveryFailed, FileSink, SmtpSender
from trellis.protection.models import Notification

from .conftest import AS_OF


@pytest.fixture
def vendor_user(make_user, world):
    return make_user("vendor", firm=world.vendor, phone="13800000000")


def _apply(session, world):
    inv = world.invoice(10_000_000)
    return origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                             invoice_ids=[inv.id], as_of=AS_OF)


def test_decision_offer_payout_and_reminders_are_told_once(session, world, vendor_user,
                                                           make_loan):
    # the loan first: paid out after the offer, it would void an offer priced as the
    # firm's first loan (reader 13, J2), and a void offer is not told "sign it by ..."
    loan = make_loan(firm=world.vendor, amount_fen=123_456_78, disburse=date(2026, 1, 1),
                     due_date=date(2026, 1, 18))
    app = _apply(session, world)
    assert app.status == "approved", app.review_reasons
    assert events.collect(session=session, as_of=AS_OF) >= 4
    assert events.collect(session=session, as_of=AS_OF) == 0      # twice: nothing new
    keys = set(session.scalars(select(NotificationEvent.key).where(
        NotificationEvent.firm_id == world.vendor.id)))
    assert {f"decision:{app.id}:approved", f"payout:{loan.id}",
            f"due:{loan.id}:2026-01-18:3"} <= keys
    assert any(k.startswith("offer:") for k in keys)
    inbox = session.scalars(select(Notification).where(
        Notification.user_id == vendor_user.id)).all()
    zh = " ".join(n.message_zh for n in inbox)
    assert "¥123,456.78" in zh and "3 天" in zh and "fen" not in zh
    assert "年化利率" in zh
    # one day before, the second reminder; the first is not written again
    assert events.collect(session=session, as_of=date(2026, 1, 17)) == 1
    outbox = session.scalars(select(OutboxMessage)).all()
    assert {o.channel for o in outbox} == {"email", "sms"}
    assert all(o.state == "queued" for o in outbox)


def test_the_file_sink_shows_what_would_be_sent(session, world, vendor_user, make_loan,
                                                tmp_path):
    make_loan(firm=world.vendor, amount_fen=5_000_000, disburse=date(2026, 1, 1))
    events.collect(session=session, as_of=AS_OF)
    sink = FileSink(tmp_path / "outbox.jsonl")
    sent, failed = delivery.deliver(session=session, sender=sink)
    assert sent >= 2 and failed == 0
    lines = sink.read()
    assert {x["to"] for x in lines} == {vendor_user.email, "13800000000"}
    assert any("¥50,000.00" in x["body"] and x["subject"] == "您的贷款已放款" for x in lines)
    assert delivery.deliver(session=session, sender=sink) == (0, 0)   # nothing sent twice


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_e_mail_reaches_a_real_smtp_server(session, world, vendor_user, make_loan):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received = []

    class Keep(MessageHandler):
        def handle_message(self, message):
            received.append(message)

    port = _free_port()
    server = Controller(Keep(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        make_loan(firm=world.vendor, amount_fen=5_000_000, disburse=date(2026, 1, 1))
        events.collect(session=session, as_of=AS_OF)
        smtp = SmtpSender(host="127.0.0.1", port=port, sender="bank@trellis.demo")
        from trellis.notifications.senders import Router, TextAdapter, TextSender

        class Phones(TextAdapter):
            def send_text(self, *, phone, body, reference):
                received.append({"phone": phone, "body": body})

        sent, failed = delivery.deliver(session=session,
                                        sender=Router(smtp, TextSender(Phones())))
    finally:
        server.stop()
    mails = [m for m in received if not isinstance(m, dict)]
    assert sent == len(received) and failed == 0 and mails
    body = mails[0].get_payload(decode=True).decode("utf-8")
    assert mails[0]["To"] == vendor_user.email and "¥50,000.00" in body
    assert all(o.state == "sent" for o in session.scalars(select(OutboxMessage)))


def test_a_dead_server_loses_nothing(session, world, vendor_user, make_loan):
    make_loan(firm=world.vendor, amount_fen=5_000_000, disburse=date(2026, 1, 1))
    events.collect(session=session, as_of=AS_OF)
    dead = SmtpSender(host="127.0.0.1", port=_free_port(), timeout=2)
    for _ in range(delivery.MAX_ATTEMPTS - 1):
        assert delivery.deliver(session=session, sender=dead) == (0, 0)
    mail = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")).all()
    assert all(o.state == "queued" and o.last_error for o in mail)
    with pytest.raises(DeliveryFailed):
        dead.send(delivery.Outgoing("email", "x@example.cn", "s", "b"))
    assert delivery.deliver(session=session, sender=dead)[1] >= 1   # gives up, says why
    assert all(o.state == "failed" for o in session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == "email")))


def _kinds_and_texts(session, user_id, since_id=0):
    rows = session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.id > since_id)
        .order_by(Notification.id)).all()
    return [(n.kind, n.message_zh) for n in rows]


def test_an_overdue_loan_is_told_at_each_bucket_not_daily(session, world, vendor_user,
                                                          make_loan):
    """A clerk found no overdue notice in the vendor's messages. A loan past its due date
    is told the day after (before the overdue job has marked it), then once as it enters
    each days-past-due bucket (31, 61, 91 days: a warning), never daily; in Chinese, with
    the amount owed in yuan, and through the outbox; a re-run writes nothing twice."""
    from datetime import timedelta

    from trellis.ledger import lifecycle

    loan = make_loan(firm=world.vendor, amount_fen=123_456_78, disburse=date(2026, 1, 1),
                     due_date=date(2026, 3, 31))
    assert loan.status == "active"          # the overdue job has not run yet
    events.collect(session=session, as_of=date(2026, 3, 31))   # due today: not overdue
    last = max([n.id for n in session.scalars(select(Notification))], default=0)
    told = {}
    day = date(2026, 4, 1)
    while day <= date(2026, 7, 10):
        new = events.collect(session=session, as_of=day)
        assert events.collect(session=session, as_of=day) == 0          # a re-run
        if new:
            told[(day - loan.due_date).days] = new
        day += timedelta(days=1)
    assert told == {1: 1, 31: 1, 61: 1, 91: 1}, told
    inbox = _kinds_and_texts(session, vendor_user.id, last)
    assert [k for k, _ in inbox] == ["overdue", "warning", "warning", "warning"]
    fen = lifecycle.owed_by_borrower(loan)
    owed = f"¥{fen // 100:,}.{fen % 100:02d}"
    assert all(owed in text and "fen" not in text for _, text in inbox), inbox
    assert "到期并逾期" in inbox[0][1] and "逾期 31 天" in inbox[1][1]
    assert "逾期 91 天" in inbox[3][1]
    assert "催收" in inbox[3][1]
    keys = set(session.scalars(select(NotificationEvent.key).where(
        NotificationEvent.kind.in_(["overdue", "warning"]))))
    assert {f"overdue:{loan.id}:2026-03-31", f"overdue:{loan.id}:2026-03-31:31",
            f"overdue:{loan.id}:2026-03-31:91"} <= keys
    events_ids = session.scalars(select(NotificationEvent.id).where(
        NotificationEvent.key.like(f"overdue:{loan.id}:%"))).all()
    outbox = session.scalars(select(OutboxMessage).where(
        OutboxMessage.event_id.in_(events_ids))).all()
    assert {(o.event_id, o.channel) for o in outbox} == \
        {(e, c) for e in events_ids for c in ("email", "sms")}


def test_a_loan_first_seen_late_is_told_once_at_its_bucket(session, world, vendor_user,
                                                           make_loan):
    """A loan already 45 days past due when notifications first run gets one warning (its
    bucket), not the whole series at once."""
    make_loan(firm=world.vendor, amount_fen=5_000_000, disburse=date(2026, 1, 1),
              due_date=date(2026, 3, 31))
    assert events.collect(session=session, as_of=date(2026, 5, 15)) == 1
    assert [k for k, _ in _kinds_and_texts(session, vendor_user.id)] == ["warning"]


def test_a_write_off_is_told_with_what_is_still_owed(session, world, vendor_user, make_loan):
    from trellis.ledger import accrual, lifecycle

    loan = make_loan(firm=world.vendor, amount_fen=5_000_000, disburse=date(2026, 1, 1),
                     due_date=date(2026, 3, 31))
    written_on = date(2026, 8, 8)
    accrual.accrue(session=session, as_of=written_on)
    accrual.mark_overdue(session=session, as_of=written_on)
    lifecycle.write_off(session=session, loan_id=loan.id, as_of=written_on,
                        idempotency_key="wo-note")
    session.refresh(loan)
    assert events.collect(session=session, as_of=written_on) == 1
    assert events.collect(session=session, as_of=date(2026, 8, 9)) == 0
    ((kind, text),) = _kinds_and_texts(session, vendor_user.id)
    owed = lifecycle.owed_by_borrower(loan)
    assert kind == "warning" and "催收" in text and f"¥{owed // 100:,}.{owed % 100:02d}" in text


def test_a_user_who_joins_later_reads_the_firms_overdue_notice(session, world, make_user,
                                                              make_loan):
    """Issue 15 F1: the notify job ran (every minute) before the firm had a user; a vendor
    user created later saw 没有消息 and a re-run wrote 新通知 0 条. Messages belong to the
    firm: the new user reads the notice, once, and a later run adds nothing twice."""
    from trellis.protection import notifications as inbox

    make_loan(firm=world.vendor, amount_fen=5_000_000, disburse=date(2026, 1, 1),
              due_date=date(2026, 3, 31))
    assert events.collect(session=session, as_of=date(2026, 6, 9)) == 1   # 70 days late
    late = make_user("vendor", firm=world.vendor)
    assert events.collect(session=session, as_of=date(2026, 6, 9)) == 0
    rows = inbox.for_user(session=session, user_id=late.id)
    assert [(n.kind, "逾期 70 天" in n.message_zh) for n in rows] == [("warning", True)]
    assert inbox.unread(session=session, user_id=late.id) == 1
    assert inbox.for_user(session=session, user_id=make_user("admin").id) == []
    anchor_user = make_user("anchor", firm=world.anchor)
    assert inbox.for_user(session=session, user_id=anchor_user.id) == []


def _offer_rows(session, offer_id):
    event = session.scalars(select(NotificationEvent).where(
        NotificationEvent.key == f"offer:{offer_id}")).first()
    if event is None:
        return None
    return session.scalars(select(OutboxMessage).where(
        OutboxMessage.event_id == event.id)).all()


def test_an_offer_signed_before_the_job_runs_is_not_told(session, world, vendor_user):
    """Reader 12, G19: 「融资报价已就绪…请在…前签约」 came after the vendor had signed."""
    app = _apply(session, world)
    offer = origination.open_offer(session, app.id)
    origination.accept_offer(session=session, offer_id=offer.id, user_id=vendor_user.id,
                             as_of=AS_OF)
    events.collect(session=session, as_of=AS_OF)
    assert _offer_rows(session, offer.id) is None
    inbox = " ".join(n.message_zh for n in session.scalars(select(Notification).where(
        Notification.user_id == vendor_user.id)))
    assert "签约" not in inbox and f"第 {app.id} 号融资申请" in inbox   # the approval is told


def test_an_offer_past_its_date_is_not_told(session, world, vendor_user):
    app = _apply(session, world)
    offer = origination.open_offer(session, app.id)
    events.collect(session=session, as_of=offer.expires_on + timedelta(days=1))
    assert _offer_rows(session, offer.id) is None


def test_an_offer_signed_after_it_was_written_is_not_sent(session, world, vendor_user,
                                                          tmp_path):
    """The state at send time decides: written while open, signed before the outbox ran."""
    app = _apply(session, world)
    offer = origination.open_offer(session, app.id)
    events.collect(session=session, as_of=AS_OF)
    assert {o.state for o in _offer_rows(session, offer.id)} == {"queued"}
    origination.accept_offer(session=session, offer_id=offer.id, user_id=vendor_user.id,
                             as_of=AS_OF)
    sink = FileSink(tmp_path / "outbox.jsonl")
    sent, failed = delivery.deliver(session=session, sender=sink)
    rows = _offer_rows(session, offer.id)
    assert rows and all(o.state == "failed" and "offer is accepted" in o.last_error
                        for o in rows)
    assert sent >= 1 and failed == len(rows)          # the decision still went out
    assert not [x for x in sink.read() if "签约" in x["body"] or "Sign it" in x["body"]]
    assert delivery.deliver(session=session, sender=sink) == (0, 0)


def test_an_open_offer_is_still_sent(session, world, vendor_user, tmp_path):
    app = _apply(session, world)
    offer = origination.open_offer(session, app.id)
    events.collect(session=session, as_of=AS_OF)
    sink = FileSink(tmp_path / "outbox.jsonl")
    delivery.deliver(session=session, sender=sink)
    assert {o.state for o in _offer_rows(session, offer.id)} == {"sent"}
    assert any("签约" in x["body"] for x in sink.read())


def test_a_reminder_to_repay_a_loan_repaid_since_is_not_sent(session, world, vendor_user,
                                                             make_loan, tmp_path):
    """The same rule for the reminders: "due in 3 days" written while the loan was live is
    not sent once the loan is repaid."""
    from trellis.ledger import lifecycle

    loan = make_loan(firm=world.vendor, amount_fen=5_000_000, disburse=date(2026, 1, 1),
                     due_date=date(2026, 1, 18))
    events.collect(session=session, as_of=AS_OF)
    due = session.scalars(select(NotificationEvent).where(
        NotificationEvent.key == f"due:{loan.id}:2026-01-18:3")).one()
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=6_000_000, paid_on=AS_OF,
                    idempotency_key="all-of-it")
    session.refresh(loan)
    assert loan.status == "repaid"
    sink = FileSink(tmp_path / "outbox.jsonl")
    delivery.deliver(session=session, sender=sink)
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.event_id == due.id)).all()
    assert rows and all(o.state == "failed" and "loan is repaid" in o.last_error for o in rows)
    assert not [x for x in sink.read() if "3 天" in x["body"]]
    assert any("已放款" in x["subject"] for x in sink.read())   # the pay-out still went


def test_a_payout_of_surplus_is_told_with_the_amount_and_the_account(session, world,
                                                                    vendor_user, make_loan):
    """Reader 13, H13: a payout of surplus (the buyer paid more than the loan owed, and the
    surplus was paid on to the vendor) sent no message. The firm is told once, in its
    messages and the outbox: how much, in yuan, and into which account (masked)."""
    from trellis.ledger import lifecycle, payouts
    from trellis.protection import payout as payout_account

    loan = make_loan(firm=world.vendor, amount_fen=1_000_000, fee_fen=0,
                     disburse=date(2026, 1, 1), due_date=date(2026, 3, 31))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1_000_000 + 123_456,
                    paid_on=date(2026, 1, 1), idempotency_key="over", source="anchor")
    events.collect(session=session, as_of=date(2026, 1, 2))
    before = {e.key for e in session.scalars(select(NotificationEvent))}
    done = payouts.pay_out_surplus(session=session, firm_id=world.vendor.id, amount_fen=100_000,
                                   paid_on=date(2026, 1, 5), idempotency_key="back-1")
    assert events.collect(session=session, as_of=date(2026, 1, 5)) == 1
    assert events.collect(session=session, as_of=date(2026, 1, 6)) == 0   # once
    (event,) = [e for e in session.scalars(select(NotificationEvent)) if e.key not in before]
    assert event.key == f"surplus-paid:{done.entry.id}" and event.kind == "payout"
    assert event.link == f"/vendor/loans/{loan.id}"
    account = payout_account.label(payout_account.current(session=session,
                                                          firm_id=world.vendor.id))
    assert "····" in account
    (note,) = session.scalars(select(Notification).where(
        Notification.user_id == vendor_user.id, Notification.kind == "payout",
        Notification.message_zh.contains("¥1,000.00"))).all()
    assert account in note.message_zh and "2026-01-05" in note.message_zh
    assert "退还" in note.message_zh and account in note.message_en
    assert {o.channel for o in session.scalars(select(OutboxMessage).where(
        OutboxMessage.event_id == event.id))} == {"email", "sms"}


def test_an_offer_void_since_another_loan_paid_out_is_told(session, world, vendor_user,
                                                           embedded_chain, chain_settings):
    """Reader 13, J2: no message said the second offer was void."""
    from trellis.ledger import lifecycle

    apps = [origination.apply(session=session, firm_id=world.vendor.id,
                              product_code="RF-STD",
                              invoice_ids=[world.invoice(1_000_000 * (n + 1)).id], as_of=AS_OF)
            for n in range(2)]
    first, second = (origination.open_offer(session, a.id) for a in apps)
    loan = origination.accept_offer(session=session, offer_id=first.id, as_of=AS_OF)
    lifecycle.disburse(session=session, settings=chain_settings, loan_id=loan.id, as_of=AS_OF)
    events.collect(session=session, as_of=AS_OF)
    keys = set(session.scalars(select(NotificationEvent.key).where(
        NotificationEvent.firm_id == world.vendor.id)))
    assert f"offer-void:{second.id}" in keys and f"offer-void:{first.id}" not in keys
    inbox = " ".join(n.message_zh for n in session.scalars(select(Notification).where(
        Notification.user_id == vendor_user.id)))
    assert f"您第 {apps[1].id} 号融资申请的报价（¥16,000.00）已作废" in inbox
    assert "首贷冷静期不再适用" in inbox
