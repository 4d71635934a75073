"""A loan refused at pay-out: the reason is kept as a stored message (template and
parameters, money in fen), read in Chinese with money in yuan; the vendor's pages say
未放款 with that reason, and the vendor is notified (``cancelled``)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from tests.platform.conftest import login
from trellis import clock
from trellis.chain.errors import DoubleFinancing
from trellis.ledger import jobs, lifecycle
from trellis.ledger.models import Loan, LoanDocument
from trellis.messages import Message
from trellis.notifications import render
from trellis.notifications.events import collect
from trellis.notifications.models import NotificationEvent

ENGLISH = re.compile(r"[A-Za-z]{3,}")


def test_a_loan_refused_at_pay_out_keeps_a_chinese_reason(session, session_factory, client,
                                                          make_loan, make_firm, make_user,
                                                          settings):
    firm = make_firm()
    # due before the day it would be paid out: the pay-out check refuses it
    loan = make_loan(firm=firm, disburse=None, due_date=date(2026, 1, 3))
    out = jobs.disburse_approved(session_factory=session_factory, settings=settings,
                                 as_of=date(2026, 1, 5))
    assert "cancelled 1" in out
    row = session.scalars(select(Loan).where(Loan.id == loan.id)
                          .execution_options(populate_existing=True)).one()
    assert row.status == "cancelled"
    stored = Message.loads(row.cancel_reason)
    assert stored.template.startswith("Not paid out:") and stored.params   # not plain text
    zh = render.text(row.cancel_reason, "zh_CN")
    assert zh.startswith("未放款：") and "2026-01-03" in zh, zh
    assert ENGLISH.findall(zh) == [], zh
    # the vendor is told, in Chinese, with the amount in yuan
    collect(session=session, as_of=clock.today())
    event = session.scalars(select(NotificationEvent).where(
        NotificationEvent.key == f"cancelled:{loan.id}")).one()
    told = render.text(event.message, "zh_CN")
    assert event.kind == "cancelled" and "¥10,000.00" in told and "未放款" in told, told
    # the vendor's loan page and list: 未放款, with the reason
    login(client, make_user("vendor", firm=firm))
    page = re.sub(r"\s+", " ", client.get(f"/vendor/loans/{loan.id}").get_data(as_text=True))
    assert "未放款" in page and zh in page, page[-3000:]
    assert "未放款" in client.get("/vendor/loans").get_data(as_text=True)


def test_a_registry_refusal_names_the_documents_in_chinese(session, world, make_loan):
    inv = world.invoice(2_000_000)
    loan = make_loan(firm=world.vendor, disburse=None)
    session.add(LoanDocument(loan_id=loan.id, invoice_id=inv.id))
    session.flush()
    refusal = DoubleFinancing("Financing refused: invoice INV-L1 from X is already "
                              "registered for financing by another financier (account 0xab)")
    why = lifecycle.not_paid_out(session, loan.id, refusal)
    zh = render.text(why.to_json(), "zh_CN")
    assert f"发票 {inv.number}" in zh and "防重复融资" in zh, zh
    assert "refused" not in zh and "0xab" not in zh
    lifecycle.cancel(session=session, loan_id=loan.id, reason=why)
    assert Message.loads(session.get(Loan, loan.id).cancel_reason) == Message.from_json(
        why.to_json())
