"""A confirmation or a new invoice changes the cluster graph people see at once."""

from __future__ import annotations

from datetime import timedelta

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.network import confirmations
from trellis.network.build import cluster_graph
from trellis.onboarding import trade_entry
from trellis.trade.models import DocStatus


def test_confirmation_refreshes_the_cached_graph(session, chain):
    inv = invoice(session, chain.tier1, chain.anchor, 3_000_000, status=DocStatus.PENDING)
    before = cluster_graph(session=session, cluster_id=chain.anchor.cluster_id)
    assert before.edges[chain.tier1.id, chain.anchor.id]["confirmed_fen"] == 0
    confirmations.decide(session=session, anchor_id=chain.anchor.id, kind="invoice", ids=[inv.id],
                         decision="confirm", checked=True)
    after = cluster_graph(session=session, cluster_id=chain.anchor.cluster_id)
    assert after.edges[chain.tier1.id, chain.anchor.id]["confirmed_fen"] == 3_000_000


def test_a_vendor_invoice_refreshes_the_cached_graph(session, chain):
    graph = cluster_graph(session=session, cluster_id=chain.tier2.cluster_id)
    assert graph.edges[chain.tier2.id, chain.tier1.id]["volume_fen"] == 0
    today = clock.today()
    trade_entry.add_invoice(session=session, firm=chain.tier2, buyer_id=chain.tier1.id,
                            number="T2-0001", amount_fen=450_000,
                            issue_date=today - timedelta(days=3), due_date=today + timedelta(60))
    graph = cluster_graph(session=session, cluster_id=chain.tier2.cluster_id)
    assert graph.edges[chain.tier2.id, chain.tier1.id]["volume_fen"] == 450_000
