"""Outside reader 8, R23: the voucher form's 已确权的应付账款 list held 200 invoices with no
search, and nothing said whether it was cut at 200. The page says how many there are when
it shows fewer, and a search by invoice number or supplier narrows the list; the server
still checks the invoice chosen."""

from __future__ import annotations

import re

from tests.platform.conftest import login
from tests.platform.vendor_portal.test_finance import confirmed_invoice, demo  # noqa: F401
from trellis.demo.seed import PASSWORD
from trellis.platform.anchor import voucher_views
from trellis.trade.models import Firm


def test_cut_list_says_so_and_search_narrows_it(client, session, demo, monkeypatch):  # noqa: F811
    anchor, vendor = demo["anchor"], demo["vendor"]
    inv = confirmed_invoice(session, vendor.firm_id, buyer_id=anchor.firm_id)
    seller = session.get(Firm, vendor.firm_id)
    monkeypatch.setattr(voucher_views, "ISSUABLE_SHOWN", 1)
    login(client, anchor, PASSWORD)
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    page = client.get("/anchor/vouchers").get_data(as_text=True)
    cut = re.search(r"共 (\d+) 张已确权发票，此处按到期日从晚到早列出 1 张", page)
    assert cut and int(cut.group(1)) > 1, page[-4000:]
    assert page.count('<option value="') - page.count('<option value="">') >= 1
    # by invoice number: that invoice, and no note that the list is cut
    page = client.get("/anchor/vouchers", query_string={"invoice_q": inv.number}).get_data(
        as_text=True)
    assert f'<option value="{inv.id}"' in page and 'id="issuable-cut"' not in page
    assert f'value="{inv.number}"' in page                  # the search is kept in its box
    # by supplier: only that supplier's invoices
    page = client.get("/anchor/vouchers", query_string={"invoice_q": seller.name}).get_data(
        as_text=True)
    options = re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', page)
    assert options and all(seller.name in o for o in options)
    # nothing matches: said in words, not the "no invoice available" line; a % is literal
    page = client.get("/anchor/vouchers", query_string={"invoice_q": "%没有这张%"}).get_data(
        as_text=True)
    assert "没有与“%没有这张%”相符的已确权未付发票。" in page
    assert "没有可签发" not in page
