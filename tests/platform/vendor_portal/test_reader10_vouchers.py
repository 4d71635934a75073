"""Reader Q10 and Q12 (tenth session), the vendor's voucher pages in Chinese: the parts a
vendor split off and passed on no longer fill its history one line each, and running
Chinese text has full-width punctuation and short hashes."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.platform.conftest import login
from tests.platform.vendor_portal.test_finance import confirmed_invoice, demo  # noqa: F401
from tests.platform.vendor_portal.test_vouchers_web import issued, logout  # noqa: F401
from trellis.demo.seed import PASSWORD
from trellis.vouchers import services as vs
from trellis.vouchers.models import VoucherFragment


def chinese(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _split_and_pass_on(session, demo, voucher, times: int = 5) -> list[int]:  # noqa: F811
    """Split the vendor's part *times* times, passing each piece split off to its supplier;
    the ids of every part the vendor closed."""
    vendor, vendor2 = demo["vendor"], demo["vendor2"]
    (part,) = vs.fragments(session=session, voucher_id=voucher.id)
    for _ in range(times):
        small = part.amount_fen // 10
        given, part = vs.split(session=session, holder_id=vendor.firm_id,
                               fragment_id=part.id, amounts=[small, part.amount_fen - small])
        vs.pay_supplier(session=session, holder_id=vendor.firm_id, fragment_id=given.id,
                        to_firm_id=vendor2.firm_id, amount_fen=given.amount_fen)
    session.commit()
    return [f.id for f in session.exec(select(VoucherFragment).where(
        VoucherFragment.voucher_id == voucher.id,
        VoucherFragment.holder_id == vendor.firm_id,
        VoucherFragment.status.in_(["split", "transferred"])))]


def test_parts_split_off_and_passed_on_are_one_line_per_voucher(
        client, session, demo, issued):  # noqa: F811
    """Reader Q12: on a phone, the parts a vendor split off and passed on filled its 以往
    list one line each, pushing down what matters. One line per voucher now says how many
    were passed on; a disclosure lists every one of them."""
    closed = _split_and_pass_on(session, demo, issued)
    assert len(closed) == 10
    login(client, demo["vendor"], PASSWORD)
    chinese(client)
    page = client.get("/vendor/vouchers").get_data(as_text=True)
    earlier = page.split("<h2>以往</h2>")[1]
    lines = re.findall(r'<li data-voucher="(\d+)"', earlier)
    assert lines == [str(issued.id)]
    line = text_of(earlier.split("<details")[0])
    assert "已拆分转让 5 部分（¥" in line and issued.code in line
    parts = earlier.split('<details class="past-parts">')[1].split("</details>")[0]
    assert "其以往的 10 个部分" in text_of(parts)
    assert len(re.findall(r"<li>", parts)) == 10       # every part is still reachable
    assert len(re.findall(rf"{issued.code} 第 \d+ 号", text_of(parts))) == 10
    logout(client)


#: a half-width colon, comma, semicolon, question or exclamation mark right after Chinese
#: (a CJK character, full-width punctuation or a closing Chinese quote)
HALF_WIDTH_AFTER_CHINESE = re.compile(
    r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef”’][:,;?!](?!//)")


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style|title)[^>]*>.*?</\1>", " ", html)
    html = re.sub(r"(?s)<!--.*?-->", " ", html)
    return text_of(html).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")


def test_the_vendors_pages_use_full_width_punctuation_in_chinese(
        client, session, demo, issued):  # noqa: F811
    """Reader Q10: 「持有中: ¥…」 and 「确权: 已上链」 had half-width colons in running
    Chinese text (the colon sat in the template, after the translated words)."""
    from trellis.trade.models import Invoice

    _split_and_pass_on(session, demo, issued, times=2)
    vendor = demo["vendor"]
    login(client, vendor, PASSWORD)
    chinese(client)
    inv = session.exec(select(Invoice).where(Invoice.seller_id == vendor.firm_id)
                       .order_by(Invoice.id)).first()
    found = {}
    for url in ("/vendor/", "/vendor/trade", "/vendor/trade?kind=order",
                f"/vendor/trade/invoice/{inv.id}", f"/vendor/trade/invoice/{issued.invoice_id}",
                "/vendor/trade/invoices/new", "/vendor/trade/orders/new", "/vendor/trade/upload",
                "/vendor/vouchers", f"/vendor/vouchers/{issued.id}", "/vendor/loans",
                "/vendor/applications", "/vendor/apply", "/vendor/profile"):
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.get_data(as_text=True))
        bad = [text[max(0, m.start() - 20):m.end() + 10]
               for m in HALF_WIDTH_AFTER_CHINESE.finditer(text)]
        if bad:
            found[url] = bad
    assert not found, found
