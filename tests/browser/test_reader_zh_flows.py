"""The Chinese reader on data the flows create, not only on the seeded demo (issue 15).

The seeded demo was read clean, yet a Chinese-speaking reader found raw words on the
records a new user makes: a data basis's scope ``pre_assessment``, a loan's ``current`` and
``disbursement``, consents shown as ``trade_data: 是``, ``industrial_park`` and table names
in the audit trail, job outcomes in English, a malformed proof's problem in English. So
here the flows run first, in Chinese, in a demo of this module's own:

1. a vendor registers from an invitation and consents (trade data and bank account);
2. uploads two invoices, which the anchor confirms; applies, and accepts the offer;
3. asks the assistant two questions and for a person (a ticket);
4. the RM records a data basis for the park; the auditor checks a malformed proof;
5. the admin runs the pay-out job from the jobs page (the loan is paid out).

Then every page those flows touch is read by each role, at desktop width, with the checks
of :mod:`tests.browser.test_reader_zh`: no English word, no raw identifier (snake_case,
``order:1``), no fen, no list without pages.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.browser.conftest import DESKTOP, log_in, shot
from tests.browser.test_reader_zh import read_pages, walk
from trellis import clock

pytestmark = pytest.mark.browser
TODAY = clock.today()


def _register_and_consent(live, page):
    page.goto(f"{live.url}/register/")
    page.fill("#code", live.invitation_code)
    page.click("form[action$='/register/invite'] button")
    page.fill("#name", "陈国强")
    page.fill("#mobile", "13900007788")
    page.fill("#email", "chen.flows@invitee.cn")
    page.fill("#birth_year", "1975")
    page.fill("#password", "a long password 2026")
    page.fill("#confirm", "a long password 2026")
    page.click("form button.primary")
    page.wait_for_url(re.compile(r".*/vendor/consent.*"))
    page.check("#trade_data")
    page.uncheck("#credit_query")
    page.check("#bank_account")
    page.click("form button.primary")
    page.wait_for_url(re.compile(r".*/vendor/(?!consent).*"))


def _upload_confirm_apply(live, vendor, desk, tmp_path) -> tuple[int, int]:
    from trellis.trade.models import Firm, Invoice

    with live.session() as s:
        anchor = s.get(Firm, live.anchor_firm_id)
    numbers = [f"ZH-{TODAY:%Y%m%d}-1", f"ZH-{TODAY:%Y%m%d}-2"]
    due = (TODAY + timedelta(days=75)).isoformat()
    csv = tmp_path / "invoices.csv"
    csv.write_text("采购方统一社会信用代码,发票号码,金额（元）,开票日期,到期日\n"
                   f"{anchor.uscc},{numbers[0]},{live.invoice_amounts[0]},"
                   f"{(TODAY - timedelta(days=2)).isoformat()},{due}\n"
                   f"{anchor.uscc},{numbers[1]},{live.invoice_amounts[1]},{TODAY.isoformat()},{due}\n",
                   encoding="gbk")
    vendor.goto(f"{live.url}/vendor/trade/upload")
    vendor.select_option("#kind", "invoices")
    vendor.set_input_files("#file", str(csv))
    vendor.click("form button.primary")
    vendor.wait_for_url(re.compile(r".*/vendor/trade.*"))
    with live.session() as s:
        ids = [i.id for i in s.exec(select(Invoice).where(Invoice.number.in_(numbers)))]
    assert len(ids) == 2, vendor.content()[:2000]
    desk.goto(f"{live.url}/anchor/queue?kind=invoice&sort=date&desc=1")
    for i in ids:
        desk.check(f"#pick-{i}")
        desk.check(f"#ack-{i}")   # uploaded without an order: each needs its own tick
    desk.check("#checked")   # 我已核对订单与收货: a confirmation asks for it
    desk.click("button[name=decision][value=confirm]")
    desk.wait_for_load_state()
    vendor.goto(f"{live.url}/vendor/apply")
    for i in ids:
        vendor.check(f"#doc-{i}")
    vendor.click("form button.primary")
    vendor.wait_for_url(re.compile(r".*/vendor/applications/\d+$"))
    application_id = int(vendor.url.rsplit("/", 1)[1])
    vendor.check("#read")
    vendor.click("form[action$='/accept'] button")
    vendor.wait_for_url(re.compile(r".*/vendor/loans/\d+$"))
    return application_id, int(vendor.url.rsplit("/", 1)[1])


def _ask_for_a_person(live, vendor) -> None:
    vendor.goto(f"{live.url}/vendor/")
    vendor.click("#assistant-panel summary")
    panel = vendor.locator("#assistant-panel")
    for n, question in enumerate(["我授权了哪些数据", "利率是多少", "我要找客户经理"]):
        panel.locator("input[name=text]").fill(question)
        panel.locator("button[type=submit]").click()
        # the first answer loads the assistant's word index: slow on a busy machine
        panel.locator("li[data-sender=assistant]").nth(n).wait_for(timeout=90_000)


def _record_basis(live, rm) -> None:
    from trellis.demo.seed import CLUSTER_CODE

    rm.goto(f"{live.url}/network/{CLUSTER_CODE}/settings")
    rm.fill("#basis-party", "江北工业园管委会")
    rm.fill("#basis-reference", "JB-DS-2026-07")
    rm.fill("#basis-scope", "园区企业的订单、发票和付款，2024-2026")
    rm.fill("#basis-expires_on", (TODAY + timedelta(days=300)).isoformat())
    rm.locator("form:has(input[name=action][value=basis]) button.primary").click()
    rm.wait_for_load_state()
    assert rm.locator("[data-testid=basis-valid]").count() == 1, rm.content()[:3000]


def _check_malformed_proof(live, auditor, tmp_path) -> None:
    bundle = tmp_path / "proof.json"
    bundle.write_text(json.dumps({"format": "trellis-proof-v2", "document": {}, "leaf": {},
                                  "merkle": {}, "anchor": {}, "extra_part": 1}))
    auditor.goto(f"{live.url}/chain/check")
    auditor.set_input_files("#upload", str(bundle))
    auditor.click("form[enctype] button")
    auditor.wait_for_load_state()


def _run_payout_job(live, admin) -> None:
    admin.goto(f"{live.url}/admin/jobs")
    admin.locator("form[action$='/jobs/disburse_approved/run'] button").click()
    admin.wait_for_load_state()


@pytest.fixture(scope="module")
def flows(fresh_live, browser, tmp_path_factory):
    """Run the flows once, in Chinese; returns the live server and the records made."""
    live = fresh_live
    from trellis.ledger.models import Loan

    tmp = tmp_path_factory.mktemp("flows")
    contexts = {role: browser.new_context(viewport=DESKTOP, locale="zh-CN")
                for role in ("vendor", "anchor", "rm", "auditor", "admin")}
    try:   # one browser context per person: a cookie jar each
        people = {}
        for role, context in contexts.items():
            context.set_default_timeout(20_000)
            people[role] = context.new_page()
            if role != "vendor":
                log_in(people[role], live, f"{role}@trellis.demo")
        vendor = people["vendor"]
        _register_and_consent(live, vendor)
        application_id, loan_id = _upload_confirm_apply(live, vendor, people["anchor"], tmp)
        _ask_for_a_person(live, vendor)
        _record_basis(live, people["rm"])
        _check_malformed_proof(live, people["auditor"], tmp)
        malformed_text = people["auditor"].inner_text("body")
        shot(people["auditor"], "flows-malformed-proof")
        _run_payout_job(live, people["admin"])
        with live.session() as s:
            assert s.get(Loan, loan_id).status == "active", "the admin's pay-out job did not run"
    finally:
        for context in contexts.values():
            context.close()
    return {"live": live, "application_id": application_id, "loan_id": loan_id,
            "malformed_text": malformed_text, "vendor_email": "chen.flows@invitee.cn"}


def _urls(flows, role: str) -> list[str]:
    """The pages the flows touched that a role opens directly (besides its walk)."""
    from trellis.assistant.models import Ticket
    from trellis.demo.seed import CLUSTER_CODE

    live = flows["live"]
    with live.session() as s:
        ticket = s.exec(select(Ticket).order_by(Ticket.id.desc())).first()
    a, loan = flows["application_id"], flows["loan_id"]
    base = live.url
    return {
        "vendor": [f"{base}/vendor/", f"{base}/vendor/trade?kind=invoice",
                   f"{base}/vendor/applications/{a}", f"{base}/vendor/loans/{loan}",
                   f"{base}/vendor/profile", f"{base}/vendor/consent",
                   f"{base}/vendor/messages", f"{base}/assistant/"],
        "anchor": [f"{base}/anchor/", f"{base}/anchor/queue?kind=invoice&sort=date&desc=1"],
        "rm": [f"{base}/ledger/loans/{loan}", f"{base}/ledger/applications/{a}",
               f"{base}/ledger/applications", f"{base}/assistant/inbox",
               f"{base}/assistant/tickets/{ticket.id}",
               f"{base}/network/{CLUSTER_CODE}/settings"],
        "auditor": [f"{base}/admin/audit", f"{base}/ledger/loans/{loan}", f"{base}/chain/"],
        "admin": [f"{base}/admin/audit", f"{base}/admin/audit?page=2", f"{base}/admin/jobs",
                  f"{base}/ledger/loans/{loan}", f"{base}/assistant/tickets/{ticket.id}",
                  f"{base}/network/{CLUSTER_CODE}/settings"],
    }[role]


def test_the_malformed_proof_is_told_in_chinese(flows):
    from tests.browser.test_reader_zh import problems

    text = flows["malformed_text"]
    assert "证明" in text, text
    assert not problems(text), problems(text)


@pytest.mark.parametrize("role", ["vendor", "anchor", "rm", "auditor", "admin"])
def test_pages_the_flows_touched_read_in_chinese(flows, new_page, role):
    live = flows["live"]
    page = new_page(viewport=DESKTOP, locale="zh-CN")
    email = flows["vendor_email"] if role == "vendor" else f"{role}@trellis.demo"
    if role == "vendor":
        log_in(page, live, email, password="a long password 2026")
    else:
        log_in(page, live, email)
    urls = _urls(flows, role)
    for url in walk(page, live.url, cap=45, depth=1):
        if url not in urls:
            urls.append(url)
    report = read_pages(page, live.url, urls, f"flows-{role}")
    shot(page, f"flows-{role}-last")
    lines = [f"{url}\n    " + "\n    ".join(found) for url, found in report.items()]
    assert not report, f"{role}: {len(report)} of {len(urls)} pages mislead a Chinese reader:\n" \
        + "\n".join(lines)
