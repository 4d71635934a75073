"""Outside reading pages 7: a vendor with no supplier of its own saw an empty "pass to a
supplier" choice on its voucher. It is told in words, and the button is off."""

from __future__ import annotations

import pytest

from tests.vouchers.factories import invoice, supply_chain
from trellis import clock
from trellis.vouchers import services as vs


@pytest.fixture
def chain(session, make_firm, make_cluster):
    return supply_chain(session, make_firm, make_cluster)


def held_voucher(session, chain):
    inv = invoice(session, chain.tier1, chain.anchor, 500_000)
    return vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                    maturity_date=vs.add_months(clock.today(), 3))


def zh_page(client, url):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    return client.get(url).get_data(as_text=True)


def test_no_suppliers_is_said_in_words(client, session, chain, logged_in):
    from sqlmodel import delete

    from trellis.trade.models import Relationship

    session.exec(delete(Relationship).where(Relationship.buyer_id == chain.tier1.id))
    voucher = held_voucher(session, chain)
    logged_in("vendor", firm=chain.tier1)
    page = zh_page(client, f"/vendor/vouchers/{voucher.id}")
    assert "贵司在 Trellis 上还没有供应商，无法转让" in page
    assert '-to_firm_id"' not in page
    assert 'type="button" disabled>' in page


def test_a_vendor_with_suppliers_chooses_one(client, session, chain, logged_in):
    voucher = held_voucher(session, chain)
    logged_in("vendor", firm=chain.tier1)
    page = zh_page(client, f"/vendor/vouchers/{voucher.id}")
    assert '-to_firm_id"' in page and chain.tier2.name in page
    assert "无法转让" not in page
