"""What pages and the API show: figures, a firm's neighbourhood, the picture's elements."""

from __future__ import annotations

import pytest

from tests.network.test_analytics import CHAIN, graph
from trellis.network import summary
from trellis.network.errors import FirmNotFound


@pytest.fixture
def G():
    G = graph(CHAIN + [("P", "Q", 500), ("Q", "R", 400), ("R", "P", 450), ("P", "A", 5)])
    for n in G.nodes:
        G.nodes[n].update(name=f"firm {n}", uscc=f"U{n}")
    G.nodes["B"]["bank_account"] = "6222 0000 1111 2222"
    G.nodes["C"]["bank_account"] = "6222000011112222"
    return G


def test_stats_count_tiers_cycles_links_and_cuts(G):
    s = summary.stats(G)
    assert (s["firms"], s["anchors"], s["edges"]) == (12, 1, 11)
    assert s["tiers"] == {"-2": 1, "-1": 1, "0": 1, "1": 3, "2": 2, "3": 2}  # P, R, Q too
    assert s["unconnected"] == 2  # H and I
    assert s["cycles"] == 1 and s["top_cycles"][0]["amount_fen"] == 400
    assert s["shared_identity_links"] == {"bank_account": 1}
    assert s["cut_vertices"] == 5  # B, D, F and P, R on the way from Q


def test_neighbourhood_lists_partners_flags_and_masks_the_account(G):
    n = summary.neighbourhood(G, "B")
    assert n["firm"]["bank_account"] == "····2222"
    assert n["tier"] == 1
    assert [p["id"] for p in n["buyers"]] == ["A"]
    assert [p["id"] for p in n["suppliers"]] == ["D"]
    assert (n["sales_fen"], n["purchases_fen"]) == (100, 30)
    codes = {f["code"] for f in n["flags"]}
    assert codes == {"shared_bank_account", "cut_vertex", "single_buyer"}
    p = summary.neighbourhood(G, "P")
    assert "cycle" in {f["code"] for f in p["flags"]}
    with pytest.raises(FirmNotFound):
        summary.neighbourhood(G, "nobody")


@pytest.mark.parametrize("raw, masked", [("6222000011112222", "····2222"),
                                         ("6222 0000 1111 2222", "····2222"),
                                         ("12345", "····"), (None, "—"), ("", "—")])
def test_the_neighbourhood_masks_as_every_page_does(G, raw, masked):
    """Attack 13: the neighbourhood JSON masked accounts its own way (``6222 **** 2222``,
    the first four digits too) where every page shows ``····2222``
    (:func:`trellis.banking.masked`, the one masking, which pages reach through
    ``protection.payout``)."""
    from trellis.protection import payout

    G.nodes["B"]["bank_account"] = raw
    shown = summary.neighbourhood(G, "B")["firm"]["bank_account"]
    assert shown == masked == payout.masked(raw)
    digits = "".join(ch for ch in str(raw or "") if ch.isdigit())
    assert len(digits) < 8 or digits[:4] not in shown


def test_picture_puts_tiers_in_columns_and_highlights_cycles_and_links(G):
    els = summary.elements(G, grades={"B": "A"})
    nodes = {e["data"]["id"]: e for e in els if e["group"] == "nodes"}
    edges = [e for e in els if e["group"] == "edges"]
    x = {k: v["position"]["x"] for k, v in nodes.items()}
    # Far suppliers left of near ones, anchors in the middle, distributors right.
    assert x["E"] < x["D"] < x["B"] < x["A"] < x["F"] < x["G"] < x["H"]
    assert "anchor" in nodes["A"]["classes"] and "grade-A" in nodes["B"]["classes"]
    cycle_edges = {(e["data"]["source"], e["data"]["target"]) for e in edges
                   if "cycle" in e["classes"]}
    assert cycle_edges == {("P", "Q"), ("Q", "R"), ("R", "P")}
    shared = [e for e in edges if "shared" in e["classes"]]
    assert [(e["data"]["source"], e["data"]["target"]) for e in shared] == [("B", "C")]
    widths = {(e["data"]["source"], e["data"]["target"]): e["data"]["width"]
              for e in edges if "supply" in e["classes"]}
    assert widths[("P", "Q")] > widths[("B", "A")] > widths[("F", "G")] >= 1


def test_wide_tiers_wrap_into_several_columns():
    G = graph([(f"v{i}", "A", 1) for i in range(100)])
    pos = summary.positions(G)
    xs = {pos[f"v{i}"][0] for i in range(100)}
    ys = [pos[f"v{i}"][1] for i in range(100)]
    assert len(xs) == 3  # 100 firms at 40 a column
    assert max(ys) - min(ys) < 40 * 60
