"""The network pages, API and commands, through the Flask test client and CLI runner."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from tests.onboarding.test_importer import INV_HEADER, csv_bytes
from tests.platform.conftest import csrf_token
from trellis import clock
from trellis.onboarding.models import ImportRun, Invitation
from trellis.platform.cli import main
from trellis.scoring.models import ScoreRecord
from trellis.trade.models import ClusterManager, Invoice

TODAY = clock.today()


@pytest.fixture
def park(make_cluster, make_firm, make_invoice):
    cluster = make_cluster(name="滨江园区")
    anchor = make_firm(role="anchor", cluster_id=cluster.id, name="示范核心企业")
    vendor = make_firm(cluster_id=cluster.id, name="小河五金", bank_account="6222000011112222",
                       phone="13800001111")
    far = make_firm(cluster_id=cluster.id, name="远端供应商", phone="13800001111")
    make_invoice(vendor, anchor, 60_000_00, TODAY - timedelta(days=300), status="confirmed")
    make_invoice(far, vendor, 10_000_00, TODAY - timedelta(days=20))
    return cluster, anchor, vendor, far


@pytest.fixture
def rm(session, logged_in, park):
    user = logged_in("rm")
    session.add(ClusterManager(cluster_id=park[0].id, user_id=user.id))
    session.flush()
    return user


def test_rm_sees_only_assigned_clusters(client, rm, park, make_cluster):
    other = make_cluster(name="别的园区")
    page = client.get("/network/").get_data(as_text=True)
    assert "滨江园区" in page and "别的园区" not in page
    assert client.get(f"/network/{other.code}").status_code == 404
    assert client.get(f"/network/{park[0].code}").status_code == 200


@pytest.mark.parametrize("role, status", [("vendor", 403), ("anchor", 403), ("auditor", 200),
                                          ("admin", 200)])
def test_cluster_page_roles(client, logged_in, park, role, status):
    logged_in(role)
    assert client.get(f"/network/{park[0].code}").status_code == status


def test_cluster_page_and_picture_data(client, rm, park):
    cluster, anchor, vendor, far = park
    page = client.get(f"/network/{cluster.code}").get_data(as_text=True)
    assert "network/cytoscape.min.js" in page and "net-cy" in page
    data = client.get(f"/network/{cluster.code}/elements.json").get_json()
    nodes = {e["data"]["id"]: e for e in data["elements"] if e["group"] == "nodes"}
    assert nodes[str(anchor.id)]["classes"].startswith("anchor")
    assert nodes[str(far.id)]["data"]["tier"] == 2
    assert all("position" in n for n in nodes.values())
    shared = [e for e in data["elements"] if "shared-phone" in e.get("classes", "")]
    assert len(shared) == 1


def test_the_picture_shows_each_firms_latest_grade(client, session, rm, park):
    # An ImportError guard once hid that the view read a table class that no longer
    # existed: every grade was silently missing from the picture.
    cluster, anchor, vendor, far = park
    for grade, day in (("D", TODAY - timedelta(days=40)), ("B", TODAY)):
        session.add(ScoreRecord(firm_id=vendor.id, cluster_id=cluster.id, as_of=day,
                                grade=grade, scorecard_version="test",
                                computed_at=datetime.combine(day, datetime.min.time(), UTC)))
    session.flush()
    data = client.get(f"/network/{cluster.code}/elements.json").get_json()
    nodes = {e["data"]["id"]: e for e in data["elements"] if e["group"] == "nodes"}
    assert nodes[str(vendor.id)]["data"]["grade"] == "B"
    assert "grade-B" in nodes[str(vendor.id)]["classes"]
    assert nodes[str(far.id)]["data"]["grade"] is None


def test_the_picture_reads_only_each_firms_newest_grade(client, session, rm, park):
    """Issue 15: elements.json read every grade of every firm (a nightly rescore adds a row
    per firm a day); it reads one row per graded firm, the one it draws."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    cluster, anchor, vendor, far = park
    for firm, grades in ((vendor, "EDCBA" * 6), (far, "ABC")):
        for i, grade in enumerate(grades):
            day = TODAY - timedelta(days=len(grades) - i)
            session.add(ScoreRecord(firm_id=firm.id, cluster_id=cluster.id, as_of=day,
                                    grade=grade, scorecard_version="test",
                                    computed_at=datetime.combine(day, datetime.min.time(), UTC)))
    session.flush()
    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "score_results" in statement:
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", keep)
    try:
        data = client.get(f"/network/{cluster.code}/elements.json").get_json()
    finally:
        event.remove(Engine, "before_cursor_execute", keep)
    nodes = {e["data"]["id"]: e["data"] for e in data["elements"] if e["group"] == "nodes"}
    assert nodes[str(vendor.id)]["grade"] == "A" and nodes[str(far.id)]["grade"] == "C"
    assert seen
    raw = session.connection().connection.driver_connection
    read = 0
    for statement, parameters in seen:
        cursor = raw.cursor()
        cursor.execute(statement, parameters)
        read += len(cursor.fetchall())
    assert read == 2, read   # was 33: every grade of both firms


def test_network_figures_read_as_words(client, rm, park):
    """Issue 15: the concentration read as a bare 0.xx labelled HHI, the cluster's figures
    only as a JSON link: the concentration reads as a percentage with what it means, the
    figures as a labelled table, and the JSON link says it is data for other systems."""
    cluster, anchor, vendor, far = park
    firm = client.get(f"/network/firms/{vendor.id}").get_data(as_text=True)
    hhi = firm.split('data-testid="hhi">', 1)[1].split("<", 1)[0]
    assert hhi == "100.0%" and "买方集中度（0–100%）" in firm and "HHI" not in firm
    assert "集中度：各买方销售占比的平方和" in firm
    page = client.get(f"/network/{cluster.code}").get_data(as_text=True)
    figures = page.split('data-testid="figures"', 1)[1].split("</table>", 1)[0]
    assert "企业：1 级供应商" in figures and "企业：2 级供应商" in figures
    assert "共用电话的企业对" in figures
    link = re.search(r'<a href="[^"]*stats\.json"[^>]*>([^<]*)</a>', page)
    assert link and "download" in link.group(0) and "供其他系统使用" in link.group(1)
    assert "指标（JSON）" not in page


def test_static_libraries_are_served_locally(client, rm):
    for path in ("/static/network/cytoscape.min.js", "/static/third_party/chart.umd.min.js"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.data) > 100_000


def test_firm_page_shows_the_industry_division_in_chinese(client, session, rm, park):
    vendor, far = park[2], park[3]
    vendor.industry_code = "36"
    session.flush()
    page = client.get(f"/network/firms/{vendor.id}").get_data(as_text=True)
    assert "国民经济行业（GB/T 4754）" in page
    assert '<dd data-testid="industry-division">36 汽车制造业</dd>' in page
    page = client.get(f"/network/firms/{far.id}").get_data(as_text=True)
    assert '<dd data-testid="industry-division">—</dd>' in page  # not known: blank
    # reader 10, R24: the firm's network page leads to its risk page
    assert f'href="/scoring/firms/{far.id}" id="risk-link"' in page


def test_firm_page_masks_the_bank_account(client, rm, park):
    vendor = park[2]
    page = client.get(f"/network/firms/{vendor.id}").get_data(as_text=True)
    assert "小河五金" in page and "····2222" in page
    assert "6222000011112222" not in page
    assert "chart.umd.min.js" in page
    months = client.get(f"/network/firms/{vendor.id}/monthly.json").get_json()["months"]
    assert len(months) == 18 and sum(m["sales_fen"] for m in months) == 60_000_00
    assert sum(m["purchases_fen"] for m in months) == 10_000_00


def test_neighbourhood_api(client, rm, park):
    cluster, anchor, vendor, far = park
    body = client.get(f"/api/v1/firms/{vendor.id}/neighbourhood").get_json()
    assert body["tier"] == 1
    assert [b["id"] for b in body["buyers"]] == [anchor.id]
    assert [s["id"] for s in body["suppliers"]] == [far.id]
    assert body["firm"]["bank_account"] == "····2222"   # the one masking, as on every page
    assert "shared_phone" in {f["code"] for f in body["flags"]}


def test_neighbourhood_api_hides_other_clusters(client, logged_in, park, make_cluster,
                                                make_firm):
    logged_in("rm")  # assigned to nothing
    response = client.get(f"/api/v1/firms/{park[2].id}/neighbourhood")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def upload(client, cluster, data, kind="invoices", name="invoices.csv"):
    url = f"/network/{cluster.code}/import"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "kind": kind,
                                  "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_upload_a_good_file(client, session, rm, park):
    cluster, anchor, vendor, _ = park
    data = csv_bytes(INV_HEADER, [[vendor.uscc, anchor.uscc, "UP-1", "12.34", "2026-01-02",
                                   "2026-03-02"]])
    response = upload(client, cluster, data)
    assert response.status_code == 303
    run_url = response.headers["Location"]
    state = client.get(run_url + ".json").get_json()
    assert state["status"] == "succeeded" and state["created"] == 1
    assert session.scalar(select(Invoice.amount_fen).where(Invoice.number == "UP-1")) == 1234


def test_upload_a_bad_file_offers_the_error_report(client, session, rm, park):
    cluster, anchor, vendor, _ = park
    before = session.scalar(select(func.count()).select_from(Invoice))
    data = csv_bytes(INV_HEADER, [[vendor.uscc, anchor.uscc, "UP-1", "12.34", "2026-01-02",
                                   "2026-03-02"],
                                  [vendor.uscc, anchor.uscc, "UP-2", "abc", "2026-01-02",
                                   "2026-03-02"]])
    response = upload(client, cluster, data)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "refused" in page and "errors.csv" in page
    run = session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    report = client.get(f"/network/imports/{run.id}/errors.csv")
    rows = list(csv.reader(io.StringIO(report.data.decode("utf-8-sig"))))
    # the report reads in the reader's language (Chinese by default): column by its
    # Chinese header, the problem in words, no field keys
    assert rows[0] == ["行号", "列", "内容", "问题"]
    assert rows[1][:2] == ["3", "金额（元，含税）"] and "不是数字" in rows[1][3]
    assert session.scalar(select(func.count()).select_from(Invoice)) == before


@pytest.mark.parametrize("own_check", [True, False])
def test_a_huge_upload_is_refused_with_a_message(client, session, rm, park, app, own_check):
    limit = app.extensions["trellis.settings"].upload_max_bytes
    if own_check:
        app.config["MAX_CONTENT_LENGTH"] = None  # the view's own check, with the limit
    url = f"/network/{park[0].code}/import"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "kind": "invoices",
                                      "file": (io.BytesIO(b"x" * (limit + 10)), "big.csv")},
                           content_type="multipart/form-data", headers={"Referer": url})
    if own_check:
        assert response.status_code == 303
        page = client.get(url).get_data(as_text=True)
        assert "flash-error" in page and f"{limit / 1_048_576:.1f} MB" in page
    else:
        assert response.status_code == 413  # the app-wide limit answers first
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0


@pytest.mark.parametrize("kind", ["firms", "invoices", "payments"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_templates_download(client, rm, kind, fmt):
    response = client.get(f"/network/templates/{kind}.{fmt}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]


def test_invitation_flow(client, session, rm, park):
    cluster, anchor, vendor, far = park
    url = f"/network/{cluster.code}/invitations"
    page = client.get(url + "?limits=0").get_data(as_text=True)
    assert "小河五金" in page and "远端供应商" not in page  # far has no confirmed trade
    response = client.post(url + "?limits=0", data={"csrf_token": csrf_token(client, url),
                                                    "firm_id": [str(vendor.id)],
                                                    "valid_days": "7"})
    assert response.status_code == 303
    batch_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "小河五金" in batch_page
    inv = session.scalars(select(Invitation)).one()
    export = client.get(f"/network/{cluster.code}/invitations/{inv.batch}.csv")
    words = {"统一社会信用代码": "uscc", "注册链接": "link", "邀请码": "code"}  # the header
    rows = [{words.get(k, k): v for k, v in r.items()}
            for r in csv.DictReader(io.StringIO(export.data.decode("utf-8-sig")))]
    assert rows[0]["uscc"] == vendor.uscc
    assert rows[0]["link"].endswith(f"/register/invite?code={rows[0]['code']}")
    # The link opens the vendor registration page with the firm already known.
    link = urlsplit(rows[0]["link"])
    page = client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200 and rows[0]["code"] in page.get_data(as_text=True)
    from trellis.onboarding import invitations

    assert invitations.redeem(session=session, code=rows[0]["code"]).id == vendor.id


def test_the_invitations_export_gives_beijing_time_in_the_readers_words(client, session, rm,
                                                                       park):
    """The expiry read "… UTC" under an English field name; the rest of the product shows
    Beijing time and says so (issue 15)."""
    from trellis.clock import beijing_text
    from trellis.onboarding import invitations

    cluster, anchor, vendor, far = park
    (issued,) = invitations.issue(session=session, cluster_id=cluster.id,
                                  firm_ids=[vendor.id], secret="s", valid_days=7)
    inv = issued.invitation
    session.flush()
    export = client.get(f"/network/{cluster.code}/invitations/{inv.batch}.csv")
    header, row = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert header == ["企业", "统一社会信用代码", "电话", "邀请码", "注册链接",
                      "到期时间（北京时间，UTC+8）", "待发送的消息"]
    expires = row[header.index("到期时间（北京时间，UTC+8）")]
    assert expires == beijing_text(inv.expires_at) and "UTC" not in expires


def invoke(app, args, **kw):
    runner = app.test_cli_runner()
    return runner.invoke(main, args, obj=ScriptInfo(create_app=lambda: app), **kw)


def test_cli_clusters_list_and_graph_stats(app, park):
    cluster = park[0]
    result = invoke(app, ["clusters", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = {c["code"]: c for c in json.loads(result.output)["clusters"]}
    assert listed[cluster.code]["firms"] == 3
    result = invoke(app, ["graph", "stats", cluster.code, "--json"])
    stats = json.loads(result.output)
    assert (stats["firms"], stats["edges"], stats["tiers"]) == (3, 2, {"0": 1, "1": 1, "2": 1})
    assert stats["shared_identity_links"] == {"phone": 1}


def test_cli_import_good_and_bad(app, session, park, tmp_path):
    cluster, anchor, vendor, _ = park
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(INV_HEADER, [[vendor.uscc, anchor.uscc, "CLI-1", "5",
                                              "2026-01-02", "2026-03-02"]], "gbk"))
    result = invoke(app, ["import", cluster.code, str(good), "--kind", "invoices"])
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(INV_HEADER, [[vendor.uscc, anchor.uscc, "CLI-2", "-5",
                                             "2026-01-02", "2026-03-02"]]))
    report = tmp_path / "errors.csv"
    result = invoke(app, ["import", cluster.code, str(bad), "--kind", "invoices",
                          "--errors-out", str(report)])
    assert result.exit_code == 1
    assert "negative" in report.read_bytes().decode("utf-8-sig")
    assert session.scalar(select(func.count()).select_from(Invoice)
                          .where(Invoice.number == "CLI-2")) == 0


def test_pages_speak_chinese_by_default(client, rm, park):
    cluster = park[0]
    page = client.get(f"/network/{cluster.code}").get_data(as_text=True)
    assert "导入数据" in page and "供应链网络" in page
    page = client.get(f"/network/{cluster.code}/import").get_data(as_text=True)
    assert "上传并导入" in page


def test_a_large_upload_is_imported_by_a_task(client, session, rm, park, app):
    from trellis import tasks

    app.config["NETWORK_IMPORT_INLINE_MAX_BYTES"] = 100  # every upload counts as large
    cluster, anchor, vendor, _ = park
    data = csv_bytes(INV_HEADER, [[vendor.uscc, anchor.uscc, f"BIG-{i}", "1", "2026-01-02",
                                   "2026-03-02"] for i in range(20)])
    response = upload(client, cluster, data)
    assert response.status_code == 303
    run = session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    task = tasks.latest(session, "import_run")
    assert task.kwargs == f'{{"run_id": {run.id}}}' and task.state == "done"
    state = client.get(response.headers["Location"] + ".json").get_json()
    assert state["status"] == "succeeded" and state["created"] == 20


def test_only_the_ticked_vendors_are_invited(client, session, rm, park, make_firm, make_invoice):
    """A clerk ticked 2 suppliers and got 99 invitations: every box came ticked already, so
    ticking meant nothing. No box is ticked until the clerk ticks it, and only those are
    invited."""
    cluster, anchor, vendor, _ = park
    other = make_firm(cluster_id=cluster.id, name="大江机械", phone="13800002222")
    make_invoice(other, anchor, 50_000_00, TODAY - timedelta(days=200), status="confirmed")
    url = f"/network/{cluster.code}/invitations"
    page = client.get(url + "?limits=0").get_data(as_text=True)
    assert "大江机械" in page and "小河五金" in page
    boxes = [line for line in page.splitlines() if 'name="firm_id"' in line]
    assert len(boxes) == 2 and not any("checked" in b for b in boxes), boxes
    response = client.post(url + "?limits=0", data={"csrf_token": csrf_token(client, url),
                                                    "firm_id": [str(other.id)],
                                                    "valid_days": "7"})
    assert response.status_code == 303
    assert [i.firm_id for i in session.scalars(select(Invitation))] == [other.id]
    # Nothing ticked: nothing is created, and the clerk is told in Chinese.
    response = client.post(url + "?limits=0", data={"csrf_token": csrf_token(client, url),
                                                    "valid_days": "7"},
                           headers={"Referer": url})
    assert response.status_code == 303
    assert "请至少勾选一家供应商" in client.get(url + "?limits=0").get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Invitation)) == 1


def test_coverage_with_no_record_of_the_firm_says_so(client, rm, park):
    """Issue 15: 数据覆盖 showed 0 records beside 已覆盖 是. A kind the park's data has and
    this firm has no record in says what that means; 是 alone only with records."""
    cluster, anchor, vendor, far = park
    seen_none = 0
    for firm in (vendor, far, anchor):
        page = client.get(f"/network/firms/{firm.id}").get_data(as_text=True)
        table = page.split('data-testid="firm-coverage"', 1)[1].split("</table>", 1)[0]
        for row in re.findall(r"<tr><td>.*?</tr>", table, flags=re.S):
            cells = [re.sub(r"<[^>]+>", "", c).strip()
                     for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
            rows, covered = int(cells[1].replace(",", "")), cells[4]
            if covered == "是":
                assert rows > 0, cells
            if 'data-testid="covered-none"' in row:
                assert rows == 0 and "没有该企业的记录" in covered, cells
                seen_none += 1
    assert seen_none, "no firm of the park has a covered kind without records"


def _tax_row(page: str) -> str:
    return re.search(r"<tr><td>纳税申报.*?</tr>", page, re.S).group(0)


def test_declared_tax_on_the_firm_record_is_tax_data_on_both_pages(client, session, rm, park):
    """Outside reader 7: demo firm 8's network page said 纳税申报 "无数据：无法评估" while its
    risk page showed 申报增值税销售额 ¥21,215,427.00 (the firm record's figure, which only
    the scorer read). One source now: the network page, the tax screen's coverage and the
    scorer read the same declared figure, labelled with where it was declared."""
    from trellis.onboarding import coverage
    from trellis.scoring import features, frames
    from trellis.trade.models import TaxFiling

    vendor = park[2]
    vendor.tax_vat_sales_fen, vendor.tax_paid_fen, vendor.tax_period = 21_215_427_00, None, "2025"
    session.flush()

    def scored() -> int:
        fr = frames.load(session=session, as_of=TODAY, firm_ids=[vendor.id], cache=False)
        return int(features.compute(fr).loc[vendor.id, "tax_sales_fen"])

    row = _tax_row(client.get(f"/network/firms/{vendor.id}").get_data(as_text=True))
    assert "无法评估" not in row and "是" in row
    assert "申报增值税销售额 ¥21,215,427.00（纳税期间 2025，来自企业档案" in row
    assert scored() == 21_215_427_00
    assert "tax_filings" in coverage.kinds_by_firm(
        session=session, firm_ids=[vendor.id], as_of=TODAY)[vendor.id]["kinds"]
    # A filing ended before today is the later word: both pages and the scorer take it.
    end = TODAY - timedelta(days=1)
    session.add(TaxFiling(firm_id=vendor.id, period_start=end.replace(day=1), period_end=end,
                          vat_sales_fen=1_234_00))
    session.flush()
    row = _tax_row(client.get(f"/network/firms/{vendor.id}").get_data(as_text=True))
    assert "申报增值税销售额 ¥1,234.00" in row and "来自纳税申报表" in row
    assert scored() == 1_234_00


def test_a_cycle_names_its_amount_as_the_smallest_leg(client, rm, park, make_invoice):
    """Outside reader 7: the network page's cycle amount (the smallest leg's volume) and the
    risk page's cycle volume (every leg's invoices added up) read as the same "循环交易额"."""
    _cluster, anchor, vendor, far = park
    make_invoice(anchor, far, 5_000_00, TODAY - timedelta(days=10))
    page = client.get(f"/network/firms/{vendor.id}").get_data(as_text=True)
    assert "环路中交易额最小的一段近365天为 ¥5,000.00，即最多可能绕行一整圈的金额" in page


def test_a_firm_with_a_loan_is_not_offered_an_account(client, session, rm, park):
    """Outside reading pages 7: the invitation list (尚未开户, no account yet) held firms
    that already borrow from the bank, though none of theirs has a login."""
    from datetime import date

    from trellis.ledger.models import Loan, Product

    cluster, anchor, vendor, far = park
    url = f"/network/{cluster.code}/invitations?limits=0"
    assert "小河五金" in client.get(url).get_data(as_text=True)
    product = session.scalars(select(Product).where(Product.code == "RF-STD")).one()
    session.add(Loan(firm_id=vendor.id, product_id=product.id, amount_fen=1_000_000,
                     rate_micro=72_000, due_date=date(2027, 3, 31),
                     waterfall=["penalty", "fees", "interest", "principal"]))
    session.flush()
    page = client.get(url).get_data(as_text=True)
    assert "小河五金" not in page


def test_the_invitation_list_says_on_what_basis_a_limit_is_given(client, session, rm, park):
    """Outside reader 10, R6: limits were listed for firms without accounts while the park's
    settings said "没有有效的数据依据：未授权的企业不会被评分". The list says on what basis a
    figure is given, firm by firm; a firm without consent or park basis gets none."""
    from trellis.accounts.services import grant_consent

    cluster, anchor, vendor, far = park
    url = f"/network/{cluster.code}/invitations?limits=1"
    page = client.get(url).get_data(as_text=True)
    row = next(r for r in page.split("<tr") if "小河五金" in r)
    assert 'data-basis="none"' in row and "未同意" in row and "未评分" in row
    assert "¥" not in row.split('class="num"')[3]            # no limit without a basis
    assert "（这 " in page and "园区登记的数据依据（未登记）" in page
    grant_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    session.flush()
    row = next(r for r in client.get(url).get_data(as_text=True).split("<tr")
               if "小河五金" in r)
    assert 'data-basis="consent"' in row and "已同意（" in row
