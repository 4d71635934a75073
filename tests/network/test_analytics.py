"""Analytics on small hand-built supply graphs whose answers can be read off a drawing."""

from __future__ import annotations

from datetime import date

import networkx as nx
import pytest

from trellis.network import analytics


def graph(edges, anchors=("A",), **node_attrs):
    """A supply graph from ``(supplier, buyer, volume_fen)`` triples; all others vendors."""
    G = nx.DiGraph()
    for u, v, vol, *dates in edges:
        first, last = (dates + [None, None])[:2]
        for n in (u, v):
            G.add_node(n, role="anchor" if n in anchors else "vendor")
        G.add_edge(u, v, volume_fen=vol, invoice_count=1 if vol else 0,
                   first_date=first, last_date=last)
    for a in anchors:
        G.add_node(a, role="anchor")
    for node, attrs in node_attrs.items():
        G.nodes[node].update(attrs)
    return G


# A is the anchor. Upstream: B, C sell to A; D sells to B; E sells to D.
# Downstream: A sells to F; F sells to G. H trades with nobody connected.
CHAIN = [("B", "A", 100), ("C", "A", 50), ("D", "B", 30), ("E", "D", 10),
         ("A", "F", 20), ("F", "G", 5), ("H", "I", 7)]


@pytest.mark.parametrize("edges, anchors, expected", [
    (CHAIN, ("A",), {"A": 0, "B": 1, "C": 1, "D": 2, "E": 3, "F": -1, "G": -2}),
    # Two anchors: the nearer one decides.
    ([("B", "A", 1), ("C", "B", 1), ("C", "Z", 1)], ("A", "Z"),
     {"A": 0, "Z": 0, "B": 1, "C": 1}),
    # Both upstream and downstream: the nearer side wins, ties go upstream.
    ([("B", "A", 1), ("A", "B", 1)], ("A",), {"A": 0, "B": 1}),
    ([("A", "B", 1), ("B", "C", 1), ("C", "D", 1), ("D", "A", 1)], ("A",),
     {"A": 0, "D": 1, "B": -1, "C": 2}),
    # No anchor: nobody has a tier.
    ([("B", "C", 1)], (), {}),
])
def test_tiers_count_supply_steps_to_nearest_anchor(edges, anchors, expected):
    assert analytics.tiers(graph(edges, anchors)) == expected


def test_unconnected_firms_have_no_tier():
    result = analytics.tiers(graph(CHAIN))
    assert "H" not in result and "I" not in result


@pytest.mark.parametrize("edges, expected_cut", [
    # D is E's only way to the anchor; B is D's and E's; F is G's (downstream).
    (CHAIN, {"B", "D", "F"}),
    # A second route from D to the anchor (D -> C) takes B off the list.
    (CHAIN + [("D", "C", 1)], {"D", "F"}),
    # A diamond: E reaches A through B or C; no cut vertex upstream.
    ([("B", "A", 1), ("C", "A", 1), ("E", "B", 1), ("E", "C", 1)], set()),
])
def test_cut_vertices_are_vendors_whose_loss_cuts_firms_off(edges, expected_cut):
    assert analytics.cut_vertices(graph(edges)) == expected_cut


def test_cut_vertices_never_list_the_anchor_even_as_the_only_hub():
    G = graph([("B", "A", 1), ("C", "A", 1), ("A", "D", 1)])
    assert analytics.cut_vertices(G) == set()


def test_dependents_name_who_is_cut_off():
    deps = analytics.dependents(graph(CHAIN))
    assert deps == {"B": {"D", "E"}, "D": {"E"}, "F": {"G"}}


@pytest.mark.parametrize("edges, expected", [
    # In a tree every edge is a bridge (except H -> I, which touches no anchor).
    (CHAIN, [("A", "F"), ("B", "A"), ("C", "A"), ("D", "B"), ("E", "D"), ("F", "G")]),
    # D -> C gives D (and E) a second route, so D -> B and B -> A are not bridges for D;
    # B -> A still is for B itself.
    (CHAIN + [("D", "C", 1)],
     [("A", "F"), ("B", "A"), ("C", "A"), ("E", "D"), ("F", "G")]),
    # Two parallel routes from E: no bridge on either, but the last hops stay bridges
    # for B and C themselves.
    ([("B", "A", 1), ("C", "A", 1), ("E", "B", 1), ("E", "C", 1)],
     [("B", "A"), ("C", "A")]),
])
def test_bridges_are_edges_whose_loss_cuts_a_firm_off(edges, expected):
    assert analytics.bridges(graph(edges)) == expected


def test_buyer_concentration_hhi_and_top_share():
    G = graph([("S", "A", 50), ("S", "B", 30), ("S", "C", 20), ("T", "A", 80),
               ("U", "A", 0)])
    result = analytics.buyer_concentration(G)
    hhi, top = result["S"]
    assert hhi == pytest.approx(0.5 ** 2 + 0.3 ** 2 + 0.2 ** 2)
    assert top == pytest.approx(0.5)
    assert result["T"] == (1.0, 1.0)
    assert "U" not in result  # no sales in the window
    assert "A" not in result  # buys only


def test_pagerank_weights_by_volume_along_the_money_flow():
    # The anchor pays B ten times what it pays C: B must rank above C.
    G = graph([("B", "A", 1000), ("C", "A", 100)])
    pr = analytics.pagerank(G)
    assert pr["B"] > pr["C"]
    assert sum(pr.values()) == pytest.approx(1.0)


def test_anchor_pagerank_favours_firms_close_to_anchor_money():
    # X and Y trade as much as B and C, but no anchor money reaches them.
    G = graph([("B", "A", 100), ("C", "B", 100), ("X", "Y", 100)])
    apr = analytics.anchor_pagerank(G)
    assert apr["B"] > apr["C"] > apr["X"]
    assert apr["X"] == pytest.approx(0.0, abs=1e-9)
    assert sum(apr.values()) == pytest.approx(1.0)


def test_pagerank_of_an_empty_graph_is_empty():
    assert analytics.pagerank(nx.DiGraph()) == {}


def test_short_cycles_with_amounts_and_dates():
    d = date
    G = graph([("P", "Q", 500, d(2026, 1, 5), d(2026, 3, 1)),
               ("Q", "R", 400, d(2026, 1, 9), d(2026, 3, 2)),
               ("R", "P", 450, d(2026, 1, 12), d(2026, 3, 3)),
               ("B", "A", 100), ("A", "B", 10),
               ("K", "L", 10), ("L", "M", 10), ("M", "N", 10), ("N", "O", 10),
               ("O", "K", 10)])
    cycles = analytics.short_cycles(G, max_len=4)
    assert [c.nodes for c in cycles] == [("P", "Q", "R"), ("A", "B")]
    ring = cycles[0]
    assert ring.amount_fen == 400  # the most that went all the way round
    assert ring.first_date == d(2026, 1, 5) and ring.last_date == d(2026, 3, 3)
    assert [(e.supplier, e.buyer, e.volume_fen) for e in ring.edges] == [
        ("P", "Q", 500), ("Q", "R", 400), ("R", "P", 450)]
    # The five-firm ring appears once the bound allows it.
    assert ("K", "L", "M", "N", "O") in [c.nodes for c in analytics.short_cycles(G, 5)]


def test_short_cycles_ignore_edges_without_trade_in_the_window():
    G = graph([("P", "Q", 500), ("Q", "R", 400), ("R", "P", 0)])
    assert analytics.short_cycles(G) == []


def test_communities_split_two_trading_groups_and_are_repeatable():
    left = [("a1", "a2", 100), ("a2", "a3", 100), ("a3", "a1", 100), ("a4", "a1", 100),
            ("a4", "a2", 100)]
    right = [(u.replace("a", "b"), v.replace("a", "b"), w) for u, v, w in left]
    G = graph(left + right + [("a1", "b1", 1)], anchors=())
    parts = analytics.communities(G)
    assert {frozenset(p) for p in parts} == {frozenset({"a1", "a2", "a3", "a4"}),
                                              frozenset({"b1", "b2", "b3", "b4"})}
    assert analytics.communities(G) == parts


@pytest.mark.parametrize("kind, values, linked", [
    ("phone", {"B": "138 0000 1111", "C": "+86 13800001111", "D": "13900001111"},
     [("B", "C")]),
    ("bank_account", {"B": "6222 0012 3456", "C": "622200123456", "D": "622200123456"},
     [("B", "C"), ("B", "D"), ("C", "D")]),
    ("address", {"B": "杭州市 滨江区 江南大道 1号", "C": "杭州市滨江区江南大道1号", "D": ""},
     [("B", "C")]),
])
def test_shared_identity_links(kind, values, linked):
    G = graph([("B", "A", 1), ("C", "A", 1), ("D", "A", 1)])
    for node, value in values.items():
        G.nodes[node][kind] = value
    links = analytics.shared_identity_links(G)
    assert [(lk.a, lk.b) for lk in links if lk.kind == kind] == linked
    assert all(lk.kind == kind for lk in links)


def test_shared_identity_skips_generic_values():
    G = graph([(f"v{i}", "A", 1) for i in range(5)])
    for i in range(5):
        G.nodes[f"v{i}"]["phone"] = "0571-88888888"
    assert analytics.shared_identity_links(G, max_group=4) == []
    assert len(analytics.shared_identity_links(G, max_group=5)) == 10


def _random_graph(seed, n=14, p=0.18):
    rnd = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    G = nx.DiGraph()
    for node in rnd.nodes:
        G.add_node(node, role="anchor" if node in (0, 1) and (node == 0 or seed % 2) else
                   "vendor")
    for u, v in rnd.edges:
        G.add_edge(u, v, volume_fen=(u * 7 + v) % 5, invoice_count=1, first_date=None,
                   last_date=None)
    return G


def _reach(G, roots, upstream):
    view = G.reverse(copy=False) if upstream else G
    seen = set()
    for r in roots:
        if r in view:
            seen |= nx.descendants(view, r) | {r}
    return seen


def _lost(G, H):
    """Firms that reach (or are reached from) an anchor in G but not in H."""
    roots = analytics.anchors(G)
    return any(_reach(G, roots, up) - _reach(H, roots, up) - (set(G) - set(H))
               for up in (True, False))


@pytest.mark.parametrize("seed", range(40))
def test_analytics_agree_with_brute_force_on_random_graphs(seed):
    G = _random_graph(seed)
    # Cycles: the same set as NetworkX's bounded search, over traded edges only.
    traded = nx.DiGraph((u, v) for u, v, w in G.edges(data="volume_fen") if w)
    expected = set()
    for c in nx.simple_cycles(traded, length_bound=4):
        if len(c) >= 2:
            i = c.index(min(c))
            expected.add(tuple(c[i:] + c[:i]))
    assert {c.nodes for c in analytics.short_cycles(G, 4)} == expected
    # Cut vertices and bridges: remove each and see who loses the anchors.
    roots = set(analytics.anchors(G))
    cut = set()
    for v in set(G) - roots:
        H = G.copy()
        H.remove_node(v)
        if _lost(G, H):
            cut.add(v)
    assert analytics.cut_vertices(G) == cut
    bridge = set()
    for e in G.edges:
        H = G.copy()
        H.remove_edge(*e)
        if _lost(G, H):
            bridge.add(e)
    assert set(analytics.bridges(G)) == bridge
    # Tiers: shortest supply paths to and from the anchors.
    for node, tier in analytics.tiers(G).items():
        up = min((nx.shortest_path_length(G, node, a) for a in roots
                  if nx.has_path(G, node, a)), default=None)
        down = min((nx.shortest_path_length(G, a, node) for a in roots
                    if nx.has_path(G, a, node)), default=None)
        assert tier == (up if up is not None and (down is None or up <= down) else -down)
