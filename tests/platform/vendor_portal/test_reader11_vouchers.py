"""Outside reader 11 on the vendor's voucher page: F23, a tier-2 holder saw its
customer's holdings; F11, a transfer showed one amount twice and a split said nothing of
what it made (the rule: tests/vouchers/test_visibility.py)."""

from __future__ import annotations

import re

from tests.platform.conftest import csrf_token, login
from tests.vouchers.test_visibility import passed_down  # noqa: F401
from trellis.vouchers import services as vs


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _zh(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


def test_a_tier2_holder_sees_its_parts_not_its_customers(
    client, session, chain, passed_down, make_user  # noqa: F811
):
    voucher, parts = passed_down
    login(client, make_user("vendor", firm=chain.tier2))
    _zh(client)
    page = client.get(f"/vendor/vouchers/{voucher.id}").get_data(as_text=True)
    text = _text(page)
    assert "¥6,000.00" not in page  # what its customer kept
    assert "¥10,000.00" not in page  # its customer's invoice (the face value)
    assert "面额" not in text
    # its own: what it holds, from whom, what it passed on and to whom, when it is paid
    assert "¥1,500.00" in text and "由 一级供应商 转入（第 2 号）" in text
    assert "已转给 三级供应商（第 7 号）" in text
    assert str(voucher.maturity_date) in text
    # the table lists its own parts only
    rows = re.findall(r"<tr><td data-label=\"编号\">", page)
    assert len(rows) == 3  # received, passed on, kept


def test_a_split_says_what_it_made_and_a_transfer_shows_its_amount_once(
    client, session, chain, passed_down, make_user  # noqa: F811
):
    voucher, parts = passed_down
    login(client, make_user("vendor", firm=chain.tier1))
    _zh(client)
    page = client.get(f"/vendor/vouchers/{voucher.id}").get_data(as_text=True)
    table = page.split('id="parts"')[1].split("</table>")[0]
    assert table.count("¥4,000.00") == 1  # passed on, to whom: one line, one meaning
    assert "已转给 二级供应商（第 4 号）" in _text(table)
    keep = parts["tier1_keeps"]
    response = client.post(
        f"/vendor/vouchers/parts/{keep.id}/split",
        data={
            "csrf_token": csrf_token(client, f"/vendor/vouchers/{voucher.id}"),
            f"s{keep.id}-amounts": "2000 4000",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    made = sorted(
        (f for f in vs.fragments(session=session, voucher_id=voucher.id) if f.parent_id == keep.id),
        key=lambda f: f.id,
    )
    assert [f.amount_fen for f in made] == [200_000, 400_000]
    assert (
        "已将第 3 号份额（¥6,000.00）拆分为第 8 号（¥2,000.00）、第 9 号（¥4,000.00）。"
        in _text(response.get_data(as_text=True))
    )
