"""One supply graph: scoring reads the network area's graph, on both scoring paths."""

from __future__ import annotations

from datetime import UTC, date, datetime

import networkx as nx

from trellis.network import analytics
from trellis.network.build import cluster_graph
from trellis.scoring import features, frames, graph

AS_OF = date(2026, 1, 15)


def _edges(G):
    return {(u, v): d for u, v, d in G.edges(data=True)}


def test_scoring_graph_is_the_network_graph_on_both_paths(session, trade, make_cluster,
                                                           make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    a, b, c = (make_firm(cluster_id=cluster.id) for _ in range(3))
    trade.monthly_sales(a, anchor, start=date(2025, 2, 5), months=11, amount_fen=90_000_00,
                        confirmed=True)
    trade.sale(b, a, 40_000_00, date(2025, 1, 16))    # 364 days before the day before
    trade.sale(b, a, 10_000_00, date(2025, 1, 13))    # just outside the 365-day window
    rejected = trade.sale(c, a, 70_000_00, date(2025, 9, 1))
    rejected.status = "rejected"
    late = trade.sale(c, b, 30_000_00, date(2025, 12, 1), confirmed=True)
    late.confirmed_at = datetime(2026, 1, 20, tzinfo=UTC)  # confirmed after the as-of date
    trade.sale(a, anchor, 5_000_00, AS_OF)                 # on the as-of day: not yet seen
    trade.relationship(c, anchor, since=date(2024, 3, 1))
    session.flush()
    net = cluster_graph(session=session, cluster_id=cluster.id,
                        as_of=date(2026, 1, 14), use_cache=False)
    whole = frames.load(session=session, as_of=AS_OF, cluster_id=cluster.id)
    one = frames.load(session=session, as_of=AS_OF, firm_ids=[b.id])
    # The network's graph takes today's status: the late confirmation counts there, never
    # in a score as of an earlier date. Everything else is the same graph.
    expected = _edges(net)
    expected[(c.id, b.id)] = {**expected[(c.id, b.id)], "confirmed_fen": 0}
    for fr in (whole, one):
        G = graph.of(fr)
        assert set(G.nodes) == set(net.nodes)
        assert _edges(G) == expected
    e = _edges(graph.of(whole))
    assert e[(b.id, a.id)]["volume_fen"] == 40_000_00
    assert (c.id, a.id) not in e or e[(c.id, a.id)]["volume_fen"] == 0
    assert e[(c.id, b.id)]["confirmed_fen"] == 0
    assert e[(a.id, anchor.id)]["volume_fen"] == 11 * 90_000_00
    # Features read the network's analytics, whichever path.
    X = features.compute(whole)
    Y = features.compute(one)
    tiers, pr = analytics.tiers(net), analytics.pagerank(net)
    for f in (a, b):
        assert X.loc[f.id, "tier"] == tiers[f.id]
        assert abs(X.loc[f.id, "pagerank"] - pr[f.id]) < 1e-12
    assert Y.loc[b.id, "tier"] == X.loc[b.id, "tier"] == 2
    assert X.loc[c.id, "tier"] == 1  # by its relationship with the anchor


def test_tier_tie_goes_upstream_as_in_the_network():
    G = nx.DiGraph()
    G.add_node(1, role="anchor")
    G.add_edges_from([(2, 1), (1, 2)], volume_fen=1)
    assert analytics.tiers(G)[2] == 1
