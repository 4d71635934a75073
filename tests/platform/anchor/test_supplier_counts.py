"""Issue 15, F26: the anchor's network page counted 94 suppliers (54 direct, 40 second
tier: those with invoices in the last 12 months), its early warning and stress test 95
(every supplier on record). The network page now names the suppliers on record with no
invoice (only rejected ones) in the window, so its counts add up to the other pages', and
those pages say they count the suppliers on record."""

from __future__ import annotations

from datetime import timedelta

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.network.build import bump_data_version
from trellis.trade.models import DocStatus

TODAY = clock.today()


def test_the_network_page_names_suppliers_on_record_without_invoices(client, session, chain,
                                                                      logged_in):
    invoice(session, chain.tier1, chain.anchor, 800_000, issue_date=TODAY - timedelta(days=30))
    # the second tier's only trade was refused: on record, not in the picture
    invoice(session, chain.tier2, chain.tier1, 300_000, issue_date=TODAY - timedelta(days=30),
            status=DocStatus.REJECTED)
    bump_data_version(session=session, cluster_id=chain.anchor.cluster_id)
    logged_in("anchor", firm=chain.anchor)
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    page = client.get("/anchor/network").get_data(as_text=True)
    assert "直接供应商（1）" in page and "二级供应商（0）" in page
    quiet = page[page.index('id="quiet-suppliers"'):]
    assert "有供货关系记录但无发票的供应商（1）" in quiet and chain.tier2.name in quiet
    assert "有供货关系记录的供应商共 2 家，即风险预警和压力测试所统计的数字" in quiet
    warning = client.get("/anchor/early-warning").get_data(as_text=True)
    assert "有供货关系记录的 2 家供应商（一级和二级）中有" in warning
