"""The auditor's chain pages and the chain API."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import date

import pytest
from sqlalchemy import select, update

from tests.platform.conftest import csrf_token, login
from trellis import clock
from trellis.chain import jobs, verify
from trellis.chain.models import Batch, BatchState, Document
from trellis.db import transaction
from trellis.trade.models import Invoice

TODAY = clock.today().isoformat()


@pytest.fixture
def client(chain_app):
    return chain_app.test_client()


def anchor_invoices(session_factory, make_firm, app_settings, *, first_id=None):
    """Five invoices of one seller, anchored: one batch of four, the fifth waits.

    *first_id*: the invoices' row ids start there, as in a database in use for a while
    (PostgreSQL's sequences are not rolled back between tests, SQLite's ids are: without
    it the ids are 1-5 on SQLite and whatever the worker's earlier tests left on
    PostgreSQL)."""
    with transaction(session_factory) as s:
        seller, buyer = make_firm(name="丰收包装"), make_firm(role="anchor")
        s.add_all(Invoice(id=None if first_id is None else first_id + i,
                          seller_id=seller.id, buyer_id=buyer.id, number=f"W-{i}",
                          amount_fen=2000 + i, issue_date=date(2026, 2, 2),
                          due_date=date(2026, 4, 2)) for i in range(5))
    jobs.anchor_pending(session_factory=session_factory, settings=app_settings)
    # as the scheduler's tracking job would: a loaded machine can leave a receipt for later
    for _ in range(20):
        with transaction(session_factory) as s:
            if not s.scalars(select(Batch.id).where(Batch.state == BatchState.SUBMITTED)).first():
                break
        jobs.track_confirmations(session_factory=session_factory, settings=app_settings)
    with transaction(session_factory) as s:
        return {"docs": list(s.scalars(select(Document).order_by(Document.id))),
                "seller": seller, "buyer": buyer}


@pytest.fixture
def anchored(chain_app, session_factory, make_firm, app_settings):
    return anchor_invoices(session_factory, make_firm, app_settings)


@pytest.fixture
def auditor(client, make_user):
    user = make_user("auditor")
    login(client, user)
    return user


@pytest.mark.parametrize("role, status", [("auditor", 200), ("admin", 200), ("rm", 403),
                                          ("vendor", 403)])
def test_only_auditors_and_admins_see_the_pages(client, make_user, make_firm, role, status):
    firm = make_firm() if role == "vendor" else None
    login(client, make_user(role, firm=firm))
    assert client.get("/chain/").status_code == status


def test_batches_list_and_detail(client, auditor, anchored):
    page = client.get("/chain/").get_data(as_text=True)
    assert 'data-ok="true"' in page and page.count('data-batch="') == 1
    assert "待上链文件" in page  # the chain area's own Chinese catalog
    batch_id = anchored["docs"][0].batch_id
    detail = client.get(f"/chain/batches/{batch_id}").get_data(as_text=True)
    assert detail.count("/bundle.json") == 4  # one batch of four; the fifth waits
    tree = client.get(f"/chain/batches/{batch_id}/tree.json")
    assert json.loads(tree.data)["format"] == "standard-v1"


def test_a_document_proof_step_by_step_with_a_verdict(client, auditor, anchored):
    doc = next(d for d in anchored["docs"] if d.batch_id)
    page = client.get(f"/chain/documents/{doc.id}").get_data(as_text=True)
    assert page.count('class="step-pass"') == len(verify.REQUIRED)
    # reader 12, G14: "链 131277322940537, 区块 185, 交易 0x… (批次 …)"
    assert re.search(r"链 \d+，区块 \d+，交易 <span", page), page
    assert "（<a href=\"/chain/batches/" in page
    assert "区块链（内置）" in client.get("/chain/").get_data(as_text=True)
    assert 'data-verdict="verified"' in page
    waiting = next(d for d in anchored["docs"] if not d.batch_id)
    page = client.get(f"/chain/documents/{waiting.id}").get_data(as_text=True)
    assert "排队中" in page
    bundle = client.get(f"/chain/documents/{doc.id}/bundle.json")
    assert bundle.status_code == 200 and "attachment" in bundle.headers["Content-Disposition"]
    assert json.loads(bundle.data)["document"]["content_hash"] == doc.content_hash
    assert client.get(f"/chain/documents/{waiting.id}/bundle.json").status_code == 409
    assert client.get("/chain/documents/999999").status_code == 404


def test_the_verdict_carries_the_chain_scope_and_no_mainnet_word(client, auditor, anchored):
    """Reader 13, J8: 主链 reads as mainnet, and the verdict "上链记录有效" on the embedded
    chain must say that only this platform can read that chain."""
    doc = next(d for d in anchored["docs"] if d.batch_id)
    page = client.get(f"/chain/documents/{doc.id}").get_data(as_text=True)
    assert "主链" not in page and "上链区块仍在当前规范链上" in page
    verdict = re.search(r'data-verdict="verified">(.*?)</p>', page, re.S).group(1)
    assert "上链记录有效" in verdict and "内置的测试链" in verdict and "不是他人可以核验" in verdict
    bundle = client.get(f"/chain/documents/{doc.id}/bundle.json").data
    checked = upload(client, {"upload": bundle}).get_data(as_text=True)
    verdict = re.search(r'data-verdict="verified">(.*?)</p>', checked, re.S).group(1)
    assert "内置的测试链" in verdict, verdict


def upload(client, files: dict):
    data = {"csrf_token": csrf_token(client, "/chain/check")}
    data.update({k: (io.BytesIO(v), f"{k}.json") for k, v in files.items()})
    return client.post("/chain/check", data=data, content_type="multipart/form-data")


# One matched document on the check page: its link (the document's number), its name in
# words and the steps up to the next match.
MATCH = re.compile(r'<h3><a href="/chain/documents/(\d+)">([^<]*)</a></h3>(.*?)(?=<h3>|</section>)',
                   re.S)


def matches(page: str) -> list[tuple[int, str, str | None]]:
    """The documents the check page found: (document number, words, verdict) each."""
    out = []
    for number, words, body in MATCH.findall(page):
        verdict = re.search(r'data-verdict="([a-z-]+)"', body)
        out.append((int(number), words.strip(), verdict.group(1) if verdict else None))
    return out


def test_checking_uploads(client, auditor, anchored):
    _check_uploads(client, anchored)


def test_checking_uploads_names_the_document_whatever_its_row_id(
        chain_app, session_factory, make_firm, app_settings, client, auditor):
    """The upload check names the document it found by its link and its words, not by a
    row id that happens to appear in the page. (The check used to look for the invoice's
    row id anywhere in the page, which has named documents in words since the reader
    findings: an id of one digit is always somewhere in a page of hashes, the id of a
    database in use, such as a PostgreSQL worker's late in the full suite, is not.)"""
    anchored = anchor_invoices(session_factory, make_firm, app_settings, first_id=9_724_051)
    assert anchored["docs"][0].doc_id == "9724051"
    _check_uploads(client, anchored)


def _check_uploads(client, anchored):
    doc = next(d for d in anchored["docs"] if d.batch_id)
    number = json.loads(doc.canonical)["number"]
    original = client.get(f"/chain/documents/{doc.id}/document.json").data
    found = upload(client, {"upload": original}).get_data(as_text=True)
    assert matches(found) == [(doc.id, f"发票 {number}", "verified")]
    changed = upload(client, {"upload": original.replace(b"W-", b"X-")}).get_data(as_text=True)
    assert 'data-verdict="unknown"' in changed and matches(changed) == []
    bundle = client.get(f"/chain/documents/{doc.id}/bundle.json").data
    ok = upload(client, {"upload": bundle, "original": original}).get_data(as_text=True)
    assert 'data-verdict="verified"' in ok
    bad = upload(client, {"upload": bundle, "original": original + b" "}).get_data(as_text=True)
    assert 'data-verdict="not-verified"' in bad and 'class="step-fail"' in bad


def test_full_audit_runs_and_reports_a_tampered_row(client, auditor, anchored,
                                                    session_factory):
    invoice_doc = next(d for d in anchored["docs"] if d.batch_id)
    with transaction(session_factory) as s:
        s.execute(update(Invoice).where(Invoice.id == invoice_doc.source_id)
                  .values(amount_fen=1))
    response = client.post("/chain/audit", data={
        "csrf_token": csrf_token(client, "/chain/audit"), "date_from": TODAY,
        "date_to": TODAY})
    assert response.status_code == 302
    run_id = int(re.search(r"/chain/audit/(\d+)", response.headers["Location"]).group(1))
    state = client.get(f"/chain/audit/{run_id}/state.json").get_json()
    assert state == {"id": run_id, "state": "done", "state_words": "已完成", "checked": 4,
                     "total": 4, "percent": 100, "discrepancies": 1, "finished": True,
                     "error": None}
    page = client.get(f"/chain/audit/{run_id}").get_data(as_text=True)
    assert '<span id="audit-state">已完成</span>' in page   # not "done" (issue 15)
    # reader 10, R11: the scope is the documents submitted in the period, not dated in it
    assert "期间提交上链的全部文件（不论单据本身的日期）" in page and "单据日期" not in page
    listing = client.get("/chain/audit").get_data(as_text=True)
    assert "已完成" in listing and "<td>done</td>" not in listing
    assert 'data-verdict="discrepancies"' in page and 'data-kind="source_changed"' in page
    assert "源数据行被改动" in page   # the kind in words (issue 15)
    assert "其源数据行在锚定后被改动" in page and "amount_fen" not in page   # the detail too
    # the page is the report people read; the JSON is labelled as data for other systems
    report_section = page[page.index('id="report"'):]
    assert "审计报告" in report_section and "检查完成于" in report_section
    downloads = report_section[report_section.index('id="report-downloads"'):]
    downloads = downloads[:downloads.index("</p>")]
    assert "下载报告数据（JSON 格式，供其他系统使用）" in downloads
    assert "报告（JSON）" not in page
    csv_text = client.get(f"/chain/audit/{run_id}/report.csv").get_data(as_text=True)
    assert "source_changed" in csv_text and invoice_doc.doc_id in csv_text
    header = csv_text.lstrip("\ufeff").splitlines()[0]
    assert header == "差异类型,批次号,文件号,单据类型,单据号,详情"
    report = json.loads(client.get(f"/chain/audit/{run_id}/report.json").data)
    assert report["discrepancy_count"] == 1
    bad = client.post("/chain/audit", data={"csrf_token": csrf_token(client, "/chain/audit"),
                                            "date_from": TODAY, "date_to": "2000-01-01"})
    assert bad.status_code == 422


def test_api_proof_status_and_verify(client, anchored, make_user, session_factory):
    doc = next(d for d in anchored["docs"] if d.batch_id)
    login(client, make_user("auditor"))
    assert client.get("/api/v1/chain/status").get_json()["ok"] is True
    batches = client.get("/api/v1/chain/batches?state=included").get_json()["batches"]
    assert len(batches) == 1
    bundle = client.get(f"/api/v1/chain/documents/invoice/{doc.doc_id}/proof").get_json()
    assert bundle["document"]["content_hash"] == doc.content_hash
    token = csrf_token(client, "/chain/check")
    report = client.post("/api/v1/chain/verify", json={"bundle": bundle},
                         headers={"X-CSRFToken": token}).get_json()
    assert report["ok"] is True and len(report["steps"]) == len(verify.REQUIRED)
    forged = base64.b64encode(b'{"doc_type":"invoice"}').decode()
    report = client.post("/api/v1/chain/verify", json={"bundle": bundle,
                                                       "document_base64": forged},
                         headers={"X-CSRFToken": token}).get_json()
    assert report["ok"] is False


def test_api_firms_get_proofs_of_their_own_invoices_only(client, anchored, make_user,
                                                         make_firm):
    doc = next(d for d in anchored["docs"] if d.batch_id)
    login(client, make_user("vendor", firm=anchored["seller"]))
    assert client.get(f"/api/v1/chain/documents/{doc.id}/proof").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, make_user("vendor", firm=make_firm()))
    assert client.get(f"/api/v1/chain/documents/{doc.id}/proof").status_code == 403


def test_every_chain_page_string_has_a_chinese_translation():
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[3] / "trellis" / "platform"
    with (root / "chain" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
          ).open("rb") as fh:
        known = {m.id: m.string for m in read_po(fh) if m.id}
    missing, seen = [], 0
    for folder in (root / "chain", root / "templates" / "chain"):
        for filename, _line, message, *_ in extract_from_dir(
                folder, [("**.py", "python"), ("**.html", "jinja2")],
                keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None}):
            msgid = message if isinstance(message, str) else message[0]
            seen += 1
            if msgid and not known.get(msgid):
                missing.append(f"{filename}: {msgid}")
    assert seen > 50 and missing == []


def test_a_bad_trusted_file_still_trusts_our_own_registry(app_settings, session_factory,
                                                         anchored, make_user, tmp_path,
                                                         caplog):
    from trellis.platform import create_app

    bad = tmp_path / "trusted.json"
    bad.write_text("{not json")
    settings = app_settings.__class__(**{**app_settings.__dict__,
                                         "chain_trusted": str(bad)})
    app = create_app({"TESTING": True}, settings=settings, session_factory=session_factory)
    web = app.test_client()
    login(web, make_user("auditor"))
    doc = next(d for d in anchored["docs"] if d.batch_id)
    bundle = web.get(f"/chain/documents/{doc.id}/bundle.json").data
    page = upload(web, {"upload": bundle}).get_data(as_text=True)
    assert 'data-verdict="verified"' in page
    assert "TRELLIS_CHAIN_TRUSTED is unusable" in caplog.text


def test_checking_a_bundle_with_its_manifest_on_the_page_and_the_api(client, auditor,
                                                                     anchored):
    doc = next(d for d in anchored["docs"] if d.batch_id)
    bundle = client.get(f"/chain/documents/{doc.id}/bundle.json").data
    tree = client.get(f"/chain/batches/{doc.batch_id}/tree.json").data
    page = upload(client, {"upload": bundle, "manifest": tree}).get_data(as_text=True)
    assert 'data-step="manifest"' in page and 'data-verdict="verified"' in page
    # the result names the document it verified, not only its kind (issue 15)
    from trellis.platform.chain.words import doc_words

    with client.application.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        name = doc_words(doc)
    heading = page.split('data-testid="checked-document">')[1].split("</h2>")[0]
    assert name in heading and name.split()[-1] not in ("发票", "")
    wrong = upload(client, {"upload": bundle, "manifest": tree + b" "}).get_data(as_text=True)
    assert 'data-verdict="not-verified"' in wrong
    token = csrf_token(client, "/chain/check")
    report = client.post("/api/v1/chain/verify", json={
        "bundle": json.loads(bundle), "manifest_base64": base64.b64encode(tree).decode()},
        headers={"X-CSRFToken": token}).get_json()
    assert report["ok"] is True
    assert [s["ok"] for s in report["steps"] if s["name"] == "manifest"] == [True]
    bad = client.post("/api/v1/chain/verify", json={
        "bundle": json.loads(bundle), "manifest_base64": "%%%"},
        headers={"X-CSRFToken": token})
    assert bad.status_code == 422 and "manifest_base64" in bad.get_data(as_text=True)


def test_documents_and_proof_steps_read_in_words(client, auditor, anchored):
    """Issue 15: a batch lists what each document is (发票 W-0), not ``invoice`` and a
    table key; the list pages; the committed fields read as words with yuan; and each
    proof step's detail line is in Chinese (hashes and numbers apart)."""
    doc = next(d for d in anchored["docs"] if d.batch_id)
    detail = client.get(f"/chain/batches/{doc.batch_id}").get_data(as_text=True)
    assert "发票 W-0" in detail and 'data-list-count="4"' in detail
    assert 'data-pages="1"' in detail
    two = client.get(f"/chain/batches/{doc.batch_id}?per_page=2&page=2").get_data(as_text=True)
    assert two.count("/bundle.json") == 2 and 'rel="prev"' in two
    page = client.get(f"/chain/documents/{doc.id}").get_data(as_text=True)
    assert "amount_fen" not in page and "seller_uscc" not in page
    assert "¥20.00" in page and "卖方统一社会信用代码" in page
    lines = re.findall(r'<div class="mono small wrap">(.*?)</div>', page, re.S)
    assert len(lines) == len(verify.REQUIRED)
    for line in lines:
        words = re.sub(r"0x[0-9a-fA-F]+|[0-9a-f]{64}|SHA-256|ETH", " ", line)
        assert re.search(r"[\u4e00-\u9fff]", line), line
        assert not re.search(r"[A-Za-z]{3,}", words), line
    index = client.get("/chain/?state=finalized").get_data(as_text=True)
    assert ">finalized<" not in index and 'data-list-count="' in index


def test_the_vendor_reads_the_chain_state_in_words(client, make_user, anchored):
    """「已上链 · included tx 0x…」 on an invoice page: chain states and ``tx`` in English."""
    doc = next(d for d in anchored["docs"] if d.batch_id)
    login(client, make_user("vendor", firm=anchored["seller"]))
    page = client.get(f"/vendor/trade/invoice/{doc.source_id}").get_data(as_text=True)
    assert "已打包上链" in page, page[:2000]
    assert "· included" not in page and "tx 0x" not in page


def test_chain_errors_read_in_words_the_library_text_for_admins_only(
        client, anchored, make_user, app_settings, session_factory):
    """A node that does not answer read 「the Ethereum node does not answer (reading the
    chain id): HTTPConnectionPool(...)」 on the chain pages. People read the catalogue's
    words and what to do; the library's text is an administrator's technical detail
    (issue 15)."""
    import requests

    from trellis.chain import anchoring, health, rpc
    from trellis.chain.errors import ChainUnavailable

    library = "HTTPConnectionPool(host='127.0.0.1', port=9): Connection refused"
    with pytest.raises(ChainUnavailable) as raised, rpc.node_errors("reading the chain id"):
        raise requests.ConnectionError(library)
    batch_id = anchored["docs"][0].batch_id
    with transaction(session_factory) as s:
        s.get(Batch, batch_id).last_error = anchoring.for_people(raised.value)
    health.record_error(app_settings, raised.value)
    try:
        login(client, make_user("auditor"))
        index = client.get("/chain/").get_data(as_text=True)
        batch = client.get(f"/chain/batches/{batch_id}").get_data(as_text=True)
        for page, where in ((index, 'id="last-chain-error"'), (batch, 'id="last-problem"')):
            shown = page[page.index(where):]
            assert "区块链节点没有响应" in shown[:shown.index("</")]
            assert "Connection refused" not in page and "does not answer" not in page
        admin = client.application.test_client()
        login(admin, make_user("admin"))
        index = admin.get("/chain/").get_data(as_text=True)
        technical = index[index.index("data-technical"):]
        assert "Connection refused" in technical[:technical.index("</details>")]
    finally:
        health.record_error(app_settings, None)


def test_a_batch_names_its_chain_and_reads_the_fee_as_a_network_charge(client, auditor,
                                                                       anchored, session):
    """Outside reader 7: a batch read "0.00010468 ETH" beside "链 ID 31,337", which a bank
    auditor takes for money owed. The chain is named with its id as digits; the fee is
    the gas used, its price in gwei and the total in ether, said to be the network's
    charge to the platform's anchoring account."""
    from trellis.chain.models import Batch

    batch = session.get(Batch, anchored["docs"][0].batch_id)
    assert batch.fee_wei and batch.gas_used and batch.chain_id
    page = client.get(f"/chain/batches/{batch.id}").get_data(as_text=True)
    chain = re.search(r'data-testid="chain">(.*?)</dd>', page, re.S).group(1)
    assert f"链 ID {batch.chain_id}" in chain and "," not in chain.split("链 ID")[1], chain
    fee = re.search(r'data-testid="fee">(.*?)</span>', page, re.S).group(1)
    assert f"{batch.gas_used:,} 单位" in fee and "gwei" in fee, fee
    assert "以太币（ETH）" in fee and "不是任何人的应付款项" in fee, fee
    eth = re.search(r"合计 ([\d.]+) 以太币", fee).group(1)
    assert abs(float(eth) * 10**18 - batch.fee_wei) < 10**6, (eth, batch.fee_wei)


def test_check_with_no_file_says_what_to_choose(client, auditor):
    """Reader R18: 「核验」 with no file chosen (a browser sends an empty file part) says
    what to do, with a 4xx, instead of reloading the page silently."""
    token = csrf_token(client, "/chain/check")
    for data in ({"csrf_token": token, "upload": (io.BytesIO(b""), "")},
                 {"csrf_token": token}):
        reply = client.post("/chain/check", data=data, content_type="multipart/form-data")
        page = reply.get_data(as_text=True)
        assert reply.status_code == 422
        assert "请先选择要核验的文件或证明包。" in page


def test_on_the_embedded_chain_no_page_claims_anyone_can_check(client, auditor, anchored,
                                                               make_user, chain_app):
    """Issue 15, F20: in the demo every "anchored" refers to the test chain inside this
    server. The footer ("every invoice anchored on chain") and the proof page ("anyone can
    check ... against any node") read stronger than that: they now say it is a test chain
    only this platform can read, and the page gives no command nobody else could run."""
    doc = next(d for d in anchored["docs"] if d.batch_id)
    page = client.get(f"/chain/documents/{doc.id}").get_data(as_text=True)
    assert 'id="who-can-check" data-chain="embedded"' in page
    assert "此证明登记在本服务器内置的测试链上：该链只有本平台能读取" in page
    assert "无需登录本平台" not in page and "--rpc" not in page
    assert "每张发票均已上链存证" not in page
    assert "发票、订单与确权记录登记在本服务器内置的测试链上：该链只有本平台能读取" in page
    vendor = chain_app.test_client()
    login(vendor, make_user("vendor", firm=anchored["seller"]))
    page = vendor.get(f"/vendor/trade/invoice/{doc.source_id}").get_data(as_text=True)
    assert "已登记于本服务器内置测试链" in page and ">已上链 ·" not in page


@pytest.mark.parametrize("overrides, claim, check, command", [
    ({"chain_url": "https://sepolia.example.org/v3/SECRET", "chain_id": 11155111},
     "发票、订单与确权记录在以太坊 Sepolia 测试网上链存证：任何人都可以向该网络的任一节点查询",
     "无需登录本平台，任何人都可以用命令行核验工具向以太坊 Sepolia 测试网的任一节点查询", True),
    ({"chain_url": "http://127.0.0.1:8545", "chain_id": 31337},
     "其节点位于 127.0.0.1:8545：只有能访问该节点的人才能核验", "只有能访问该节点的人", True),
    ({}, "只有本平台能读取", "平台之外的人无法对照区块链核验证明包", False),
])
def test_the_words_follow_the_configured_chain(chain_app, overrides, claim, check, command):
    """Reader R19 still holds where a bundle can be checked outside: the sentence says no
    sign-in is needed (not "no Trellis") and names the network."""
    from tests.chain.conftest import make_settings
    from trellis.platform.chain.words import scope_words

    if overrides:
        overrides = {**overrides, "chain_key": "0x" + "11" * 32}
    with chain_app.test_request_context():
        found = scope_words(make_settings(**overrides))
    assert claim in found.claim and check in found.check and found.command is command
    assert "SECRET" not in found.claim + found.check and "无需 Trellis" not in found.check


def test_a_bundle_whose_document_breaks_its_own_rules_says_which_field(client, auditor,
                                                                       anchored):
    """Outside reader 10, R13: one character changed in a bundle's seller USCC showed
    "(none: seller_uscc: bad check character: expected G, found K)" twice, in English with
    the field's key. The leaf step says in Chinese that the document breaks its own rules,
    names the field by its label, and fails."""
    doc = next(d for d in anchored["docs"] if d.batch_id)
    bundle = json.loads(client.get(f"/chain/documents/{doc.id}/bundle.json").data)
    fields = json.loads(bundle["document"]["canonical"])
    uscc = fields["seller_uscc"]
    fields["seller_uscc"] = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")  # a bad check char
    bundle["document"]["canonical"] = json.dumps(fields, ensure_ascii=False,
                                                 separators=(",", ":"), sort_keys=True)
    page = upload(client, {"upload": json.dumps(bundle).encode()}).get_data(as_text=True)
    assert 'data-verdict="not-verified"' in page
    leaf = page.split('data-step="leaf"', 1)[1].split("</li>", 1)[0]
    assert "step-fail" in page.split('data-step="leaf"', 1)[0][-80:]
    assert "文件不符合其自身规则" in leaf and "卖方统一社会信用代码" in leaf, leaf
    for english in ("(none", "seller_uscc", "bad check character"):
        assert english not in page


def test_an_auditor_finds_a_documents_proof_by_its_number(client, auditor, anchored):
    """Outside reader 10, R12: the chain search took only hashes; an invoice number gave
    "没有符合搜索条件的记录。暂无批次…" (there were 184 batches), and a number listed in a
    batch was not found inside it. The index finds documents by their number and links
    their proofs; a batch's page finds its document by number."""
    doc = next(d for d in anchored["docs"] if d.batch_id)
    number = json.loads(doc.canonical)["number"]
    page = client.get("/chain/", query_string={"q": number}).get_data(as_text=True)
    assert 'id="found-documents"' in page, (number, doc.canonical[:300],
                                            page[page.find("list-bar"):][:1500])
    found = page.split('id="found-documents"', 1)[1].split("</section>", 1)[0]
    assert f'href="/chain/documents/{doc.id}"' in found and number in found
    assert "暂无批次" not in page and "没有与之相符的批次根哈希或交易哈希" in page
    # reader 11, F21: nor does the search bar say nothing matched above what it found
    assert "没有符合搜索条件的记录" not in page
    inside = client.get(f"/chain/batches/{doc.batch_id}",
                        query_string={"q": number}).get_data(as_text=True)
    assert f'/chain/documents/{doc.id}"' in inside
    nothing = client.get("/chain/", query_string={"q": "no-such-number-x"}).get_data(
        as_text=True)
    assert 'id="found-documents"' not in nothing and "没有符合搜索条件的记录" in nothing


def test_the_operation_log_records_what_a_check_found(client, auditor, anchored, session):
    """Outside reader 10, R25: the log said only "核验证明 链上文件 类型：证明包", whether the
    proof passed or failed. It records the verdict and the document's number."""
    from trellis.accounts.models import AuditEvent
    from trellis.platform.admin import words as admin_words

    doc = next(d for d in anchored["docs"] if d.batch_id)
    number = json.loads(doc.canonical)["number"]
    bundle = client.get(f"/chain/documents/{doc.id}/bundle.json").data
    original = client.get(f"/chain/documents/{doc.id}/document.json").data
    upload(client, {"upload": bundle, "original": original})
    upload(client, {"upload": bundle, "original": original + b" "})
    upload(client, {"upload": b"not anything anchored"})
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "chain.check_upload")
                             .order_by(AuditEvent.id)).all()
    assert [e.detail["verdict"] for e in events] == ["verified", "not_verified", "not_found"]
    assert events[0].detail["number"] == number and "number" not in events[2].detail
    with client.application.test_request_context("/"):
        said = dict(admin_words.detail_words(events[1].detail))
    assert said["结果"] == "核验未通过：有检查项失败" and said["编号"] == number


def test_the_auditor_reads_what_each_chain_value_is(client, auditor, anchored, session):
    """Outside reader 11 (R17): 以太币, gas and the contract and account addresses stood
    with no words around them. Each is said in plain Chinese, what it is and why it is
    there, and the values stay."""
    from trellis.chain.models import Batch

    batch = session.get(Batch, anchored["docs"][0].batch_id)
    page = client.get(f"/chain/batches/{batch.id}").get_data(as_text=True)
    said = dict(re.findall(r'data-explains="(\w+)">(.*?)</span>', page, re.S))
    assert "存证合约地址" in said["contract"] and "核验证明时以此地址为准" in said["contract"]
    assert "写入区块链的那笔交易" in said["transaction"]
    assert "gas（燃料）" in said["fee"] and "以太币（ETH）是区块链自身的货币" in said["fee"]
    assert batch.contract_address in page and batch.tx_hash in page
    index = client.get("/chain/").get_data(as_text=True)
    said = dict(re.findall(r'data-explains="(\w+)">(.*?)</span>', index, re.S))
    assert "存证合约地址" in said["contract"]
    assert "平台自己的上链账户地址" in said["account"] and "以太币" in said["account"]


def test_the_auditor_sees_each_root_anchored_again(client, auditor, anchored, app_settings,
                                                   session_factory):
    """Issue 15, F20: a root the chain lost and anchored again was told only by "times
    anchored: 2". The batches page and the batch's page now list the re-anchoring: the
    root, when it was found lost and why, the transaction it had and the new one."""
    from trellis.chain import client as chain_client

    page = client.get("/chain/").get_data(as_text=True)
    assert "目前没有需要重新上链的根哈希。" in page
    with transaction(session_factory) as s:
        old = s.scalars(select(Batch)).one()
        old_tx, batch_id = old.tx_hash, old.id
    chain_client.use_chain(app_settings, chain_client.Chain.embedded())   # restarted, empty
    jobs.anchor_pending(session_factory=session_factory, settings=app_settings)
    with transaction(session_factory) as s:
        new_tx = s.get(Batch, batch_id).tx_hash   # a fresh embedded chain may sign alike
    for url in ("/chain/", f"/chain/batches/{batch_id}"):
        page = client.get(url).get_data(as_text=True)
        section = page[page.index('id="reanchors"'):]
        assert "重新上链的根哈希" in page and "不在当前链上：内置测试链已重启" in section, url
        row = section.split("<tr data-reanchor=")[1].split("</tr>")[0]
        # the root, the lost transaction and the new one (alike or not)
        assert f'data-hash="{old_tx}"' in row and f'data-hash="{new_tx}"' in row, url
        assert row.count('data-hash="0x') == 3, url
        assert "尚未完成" not in section, url


def test_a_node_not_pinned_is_named_by_the_chain_its_batches_recorded(chain_app, session):
    from tests.chain.conftest import make_settings
    from trellis.platform.chain.words import scope_words

    session.add(Batch(root="0x" + "ab" * 32, leaf_count=1, manifest_hash="0x" + "cd" * 32,
                      chain_id=11155111, state=BatchState.FINALIZED))
    session.flush()
    settings = make_settings(chain_url="https://rpc.example.org/KEY", chain_key="0x" + "11" * 32)
    with chain_app.test_request_context():
        found = scope_words(settings, session)
        unnamed = scope_words(settings)
    assert found.kind == "network" and "以太坊 Sepolia 测试网" in found.claim
    assert "链 ID 尚不知道的区块链" in unnamed.claim and "KEY" not in found.claim


def test_the_audit_counts_documents_still_waiting_and_refuses_a_future_period(
        client, auditor, anchored):
    """Reader 12, G22/G23: the audit said "0 份尚未上链" while documents of the period
    waited for a batch; a period wholly in the future was accepted and run."""
    waiting = sum(1 for d in anchored["docs"] if d.batch_id is None)
    assert waiting == 1
    response = client.post("/chain/audit", data={
        "csrf_token": csrf_token(client, "/chain/audit"), "date_from": TODAY,
        "date_to": TODAY})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 份待上链，未核验。" in page
    future = client.post("/chain/audit", data={
        "csrf_token": csrf_token(client, "/chain/audit"), "date_from": "2030-01-01",
        "date_to": "2030-12-31"})
    assert future.status_code == 422
    assert "审计期间从 2030-01-01 开始，在今天之后" in future.get_data(as_text=True)


def test_every_proof_download_says_its_chain_scope(client, chain_app, make_user, anchored):
    """Reader 13, J15: the API's proof answer carried ``Trellis-Chain-Scope``, the
    vendor's download of the same bundle (/vendor/proofs/N) did not."""
    doc = next(d for d in anchored["docs"] if d.batch_id)
    login(client, make_user("vendor", firm=anchored["seller"]))
    got = client.get(f"/vendor/proofs/{doc.id}")
    assert got.status_code == 200, got.status_code
    assert got.headers["Trellis-Chain-Scope"].startswith("embedded; chain-id=")
    assert 'rel="describedby"' in got.headers["Link"]
    auditor = chain_app.test_client()
    login(auditor, make_user("auditor"))
    got = auditor.get(f"/chain/documents/{doc.id}/bundle.json")
    assert got.headers["Trellis-Chain-Scope"].startswith("embedded")
