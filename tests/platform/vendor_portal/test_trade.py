"""A vendor enters its invoices and orders by form or by file; bad input changes nothing."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token
from tests.vouchers.factories import invoice, order
from trellis import clock
from trellis.trade.models import DocStatus, Invoice, PurchaseOrder

TODAY = clock.today()


def english(client):
    with client.session_transaction() as s:
        s["locale"] = "en"


@pytest.fixture
def vendor(client, logged_in, chain):
    user = logged_in("vendor", firm=chain.tier1)
    english(client)
    return user


def invoice_form(chain, **kw):
    return {"buyer": chain.anchor.name, "number": "33001234", "amount": "12,500.50",
            "issue_date": (TODAY - timedelta(days=3)).isoformat(),
            "due_date": (TODAY + timedelta(days=57)).isoformat(), "order_number": "", **kw}


def test_enter_an_invoice(client, session, chain, vendor):
    url = "/vendor/trade/invoices/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      **invoice_form(chain)})
    assert response.status_code == 303
    inv = session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).one()
    assert (inv.buyer_id, inv.amount_fen, inv.status) == (chain.anchor.id, 1_250_050, "pending")
    listing = client.get("/vendor/trade?kind=invoice").get_data(as_text=True)
    assert "33001234" in listing and "Awaiting confirmation" in listing
    # reader Q2 (ninth session): the message names the buyer the typed name matched
    assert f"Invoice 33001234 to {chain.anchor.name} saved" in listing


def test_a_buyer_matched_from_a_fragment_is_named_in_chinese(client, session, chain, vendor):
    """Reader Q2: a piece of a name that only one firm has saves the document; the
    message says which buyer it went to."""
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    url = "/vendor/trade/invoices/new"
    fragment = chain.anchor.name[1:-1]
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      **invoice_form(chain, buyer=fragment)})
    assert response.status_code == 303
    listing = client.get("/vendor/trade?kind=invoice").get_data(as_text=True)
    assert f"发票 33001234 已保存（买方：{chain.anchor.name}）" in listing


@pytest.mark.parametrize("change, field", [
    ({"number": ""}, "number"), ({"number": "x" * 65}, "number"),
    ({"amount": ""}, "amount"), ({"amount": "abc"}, "amount"), ({"amount": "-5"}, "amount"),
    ({"amount": "1.234"}, "amount"), ({"amount": "0"}, "amount"),
    ({"amount": "1e30"}, "amount"),
    ({"issue_date": "2026-13-45"}, "issue_date"),
    ({"issue_date": (TODAY + timedelta(days=2)).isoformat()}, "issue_date"),
    ({"due_date": (TODAY - timedelta(days=30)).isoformat()}, "due_date"),
    ({"buyer": ""}, "buyer"), ({"buyer": "no such firm"}, "buyer"), ({"buyer": "0"}, "buyer"),
    ({"order_number": "PO-NOPE"}, "order_number"),
])
def test_bad_invoice_input_changes_nothing(client, session, chain, vendor, change, field):
    url = "/vendor/trade/invoices/new"
    data = invoice_form(chain, **change)
    response = client.post(url, data={"csrf_token": csrf_token(client, url), **data})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body
    if field != "number":
        assert 'value="33001234"' in body  # what was typed is kept
    assert session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).all() == []


def test_another_firms_buyer_id_is_refused(client, session, chain, vendor, make_firm,
                                           make_cluster):
    stranger = make_firm(role="anchor", cluster_id=make_cluster().id)
    url = "/vendor/trade/invoices/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      **invoice_form(chain, buyer=stranger.uscc)})
    assert response.status_code == 422
    assert f"No firm of your industrial park has the USCC {stranger.uscc}" \
        in response.get_data(as_text=True)
    assert session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).all() == []


def test_the_buyer_is_found_by_typing_part_of_its_name_or_uscc(client, session, chain, vendor):
    """Reader R23: the entry form offered a <select> of every firm of the park (about 303
    in the demo) with no way to search it. The buyer is now typed: the box offers the
    park's firms as a list the browser narrows while one types (a datalist: keyboard and
    screen readers work as with any text box), and the server reads back a list entry, a
    USCC (in any case) or a part of a name that only one firm has."""
    url = "/vendor/trade/invoices/new"
    page = client.get(url).get_data(as_text=True)
    box = re.search(r'<input[^>]*id="buyer"[^>]*>', page).group(0)
    assert 'list="buyer-options"' in box and 'type="text"' in box
    listed = page.split('id="buyer-options"')[1].split("</datalist>")[0]
    entries = re.findall(r'<option value="([^"]+)"', listed)
    assert entries[0] == f"{chain.anchor.name} · {chain.anchor.uscc}"   # anchors first
    # reader 11, F2: its trading partners and the park's anchors, not every firm of the
    # park, and not itself
    assert entries == [f"{f.name} · {f.uscc}" for f in (chain.anchor, chain.tier2)]
    for n, typed in enumerate(("江北", chain.anchor.uscc.lower(), entries[0], " 江北制造 ")):
        response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                          **invoice_form(chain, buyer=typed, number=f"F-{n}")})
        assert response.status_code == 303, (typed, response.get_data(as_text=True)[-800:])
        saved = session.exec(select(Invoice).where(Invoice.number == f"F-{n}")).one()
        assert saved.buyer_id == chain.anchor.id, typed


@pytest.mark.parametrize("typed, said", [
    ("华星电子", ["您的交易伙伴和园区核心企业中没有与“华星电子”相符的买方"]),
    ("级供应商", ["“级供应商”与 2 家买方相符（", "二级供应商", "三级供应商"]),
    ("一级供应商", ["没有与“一级供应商”相符的买方"]),   # the vendor itself
    ("无关企业", ["没有与“无关企业”相符的买方", "18 位统一社会信用代码"]),  # no partner
])
def test_a_buyer_typed_that_fits_no_one_firm_is_refused_in_chinese(
        client, session, chain, vendor, typed, said):
    order(session, chain.tier3, chain.tier1)   # tier 3 sells to the vendor: a partner
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    for url in ("/vendor/trade/invoices/new", "/vendor/trade/orders/new"):
        data = invoice_form(chain, buyer=typed) | {"order_date": TODAY.isoformat()}
        response = client.post(url, data={"csrf_token": csrf_token(client, url), **data})
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        error = body.split('id="buyer-error">')[1].split("</p>")[0]
        assert all(words in error for words in said) and "买方" in error, error
        assert f'value="{typed}"' in body   # what was typed is kept
    assert session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).all() == []
    assert session.exec(select(PurchaseOrder).where(
        PurchaseOrder.seller_id == chain.tier1.id)).all() == []


def test_double_submitted_invoice_is_saved_once(client, session, chain, vendor):
    url = "/vendor/trade/invoices/new"
    data = {"csrf_token": csrf_token(client, url), **invoice_form(chain)}
    assert client.post(url, data=data).status_code == 303
    again = client.post(url, data=data)
    assert again.status_code == 409
    assert "already recorded invoice 33001234" in again.get_data(as_text=True)
    assert len(session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).all()) == 1


def test_forged_csrf_saves_nothing(client, session, chain, vendor):
    response = client.post("/vendor/trade/invoices/new",
                           data={"csrf_token": "forged", **invoice_form(chain)})
    assert response.status_code == 400
    assert session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).all() == []


def test_enter_an_order_and_an_invoice_against_it(client, session, chain, vendor):
    url = "/vendor/trade/orders/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "buyer": chain.anchor.name, "number": "PO-77",
                                      "amount": "80000", "order_date": TODAY.isoformat()})
    assert response.status_code == 303
    po = session.exec(select(PurchaseOrder).where(PurchaseOrder.seller_id == chain.tier1.id)).one()
    url = "/vendor/trade/invoices/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      **invoice_form(chain, order_number="PO-77")})
    assert response.status_code == 303
    inv = session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).one()
    assert inv.order_id == po.id
    dup = client.post("/vendor/trade/orders/new", data={
        "csrf_token": csrf_token(client, "/vendor/trade/orders/new"),
        "buyer": chain.anchor.name, "number": "PO-77", "amount": "1",
        "order_date": TODAY.isoformat()})
    assert dup.status_code == 409


def test_only_own_documents_are_visible(client, session, chain, vendor):
    theirs = invoice(session, chain.tier2, chain.tier1)
    assert client.get(f"/vendor/trade/invoice/{theirs.id}").status_code == 404
    assert theirs.number not in client.get("/vendor/trade").get_data(as_text=True)


# --- upload ----------------------------------------------------------------------------------

def csv_file(text: str, encoding="utf-8"):
    import io

    return (io.BytesIO(text.encode(encoding)), "invoices.csv")


def upload(client, text, kind="invoices", encoding="utf-8"):
    url = "/vendor/trade/upload"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "kind": kind,
                                  "file": csv_file(text, encoding)},
                       content_type="multipart/form-data")


def test_upload_invoices_in_gbk_with_chinese_headers(client, session, chain, vendor):
    issue = (TODAY - timedelta(days=5)).isoformat()
    due = (TODAY + timedelta(days=55)).isoformat()
    text = ("采购方统一社会信用代码,发票号码,金额（元）,开票日期,到期日\n"
            f"{chain.anchor.uscc},F-1,\"10,000.00\",{issue},{due}\n"
            f"{chain.anchor.uscc},F-2,2500.5,{issue},{due}\n")
    response = upload(client, text, encoding="gbk")
    assert response.status_code == 303
    rows = session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)
                        .order_by(Invoice.number)).all()
    assert [(r.number, r.amount_fen, r.status) for r in rows] == [
        ("F-1", 1_000_000, "pending"), ("F-2", 250_050, "pending")]


@pytest.mark.parametrize("rows, problem", [
    ("{buyer},F-1,abc,{issue},{due}", "is not a number"),
    ("{buyer},F-1,100,{issue},{early}", "due date is before"),
    ("91330100MA0000001X,F-1,100,{issue},{due}", "check character"),
    ("{stranger},F-1,100,{issue},{due}", "not a firm of your industrial park"),
    ("{buyer},F-1,100,{issue},{due}\n{buyer},F-1,200,{issue},{due}", "repeats row 3"),
    ("{buyer},,100,{issue},{due}", "required value missing"),
    ("{buyer},OLD-1,100,{issue},{due}", "already recorded"),
])
def test_upload_with_problems_saves_nothing(client, session, chain, vendor, make_firm,
                                            make_cluster, rows, problem):
    invoice(session, chain.tier1, chain.anchor, number="OLD-1")
    stranger = make_firm(cluster_id=make_cluster().id)
    fill = {"buyer": chain.anchor.uscc, "stranger": stranger.uscc,
            "issue": (TODAY - timedelta(days=5)).isoformat(),
            "due": (TODAY + timedelta(days=55)).isoformat(),
            "early": (TODAY - timedelta(days=10)).isoformat()}
    good = "{buyer},OK-1,100,{issue},{due}".format(**fill)
    text = "buyer_uscc,number,amount,issue_date,due_date\n" + good + "\n" + \
        rows.format(**fill) + "\n"
    response = upload(client, text)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert problem in body and "nothing was saved" in body
    numbers = {i.number for i in session.exec(select(Invoice).where(
        Invoice.seller_id == chain.tier1.id))}
    assert numbers == {"OLD-1"}


@pytest.mark.parametrize("text, kind, message", [
    ("", "invoices", "Choose a file"),
    ("number,amount\nX,1\n", "invoices", "missing required column"),
    ("buyer_uscc,number,amount,issue_date,due_date\n", "invoices", "no rows"),
    ("seller_uscc,buyer_uscc,number,amount,issue_date,due_date\n{other},{buyer},X,1,{d},{d}\n",
     "invoices", "only upload your own sales"),
    ("buyer_uscc,number,amount,issue_date,due_date,status\n{buyer},X,1,{d},{d},confirmed\n",
     "invoices", "only the buyer can confirm"),
    ("buyer_uscc,number,amount,order_date\n{buyer},PO-1,1,2099-01-01\n", "orders", "future"),
])
def test_bad_files(client, session, chain, vendor, text, kind, message):
    d = (TODAY - timedelta(days=1)).isoformat()
    text = text.format(buyer=chain.anchor.uscc, other=chain.tier2.uscc, d=d)
    if text:
        response = upload(client, text, kind=kind)
    else:
        url = "/vendor/trade/upload"
        response = client.post(url, data={"csrf_token": csrf_token(client, url), "kind": kind},
                               content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).all() == []
    assert session.exec(select(PurchaseOrder).where(
        PurchaseOrder.seller_id == chain.tier1.id)).all() == []


def test_template_download(client, chain, vendor):
    response = client.get("/vendor/trade/template/invoices.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "发票号码" in text and chain.anchor.uscc in text
    assert text.lstrip("\ufeff").startswith("买方统一社会信用代码,") and "采购方" not in text
    # reader 13, J16: the template's amount header is the invoice form's label
    # ("Amount (yuan, tax included)", 金额（元，含税）)
    assert ",金额（元，含税）," in text
    assert client.get("/vendor/trade/template/firms.csv").status_code == 404


def test_the_downloaded_template_uploads_as_it_is(client, session, chain, vendor):
    """The header the template gives is one the upload reads (买方, not 采购方)."""
    head = client.get("/vendor/trade/template/invoices.csv").get_data(as_text=True)
    head = head.lstrip("\ufeff").splitlines()[0]
    keys = {"买方统一社会信用代码": chain.anchor.uscc, "发票号码": "T-1",
            "金额（元，含税）": "300.00",
            "开票日期": (TODAY - timedelta(days=2)).isoformat(),
            "到期日": (TODAY + timedelta(days=40)).isoformat()}
    row = ",".join(keys.get(h, "") for h in head.split(","))
    assert upload(client, head + "\n" + row + "\n").status_code == 303
    assert session.exec(select(Invoice).where(Invoice.number == "T-1")).one().amount_fen == 30_000


def test_orders_upload(client, session, chain, vendor):
    text = ("buyer_uscc,number,amount,order_date\n"
            f"{chain.anchor.uscc},PO-9,5000,{TODAY.isoformat()}\n")
    assert upload(client, text, kind="orders").status_code == 303
    po = session.exec(select(PurchaseOrder).where(PurchaseOrder.seller_id == chain.tier1.id)).one()
    assert (po.number, po.amount_fen, po.status) == ("PO-9", 500_000, DocStatus.PENDING)


def test_thousands_of_problems_show_the_first_200_and_offer_the_full_report(
        client, session, chain, vendor, logged_in, make_firm):
    issue = (TODAY - timedelta(days=5)).isoformat()
    due = (TODAY + timedelta(days=55)).isoformat()
    rows = "".join(f"{chain.anchor.uscc},N-{i},=cmd|' /C calc'!A0,{issue},{due}\n"
                   for i in range(3000))
    response = upload(client, "buyer_uscc,number,amount,issue_date,due_date\n" + rows)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.count("is not a number") == 200
    assert "3000 problem(s) found" in body and "The first 200 of 3000 problems" in body
    assert len(body) < 200_000
    link = re.search(r'href="(/vendor/trade/upload/report/[^"]+\.csv)"', body).group(1)
    report = client.get(link)
    assert report.status_code == 200 and report.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(lines) == 3001 and lines[1][2].startswith("'=cmd")
    # Another firm cannot fetch it.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/vendor/")})
    logged_in("vendor", firm=chain.tier2)
    assert client.get(link).status_code == 404


def test_the_invoice_list_does_not_stop_at_100(client, session, chain, vendor):
    """150 invoices: the list says 150 and the oldest is on page 3 (it used to stop at
    100 without a word)."""
    rows = [invoice(session, chain.tier1, chain.anchor) for _ in range(150)]
    first = client.get("/vendor/trade").get_data(as_text=True)
    assert 'data-list-count="150"' in first and 'data-pages="3"' in first
    assert rows[-1].number in first
    assert rows[0].number in client.get("/vendor/trade?page=3").get_data(as_text=True)
    found = client.get(f"/vendor/trade?q={rows[42].number}").get_data(as_text=True)
    assert 'data-list-count="1"' in found


def test_a_document_to_a_buyer_that_is_no_anchor_is_not_awaiting_confirmation(
        client, session, chain, logged_in):
    """A clerk saw 待确权 on a tier-2 vendor's invoice to a supplier: only an anchor firm
    confirms, so nobody ever would. The list, the document page and the overview say so
    and tell the vendor who can confirm and how (the anchor's voucher, passed on)."""
    logged_in("vendor", firm=chain.tier2)
    to_tier1 = invoice(session, chain.tier2, chain.tier1, status=DocStatus.PENDING,
                       number="T2-TO-T1")
    listing = client.get("/vendor/trade?kind=invoice").get_data(as_text=True)
    row = listing[listing.index("T2-TO-T1"):]
    row = row[:row.index("</tr>")]
    assert "待确权" not in row and "买方非核心企业，无法确权" in row
    assert 'data-testid="tier2-help"' in listing and chain.anchor.name in listing
    assert "转让" in listing
    pending = client.get("/vendor/trade?kind=invoice&status=pending").get_data(as_text=True)
    assert "T2-TO-T1" not in pending
    tab = client.get("/vendor/trade?kind=invoice&status=unconfirmable").get_data(as_text=True)
    assert "T2-TO-T1" in tab
    # the tab's label is short (the long words wrapped on a 390 px phone); its page explains
    labels = re.findall(r'status=unconfirmable" class="active">([^<]*)</a>', tab)
    assert labels[-1] == "无法确权"   # the status tab (the first is the invoices tab)
    note = tab[tab.index('id="unconfirmable-note"'):]
    assert "不是核心企业" in note[:note.index("</p>")]
    assert 'id="unconfirmable-note"' not in pending
    page = client.get(f"/vendor/trade/invoice/{to_tier1.id}").get_data(as_text=True)
    heading = page[page.index("<h1"):page.index("</h1>")]
    assert "待确权" not in heading and "无法确权" in heading
    assert 'data-testid="tier2-help"' in page and chain.anchor.name in page
    overview = client.get("/vendor/").get_data(as_text=True)
    assert "买方非核心企业、无法确权的发票" in overview


def test_a_document_to_an_anchor_still_awaits_confirmation(client, session, chain, logged_in):
    logged_in("vendor", firm=chain.tier1)
    to_anchor = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                        number="T1-TO-A")
    page = client.get(f"/vendor/trade/invoice/{to_anchor.id}").get_data(as_text=True)
    assert "待确权" in page and 'data-testid="tier2-help"' not in page
    pending = client.get("/vendor/trade?kind=invoice&status=pending").get_data(as_text=True)
    assert "T1-TO-A" in pending


def test_the_home_page_and_the_save_message_do_not_await_a_confirmation_nobody_gives(
        client, session, chain, logged_in):
    """Issue 15 F5: the home page counted an invoice to a buyer that is no anchor firm as
    待确权, and saving one said 等待采购方确权, while the list says 无法确权."""
    logged_in("vendor", firm=chain.tier2)
    invoice(session, chain.tier2, chain.tier1, status=DocStatus.PENDING, number="T2-HOME",
            amount_fen=1_234_567)
    home = client.get("/").get_data(as_text=True)
    waiting = home[home.index('data-status="pending"'):]
    waiting = waiting[:waiting.index("</tr>")]
    assert "¥0.00" in waiting and "12,345.67" not in waiting, waiting
    nobody = home[home.index('data-status="unconfirmable"'):]
    assert "无法确权" in nobody[:nobody.index("</tr>")]
    assert "12,345.67" in nobody[:nobody.index("</tr>")]
    url = "/vendor/trade/invoices/new"
    saved = client.post(url, data={"csrf_token": csrf_token(client, url),
                                   **invoice_form(chain, buyer=chain.tier1.name,
                                                  number="T2-NEW")}, follow_redirects=True)
    body = saved.get_data(as_text=True)
    assert (f"发票 T2-NEW 已保存（买方：{chain.tier1.name}）。买方不是核心企业，平台上无人"
            "可以确权。") in body
    assert "等待买方确权" not in body and "等待采购方确权" not in body


@pytest.mark.parametrize("buyers, said", [
    (("anchor", "tier1"),
     "已保存 2 行：1 行等待买方确权；1 行的买方不是核心企业，平台上无人可以确权。"),
    (("tier1", "tier1"), "已保存 2 行。这些单据的买方都不是核心企业，平台上无人可以确权。"),
    (("anchor", "anchor"), "已保存 2 行，等待买方确权。"),
])
def test_an_upload_says_which_rows_nobody_can_confirm(client, session, chain, logged_in,
                                                      buyers, said):
    """Issue 15: the bulk upload said 等待买方确权 for every row, also for rows sold to a
    buyer that is no anchor firm (nobody on Trellis ever confirms those)."""
    logged_in("vendor", firm=chain.tier2)
    issue = (TODAY - timedelta(days=5)).isoformat()
    due = (TODAY + timedelta(days=55)).isoformat()
    text = "buyer_uscc,number,amount,issue_date,due_date\n" + "".join(
        f"{getattr(chain, b).uscc},UP-{i},100,{issue},{due}\n" for i, b in enumerate(buyers))
    response = upload(client, text)
    assert response.status_code == 303
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert said in body
    if "tier1" in buyers:
        assert "2 行，等待买方确权" not in body


def test_an_ambiguous_buyer_names_the_vendors_own_buyers_first_and_counts(
        client, session, chain, vendor, make_firm):
    """Reader Q1 (ninth session): "江北" named five strangers, not the vendor's own two
    buyers, and did not say how many firms it fitted."""
    for n in range(7):   # trading partners (it buys from them), named alike
        partner = make_firm(name=f"甬江同名商贸{n}有限公司", cluster_id=chain.anchor.cluster_id)
        order(session, partner, chain.tier1)
    # a firm of the park it never traded with is not offered by name (reader 11, F2)
    make_firm(name="甬江同名商贸8有限公司", cluster_id=chain.anchor.cluster_id)
    usual = make_firm(name="甬江同名商贸9有限公司", cluster_id=chain.anchor.cluster_id)
    invoice(session, chain.tier1, usual)
    session.commit()
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    url = "/vendor/trade/invoices/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      **invoice_form(chain, buyer="甬江同名商贸")})
    assert response.status_code == 422
    error = response.get_data(as_text=True).split('id="buyer-error">')[1].split("</p>")[0]
    assert "与 8 家买方相符（甬江同名商贸9有限公司、" in error and "…" in error, error



def test_a_reupload_of_recorded_rows_names_them_and_claims_no_success(
        client, session, chain, logged_in):
    """Reader 12, G7: a file whose rows are all recorded already saved 0 rows under a
    success banner, "已保存 0 行，等待买方确权"; each such row is now named and nothing
    says success. A mixed file saves the new rows and names the repeated one."""
    logged_in("vendor", firm=chain.tier1)
    invoice(session, chain.tier1, chain.anchor, number="R12-0008", amount_fen=1_250_000,
            status=DocStatus.PENDING, issue_date=TODAY - timedelta(days=2), terms_days=62)
    session.commit()
    head = "buyer_uscc,number,amount,issue_date,due_date\n"
    issued, due = TODAY - timedelta(days=2), TODAY + timedelta(days=60)
    same = f"{chain.anchor.uscc},R12-0008,12500.00,{issued.isoformat()},{due.isoformat()}\n"
    response = upload(client, head + same)
    assert response.status_code == 303
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 2 行：R12-0008 已录入过，未重复保存。" in body
    assert "未保存任何数据" in body and "已保存 0 行" not in body
    assert "flash-success" not in body
    new = same.replace("R12-0008", "R12-0010")
    response = upload(client, head + new + same)
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存 1 行，等待买方确权。" in body
    assert "第 3 行：R12-0008 已录入过，未重复保存。" in body
