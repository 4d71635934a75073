"""Pages issue 15's outside reader (a Chinese-speaking bank clerk) read wrongly, second
walk: an error page said its message twice, the jobs page's header read 「结果 结果」, the
audit trail's 地址 held an IP address, and lists showed rows without saying how many."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

ZH = {"Accept-Language": "zh-CN"}


def text(client, url: str) -> str:
    response = client.get(url, headers=ZH)
    return response.get_data(as_text=True)


def test_an_error_page_says_its_message_once(client, logged_in):
    logged_in("rm")
    page = text(client, "/scoring/firms/999999")
    assert "页面不存在（404）" in page
    assert page.count("该企业不存在") == 1, page


def test_the_jobs_page_names_each_column_once_and_counts_its_runs(client, session, logged_in):
    from trellis.jobs import JobRun

    for i in range(55):
        session.add(JobRun(job_id="accrue_daily", ok=i % 2 == 0, outcome="ok"))
    session.flush()
    logged_in("admin")
    page = text(client, "/admin/jobs")
    runs = page.split('data-list="job-runs"')[1].split("</thead>")[0]
    assert "<th>状态</th><th>结果</th>" in runs and "结果</th><th>结果" not in runs
    assert "第 1–50 条，共 55 条" in page and 'rel="next"' in page
    second = text(client, "/admin/jobs?page=2")
    assert "第 51–55 条，共 55 条" in second


def test_the_audit_trail_says_ip_address(client, logged_in):
    logged_in("admin")
    page = text(client, "/admin/audit")
    assert "<th>IP 地址</th>" in page and "<th>地址</th>" not in page


def test_messages_are_counted_and_paged(client, session, logged_in):
    from trellis.protection.models import Notification

    user = logged_in("vendor")
    for i in range(53):
        session.add(Notification(user_id=user.id, firm_id=user.firm_id, kind="test",
                                 message_en=f"message {i}", message_zh=f"第 {i} 条消息"))
    session.flush()
    page = text(client, "/vendor/messages")
    assert "第 1–50 条，共 53 条" in page and 'rel="next"' in page
    assert "第 52 条消息" in page and "第 0 条消息" not in page   # newest first
    assert "第 0 条消息" in text(client, "/vendor/messages?page=2")


def test_payables_say_today_count_and_page(client, session, logged_in, make_firm,
                                          make_cluster):
    from tests.vouchers.factories import invoice as make_invoice
    from tests.vouchers.factories import supply_chain
    from trellis.trade.models import Invoice

    chain = supply_chain(session, make_firm, make_cluster)
    today = make_invoice(session, chain.tier1, chain.anchor, 300_000, terms_days=10)
    for _ in range(52):
        make_invoice(session, chain.tier1, chain.anchor, 100_000, terms_days=20)
    session.flush()
    assert session.exec(select(Invoice).where(Invoice.id == today.id)).one().due_date \
        == today.issue_date + timedelta(days=10)
    logged_in("anchor", firm=chain.anchor)
    page = text(client, "/anchor/payables?days=30")
    assert "今天到期" in page and "0 天后" not in page
    assert "第 1–50 条，共 53 条" in page and 'rel="next"' in page
    # the total is the tab's, not the page's
    assert "¥55,000.00" in page
    found = text(client, f"/anchor/payables?days=30&q={today.number}")
    assert "共 1 条" in found
