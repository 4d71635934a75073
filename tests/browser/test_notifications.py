"""The notification journey (issue 15, "flows that say what happened"): a vendor applies,
is approved and offered, signs, is paid out, and three days before the due date is
reminded. Each step appears in the vendor's messages (in Chinese, amounts in yuan) and in
the outbox sink, the file ``make run`` shows instead of sending e-mail."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from tests.browser.conftest import log_in, shot
from tests.browser.test_reader_zh import problems

YUAN = re.compile(r"¥[\d,]+\.\d\d")


def _sink(live) -> list[dict]:
    path = Path(live.settings.instance_path) / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_decision_offer_payout_and_reminder_reach_messages_and_outbox(fresh_live, new_page):
    live = fresh_live   # the demo's own vendor, in Chinese, not changed by other journeys
    from trellis.ledger.jobs import disburse_approved
    from trellis.ledger.models import Application, Loan
    from trellis.notifications.jobs import deliver_outbox, notify
    from trellis.trade.models import Invoice

    vendor = new_page(locale="zh-CN")
    log_in(vendor, live, "vendor@trellis.demo")
    vendor.goto(f"{live.url}/vendor/apply")
    with live.session() as s:   # the confirmed invoice due last: priced well within the cap
        from trellis.accounts.models import User

        firm_id = s.exec(select(User).where(User.email == "vendor@trellis.demo")).one().firm_id
        boxes = vendor.eval_on_selector_all("input[name=doc_ids]", "els => els.map(e => +e.value)")
        marked = set(vendor.eval_on_selector_all(
            "[data-unpriceable]", "els => els.map(e => +e.dataset.unpriceable)"))
        invoice = s.exec(select(Invoice).where(Invoice.id.in_(
            [b for b in boxes if b not in marked])).order_by(Invoice.due_date.desc())).first()
    assert invoice is not None, "no invoice of the demo vendor can be financed"
    vendor.check(f"#doc-{invoice.id}")
    vendor.click("form button.primary")
    vendor.wait_for_url(re.compile(r".*/vendor/applications/\d+$"))
    app_id = int(vendor.url.rsplit("/", 1)[1])
    vendor.check("#read")
    vendor.click("form[action$='/accept'] button")
    vendor.wait_for_url(re.compile(r".*/vendor/loans/\d+$"))
    loan_id = int(vendor.url.rsplit("/", 1)[1])
    assert "1" in disburse_approved(session_factory=live.sessions, settings=live.settings)
    with live.session() as s:
        loan = s.get(Loan, loan_id)
        assert loan.status == "active" and s.get(Application, app_id).firm_id == firm_id
        due = loan.due_date
    before = len(_sink(live))
    # today's events (decision, offer, pay-out), then three days before the due date
    notify(session_factory=live.sessions, settings=live.settings)
    notify(session_factory=live.sessions, settings=live.settings,
           as_of=(due - timedelta(days=3)).isoformat())
    deliver_outbox(session_factory=live.sessions, settings=live.settings)

    vendor.goto(f"{live.url}/vendor/messages")
    vendor.wait_for_load_state()
    shot(vendor, "notifications-vendor-messages")
    text = vendor.inner_text("main") if vendor.locator("main").count() else \
        vendor.inner_text("body")
    joined = text
    assert re.search(rf"第 ?{app_id} ?号融资申请.*批准", joined), joined          # the decision
    # reader 12, G19: the offer was signed before the job ran, so no "sign it by ..."
    assert "报价已就绪" not in joined and "前签约" not in joined, joined
    assert re.search(rf"第 ?{loan_id} ?号贷款.*放款", joined), joined         # the pay-out
    assert re.search(rf"第 ?{loan_id} ?号贷款将在 ?3 ?天后", joined), joined        # the reminder
    assert YUAN.search(joined) and not problems(joined), joined

    sent = [m for m in _sink(live)[before:] if m["to"] == "vendor@trellis.demo"]
    bodies = "\n".join(m["subject"] + " " + m["body"] for m in sent)
    assert len(sent) >= 3, sent
    assert re.search(rf"第 ?{app_id} ?号融资申请", bodies) and "前签约" not in bodies
    assert re.search(rf"第 ?{loan_id} ?号贷款.*放款", bodies)
    assert due.isoformat() in bodies and "3 天" in bodies
    assert YUAN.search(bodies) and not re.search(r"\d{5,} ?分|fen\b", bodies), bodies
