"""Codes the cores store reach people as words (issue 15): a Chinese-speaking reader found
``pre_assessment``, ``current``, ``disbursement``, ``trade_data: 是``, ``industrial_park``,
``withdraw_consent``, job outcomes and a malformed proof's problem in English on data the
flows made. Each code is named once, in :mod:`trellis.platform.words` (or, for a core's
one-line outcome or problem, as a message the page renders)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.platform.conftest import csrf_token, login
from trellis import clock
from trellis.accounts import services as accounts

CJK = re.compile(r"[\u4e00-\u9fff]")


def _codes() -> dict[str, set[str]]:
    """Every code of each group, as the cores define them."""
    from trellis.assistant import actions
    from trellis.ledger.journal import EntryKind
    from trellis.ledger.lifecycle import BUCKETS
    from trellis.ledger.models import ApplicationStatus, LoanStatus, OfferStatus
    from trellis.onboarding.models import SCOPE_PRE_ASSESSMENT, ImportKind
    from trellis.vouchers.models import EventKind

    action_kinds = set(re.findall(r'kind == "([a-z_]+)"', open(actions.__file__).read()))
    return {
        "consent": set(accounts.CONSENT_PURPOSES),
        "entry_kind": {k.value for k in EntryKind},
        "dpd_bucket": set(BUCKETS),
        "basis_scope": {SCOPE_PRE_ASSESSMENT},
        "import_kind": {k.value for k in ImportKind},
        "voucher_event": {k.value for k in EventKind},
        "assistant_action": action_kinds,
        "cluster_kind": {"industrial_park", "startup_base"},
        "payment_source": {"vendor", "anchor", "recovery"},
        "ledger_status": {s.value for kind in (LoanStatus, ApplicationStatus, OfferStatus)
                          for s in kind},
    }


def test_every_code_the_cores_define_has_words():
    from trellis.platform import words

    missing = {group: sorted(c for c in codes if not words.has_word(group, c))
               for group, codes in _codes().items()}
    assert not any(missing.values()), missing


def test_every_recorded_record_type_has_words():
    """An audit event's record reads as its type in words ("报价 3"), never "记录 3"."""
    from pathlib import Path

    from trellis.platform.admin import words as audit_words

    found = set()
    for path in (Path(__file__).resolve().parents[2] / "trellis").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'\baudit\(\s*"[a-z_.]+",\s*"([a-z_]+)"', text))
        found |= set(re.findall(r'record_type="([a-z_]+)"', text))
    assert {"offer", "firm", "assistant_ticket"} <= found
    assert not sorted(found - set(audit_words.RECORD_TYPES))


def test_the_words_read_in_chinese(app):
    from trellis.platform import words

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        for group, codes in _codes().items():
            for code in codes:
                text = words.word(group, code)
                raw = re.search(r"[a-z]", code) and code in text
                assert CJK.search(text) and not raw, (group, code, text)
        assert words.word("consent", "no_such_purpose") == "其他"
        assert words.scope_words("pre_assessment: 园区企业的订单") == \
            "仅用于预评估（不作授信决定）：园区企业的订单"


def test_a_job_outcome_is_english_text_that_keeps_its_message(app):
    from trellis.messages import N_, Line, Message, stored
    from trellis.platform import words

    out = Line(N_("settled %(n)s matured voucher(s)"), n=3)
    assert out == "settled 3 matured voucher(s)" and isinstance(out, str)
    kept = stored(out)
    assert str(Message.loads(kept)) == "settled 3 matured voucher(s)"
    with app.test_request_context("/"):
        assert words.message_text(kept) == "兑付到期凭证 3 张"
        assert words.message_text("plain text from older code") == "plain text from older code"


def test_the_audit_trail_names_codes_in_words(client, session, logged_in, make_user,
                                              make_firm):
    logged_in("admin")
    clerk = make_user("rm")
    firm = make_firm()
    for action, record_type, record_id, detail in (
            ("cluster.create", "cluster", "7", {"kind": "industrial_park", "code": "c7"}),
            ("consent.grant", "firm", str(firm.id), {"purpose": "bank_account"}),
            ("assistant.action_done", "assistant_action", "3", {"kind": "withdraw_consent"}),
            ("trade.upload", "firm", str(firm.id), {"kind": "invoices"}),
            ("job.run", "job", "disburse_approved", {}),
            ("cluster.data_basis", "data_basis", "2",
             {"scope": "pre_assessment: 园区订单", "party": "江北园区"}),
            ("vendor.register", "firm", str(firm.id), {"via": "invitation"}),
            ("assistant.ask", "assistant_conversation", "4", {"reason": "human"}),
            ("application.decline", "application", "9", {"reason": "发票金额不符"})):
        accounts.record(session=session, action=action, actor=clerk, record_type=record_type,
                        record_id=record_id, detail=detail)
    accounts.record(session=session, action="password.reset_sent", actor=None,
                    record_type="user", record_id=str(clerk.id))
    accounts.record(session=session, action="invoice.confirm", actor=None,
                    actor_label="api-token:ab12cd", record_type="invoice", record_id="5")
    session.flush()
    page = client.get("/admin/audit").get_data(as_text=True)
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    shown = re.sub(r'(title|data-action)="[^"]*"', "", body)
    for raw in ("industrial_park", "bank_account", "withdraw_consent", "invoices",
                "disburse_approved", "pre_assessment", "invitation", "assistant_action",
                "human", "system", "api-token"):
        assert raw not in shown, raw
    for said in ("产业园区", "银行账户数据", "撤回授权", "发票", "放款", "仅用于预评估",
                 "通过邀请码", "智能客户经理提议的操作", "发票金额不符", "Trellis（系统自动）",
                 "API 令牌 ab12cd"):
        assert said in shown, said


def test_the_jobs_page_tells_outcomes_in_chinese(client, session, session_factory, logged_in):
    from trellis import jobs

    logged_in("admin")
    for job_id in ("expire_offers", "anchor_ledger_head", "settle_vouchers"):
        jobs.run_job(jobs.find(job_id), session_factory=session_factory, settings=None)
    token = csrf_token(client, "/admin/jobs")
    client.post("/admin/jobs/apply_bank_changes/run", data={"csrf_token": token})
    page = client.get("/admin/jobs").get_data(as_text=True)
    for english in ("offer(s) expired", "the journal is empty", "matured voucher",
                    "bank-account change"):
        assert english not in page, english
    for chinese in ("已过期的报价 0 个", "账簿为空", "兑付到期凭证 0 张",
                    "生效的银行账户变更 0 项"):
        assert chinese in page, chinese


def test_the_data_basis_reads_its_scope_in_words(client, session, logged_in, make_cluster):
    from trellis.onboarding import basis

    cluster = make_cluster()
    basis.record(session=session, cluster_id=cluster.id, party="江北园区管委会",
                 reference="JB-2026", scope="园区企业的订单和发票",
                 expires_on=clock.today() + timedelta(days=200))
    session.flush()
    logged_in("admin")
    page = client.get(f"/network/{cluster.code}/settings").get_data(as_text=True)
    assert "pre_assessment" not in page
    assert "仅用于预评估（不作授信决定）：园区企业的订单和发票" in page


@pytest.mark.parametrize("bundle, said, named", [
    ({"format": "trellis-proof-v2", "document": {}, "leaf": {}, "merkle": {}, "anchor": {},
      "extra_part": 1}, "缺少 0 个，多出 1 个未知部分", "extra_part"),
    ({"format": "trellis-proof-v2", "document": {"doc_type": "x"}, "leaf": {}, "merkle": {},
      "anchor": {}}, "“文件内容”部分的字段不符（缺少 3 个，多出 0 个未知字段）", "content_hash"),
])
def test_a_malformed_proof_is_told_in_chinese(app, bundle, said, named):
    from trellis.chain import verify
    from trellis.platform.i18n import render

    report = verify.verify_bundle(bundle)
    step = report.step("bundle")
    assert step.ok is False and named in step.detail   # the command line names the field
    with app.test_request_context("/"):
        text = render(step.message)
    assert said in text, text
    assert not re.search(r"[A-Za-z]{3,}", text.replace("Trellis", "")), text


def test_the_ticket_names_consents_in_words(client, session, make_user, make_firm):
    from trellis.assistant import service

    firm = make_firm()
    vendor = make_user("vendor", firm=firm)
    accounts.grant_consent(session=session, firm_id=firm.id, purpose="trade_data", user=vendor)
    reply = service.ask(session=session, firm_id=firm.id, user=vendor, text="我要找客户经理")
    session.flush()
    login(client, make_user("admin"))
    page = client.get(f"/assistant/tickets/{reply.ticket.id}").get_data(as_text=True)
    for raw in ("trade_data", "credit_query", "bank_account"):
        assert raw not in page, raw
    assert "交易数据：是" in page and "征信查询：否" in page
    # the vendor's own words are the firm's, not "you" (the reader is the RM)
    thread = page.split("data-thread")[1]
    assert firm.name in thread and ">您<" not in thread


def test_a_ticket_about_a_scam_call_does_not_suspect_the_customer(app):
    """「涉嫌诈骗」 read as if the firm were suspected of fraud; the customer asked whether a
    call was a scam."""
    from trellis.platform import words

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert words.word("handover_reason", "fraud_call") == "客户咨询疑似诈骗"
        assert words.word("handover_reason", "low_confidence") == "智能客户经理无法回答"


def test_roles_read_as_words_in_the_header_and_the_audit_trail(client, logged_in):
    """The header's hover title said ``vendor``; the audit trail 「角色：vendor」; the
    error pages were a bare 「404」."""
    from trellis.platform.admin.words import value_words

    logged_in("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'title="管理员"' in page and 'title="admin"' not in page
    with client.application.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert value_words("role", "vendor") == "供应商"
        assert value_words("role", "auditor") == "审计员"
    missing = client.get("/no/such/page").get_data(as_text=True)
    assert "页面不存在（404）" in missing


def test_every_background_task_has_a_chinese_description(app):
    from flask_babel import gettext

    from trellis.tasks.registry import TASKS

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        for spec in TASKS:
            assert CJK.search(gettext(spec.description)), spec.name


def test_a_split_voucher_part_reads_as_done(app):
    """A voucher part that was split showed 「拆分」, the button's word; it is 「已拆分」."""
    from trellis.platform.vendor_portal.common import status_label

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert status_label("split", "fragment") == "已拆分"
        assert status_label("split") == "已拆分"
