"""Outside reader 11, F10, on the page: the anchor's issue list offers no financed or
overdue invoice (the rule and its refusals: tests/vouchers/test_issuable.py)."""

from __future__ import annotations

from tests.platform.conftest import login
from tests.vouchers.test_issuable import invoices  # noqa: F401


def test_the_page_offers_the_same(client, session, chain, invoices, make_user):  # noqa: F811
    anchor_user = make_user("anchor", firm=chain.anchor)
    login(client, anchor_user)
    page = client.get("/anchor/vouchers").get_data(as_text=True)
    for name, inv in invoices.items():
        listed = f'<option value="{inv.id}"' in page
        assert listed == (name in ("fine", "repaid_loan")), name
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    page = client.get("/anchor/vouchers").get_data(as_text=True)
    assert "只有已确权、未付款、尚未到期且未被贷款融资的发票才能签发为凭证。" in page
