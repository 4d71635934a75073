"""Issue 15: the anchor's errors reach a Chinese reader in Chinese, amounts in yuan
(¥377,092.15), never English words or fen (NOTES-zhreader5 F2, F3, F7, F15)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from tests.platform.conftest import csrf_token
from tests.vouchers.factories import invoice
from trellis import clock

TODAY = clock.today()
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def error_texts(page: str) -> list[str]:
    """The texts of the page's field errors and flashed/blocked messages."""
    found = re.findall(r'id="[\w-]+-error"[^>]*>(.*?)</', page, re.S)
    found += re.findall(r'class="[^"]*(?:flash|alert|error)[^"]*"[^>]*>(.*?)</', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", t)).strip() for t in found if t.strip()]


def assert_chinese(text: str, allowed: tuple[str, ...] = ()) -> None:
    words = [w for w in ENGLISH_WORD.findall(text) if w not in allowed]
    assert not words, f"English words {words} in {text!r}"
    assert "fen" not in text


def test_overpayment_says_what_is_unpaid_in_yuan(client, session, chain, logged_in):
    inv = invoice(session, chain.tier1, chain.anchor, 37_709_215)
    logged_in("anchor", firm=chain.anchor)
    url = f"/anchor/payables/{inv.id}/pay"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "amount": "999999999", "paid_on": TODAY.isoformat(),
                                      "reference": "R-1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    texts = [t for t in error_texts(page) if "¥377,092.15" in t]
    assert texts, error_texts(page)
    assert_chinese(texts[0])
    assert "该发票未付金额仅 ¥377,092.15" in texts[0]


def test_bad_payment_reference_and_date_are_chinese(client, session, chain, logged_in):
    inv = invoice(session, chain.tier1, chain.anchor, 500_000)
    logged_in("anchor", firm=chain.anchor)
    url = f"/anchor/payables/{inv.id}/pay"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "amount": "100", "reference": "R-1",
                                      "paid_on": (TODAY - timedelta(days=400)).isoformat()})
    assert response.status_code == 422
    assert "付款日期早于开票日期" in response.get_data(as_text=True)


def test_voucher_tenor_too_long_is_chinese(client, session, chain, logged_in):
    from trellis.vouchers import services as vs

    inv = invoice(session, chain.tier1, chain.anchor, 500_000)
    logged_in("anchor", firm=chain.anchor)
    response = client.post("/anchor/vouchers", data={
        "csrf_token": csrf_token(client, "/anchor/vouchers"), "invoice_id": str(inv.id),
        "maturity_date": vs.add_months(TODAY, 30).isoformat()})
    assert response.status_code == 422
    texts = [t for t in error_texts(response.get_data(as_text=True)) if "凭证期限" in t]
    assert texts, error_texts(response.get_data(as_text=True))
    assert_chinese(texts[0])
    latest = vs.latest_maturity(session=session, issued_on=TODAY)
    assert f"凭证期限最长 6 个月：到期日不能晚于 {latest.isoformat()}。" == texts[0]


def test_missing_queue_document_is_chinese(client, session, chain, logged_in):
    logged_in("anchor", firm=chain.anchor)
    for kind, word in (("invoice", "发票"), ("order", "订单")):
        response = client.get(f"/anchor/queue/{kind}/999999")
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "awaits" not in page
        assert f"编号为 999999 的{word}不存在，或不待贵公司确权。" in page


def test_stress_days_say_what_is_wrong(client, session, chain, logged_in):
    logged_in("anchor", firm=chain.anchor)
    # full-width digits are digits (reader 13, J12): "３０" is 30 days; "３６６" is too many
    for raw in ("0", "abc", "30.5", "366", "-3", "", "３６６"):
        response = client.get("/anchor/stress", query_string={"days_late": raw})
        assert response.status_code == 422, raw
        page = response.get_data(as_text=True)
        assert "该字段是必填字段" not in page, raw
        assert page.count("请填写 1 至 365 之间的整数天数。") == 1, raw
    assert client.get("/anchor/stress?days_late=30").status_code == 200


def test_every_payment_field_is_checked_at_once_and_marked_required(client, session, chain,
                                                                    logged_in):
    """Reader R17: letters in the amount and an empty reference are both told on the first
    try; the form says which fields are required."""
    inv = invoice(session, chain.tier1, chain.anchor, 500_000)
    logged_in("anchor", firm=chain.anchor)
    url = f"/anchor/payables/{inv.id}/pay"
    form = client.get(url).get_data(as_text=True)
    assert "必填：银行转账凭证上的流水号" in form and "必填；单位：元" in form
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "amount": "abc", "paid_on": TODAY.isoformat(),
                                      "reference": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    amount = re.search(r'id="amount-error">(.*?)</', page)
    reference = re.search(r'id="reference-error">(.*?)</', page)
    assert amount and "数字" in amount.group(1)
    assert reference and reference.group(1) == "此项必填。"
    session.refresh(inv)
    assert inv.paid_fen == 0
