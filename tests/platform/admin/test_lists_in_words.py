"""Issue 15: the audit trail reads as words, every list a person opens pages with a count,
and every action the code records has words (a new action without them fails here)."""

from __future__ import annotations

import re
from pathlib import Path

from trellis.accounts import services as accounts
from trellis.platform.admin import words

ROOT = Path(__file__).resolve().parents[3] / "trellis"


def recorded_actions() -> set[str]:
    """Every audit action the code records with a literal name."""
    found = set()
    for path in ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"\baudit\(\s*\"([a-z_.]+)\"", text))
        found |= set(re.findall(r"action=\"([a-z_]+\.[a-z_.]+|login|logout)\"", text))
    # built from parts: application.{decision}, {kind}.{confirm|reject}
    found |= {"application.approve", "application.decline", "invoice.confirm",
              "invoice.reject", "order.confirm", "order.reject"}
    return found


def test_every_recorded_action_has_words():
    missing = sorted(a for a in recorded_actions() if a not in words.ACTIONS)
    assert not missing, missing


def test_the_audit_trail_reads_as_words_and_pages(client, session, logged_in, make_user):
    admin = logged_in("admin")
    clerk = make_user("rm")
    for i in range(60):
        accounts.record(session=session, action="cluster.create", actor=clerk,
                        record_type="cluster", record_id=str(i),
                        detail={"code": f"c-{i}", "amount_fen": 12_345_600, "raw_thing": "x"})
    session.flush()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'data-list-count="' in page and 'rel="next"' in page
    assert "新建园区" in page and "园区 59" in page
    assert "¥123,456.00" in page and "amount_fen" not in page and "raw_thing" not in page
    assert ">cluster.create<" not in page
    # search by the words a Chinese reader sees, and by who did it
    found = client.get("/admin/audit?q=新建园区").get_data(as_text=True)
    assert 'data-list-count="60"' in found
    by_whom = client.get(f"/admin/audit?q={clerk.email}").get_data(as_text=True)
    assert 'data-list-count="60"' in by_whom
    assert admin.email not in by_whom.split("<tbody>")[1]
    older = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert 'rel="prev"' in older


def test_users_page_with_count_search_and_sort(client, logged_in, make_user):
    logged_in("admin")
    for _ in range(55):
        make_user("auditor")
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'data-list-count="' in page and 'rel="next"' in page
    one = client.get("/admin/users?q=nobody-at-all").get_data(as_text=True)
    assert 'data-list-count="0"' in one
    sorted_page = client.get("/admin/users?sort=email&desc=1").get_data(as_text=True)
    assert "sorted" in sorted_page


def test_the_record_type_filter_names_each_type_once_and_finds_all_its_codes(
        client, session, logged_in, make_user):
    """Issue 15: "申请" (application, loan_application), "报价" and "问题" were offered
    twice; each reads once, and choosing it finds the events of every code it stands for."""
    logged_in("auditor")
    clerk = make_user("rm")
    for record_type, record_id in (("application", "11"), ("loan_application", "12"),
                                   ("offer", "13")):
        accounts.record(session=session, action="application.approve", actor=clerk,
                        record_type=record_type, record_id=record_id)
    session.flush()
    page = client.get("/admin/audit").get_data(as_text=True)
    select = page.split('name="record_type"', 1)[1].split("</select>", 1)[0]
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    assert len(labels) == len(set(labels)), sorted(labels)
    assert "申请" in labels and "问题" in labels
    code = re.search(r'<option value="([a-z_]+)"[^>]*>申请</option>', select).group(1)
    body = client.get(f"/admin/audit?record_type={code}").get_data(as_text=True)
    rows = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "申请 11" in rows and "申请 12" in rows and "报价 13" not in rows


def test_the_audit_trail_names_what_each_record_is(client, session, logged_in, make_user,
                                                   make_firm, make_cluster):
    """Outside reader 7: the trail read 记录 12345. A firm reads as its name, a cluster as
    its name, a user as the e-mail, an invoice as its number and seller; the id stays in
    the cell's title for who traces it."""
    from datetime import date

    from trellis.trade.models import Invoice

    logged_in("auditor")
    clerk = make_user("rm")
    cluster = make_cluster(name="江北测试园区")
    seller = make_firm(name="远兴五金有限公司", cluster_id=cluster.id)
    buyer = make_firm(role="anchor", name="锚点集团", cluster_id=cluster.id)
    invoice = Invoice(seller_id=seller.id, buyer_id=buyer.id, number="FP-20260105-77",
                      amount_fen=1_000_00, issue_date=date(2026, 1, 5),
                      due_date=date(2026, 3, 5))
    session.add(invoice)
    session.flush()
    for record_type, record_id in (("firm", seller.id), ("cluster", cluster.id),
                                   ("invoice", invoice.id), ("user", clerk.id)):
        accounts.record(session=session, action="invoice.confirm", actor=clerk,
                        record_type=record_type, record_id=record_id)
    session.flush()
    page = client.get("/admin/audit").get_data(as_text=True)
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = [re.sub(r"<[^>]+>", "", c)
             for c in re.findall(r"<td [^>]*\btitle=[^>]*>(.*?)</td>", rows)]
    assert "企业：远兴五金有限公司" in cells, cells
    assert "园区：江北测试园区" in cells, cells
    assert "发票：FP-20260105-77（远兴五金有限公司）" in cells, cells
    assert f"用户：{clerk.email}" in cells, cells
    assert f"发票 {invoice.id}" not in rows and f"企业 {seller.id}<" not in rows


def test_the_audit_search_finds_what_the_row_shows_and_decisions_show_their_reasons(
        client, session, logged_in, make_user, make_firm):
    """Reader R28: searching "申请：2" (the record as the row reads it), a person's name or
    a firm's name found nothing; a decision's 详情 was empty (the reasons were a list)."""
    from datetime import date

    from trellis.trade.models import Invoice

    logged_in("auditor")
    clerk = make_user("rm")
    clerk.name = "周敏"
    other = make_user("rm")
    seller = make_firm(name="宁波兴嘉脚手架租赁有限公司")
    buyer = make_firm(role="anchor", name="锚点集团")
    invoice = Invoice(seller_id=seller.id, buyer_id=buyer.id, number="FP-R28-1",
                      amount_fen=1_000_00, issue_date=date(2026, 1, 5),
                      due_date=date(2026, 3, 5))
    session.add(invoice)
    session.flush()
    accounts.record(session=session, action="application.decline", actor=clerk,
                    record_type="loan_application", record_id="2",
                    detail={"status": "declined", "reasons": ["资料不全。", "担保不足"]})
    accounts.record(session=session, action="application.approve", actor=other,
                    record_type="loan_application", record_id="22")
    accounts.record(session=session, action="invoice.confirm", actor=other,
                    record_type="invoice", record_id=str(invoice.id))
    session.flush()

    def rows(q: str) -> str:
        page = client.get("/admin/audit", query_string={"q": q}).get_data(as_text=True)
        return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]

    for q in ("申请：2", "申请 2", "申请2", "周敏"):
        found = rows(q)
        assert found.count("<tr>") == 1 and "拒绝" in found, (q, found)
        assert "理由：资料不全；担保不足" in found, found
    by_firm = rows("兴嘉脚手架")
    assert by_firm.count("<tr>") == 1 and "FP-R28-1" in by_firm
    assert 'colspan="6"' in rows("申请：3")   # no such record: nothing found
