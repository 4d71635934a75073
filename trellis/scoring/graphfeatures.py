"""Network features and cycles from the supplier -> buyer trade graph.

The graph is built from the 12-month edge table of :mod:`.frames` (the same edges in the
portfolio and the one-firm paths). Definitions match the network area's
(``trellis.network.analytics``): tier 0 for anchors, +k for k steps upstream, -k for k
steps downstream. PageRank runs on the reversed graph (buyer -> supplier, weighted by
volume): a firm ranks high when important buyers buy from it. Ranks are multiplied by the
number of nodes so that 1.0 is average whatever the cluster's size.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

MAX_CYCLE = 6


def build_graph(edges: pd.DataFrame, nodes: Iterable[int] = ()) -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_nodes_from(int(n) for n in nodes)
    for s, b, v, c in zip(edges["seller_id"], edges["buyer_id"], edges["volume_fen"],
                          edges["invoice_count"], strict=True):
        if s != b:
            G.add_edge(int(s), int(b), volume_fen=int(v), invoice_count=int(c))
    return G


def tiers(G: nx.DiGraph, anchors: Iterable[int]) -> dict[int, int]:
    """Distance from the nearest anchor: + upstream (suppliers), - downstream."""
    anchors = [a for a in anchors if a in G]
    out: dict[int, int] = {a: 0 for a in anchors}
    if not anchors:
        return out
    up = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), anchors, weight=None)
    down = nx.multi_source_dijkstra_path_length(G, anchors, weight=None)
    for node, d in down.items():
        if d:
            out[node] = -int(d)
    for node, d in up.items():  # upstream wins: vendors are scored as suppliers
        if d:
            out[node] = int(d)
    return out


def ranks(G: nx.DiGraph, anchors: Iterable[int]) -> tuple[dict, dict]:
    """(PageRank, anchor-personalised PageRank) on the reversed, volume-weighted graph."""
    n = G.number_of_nodes()
    if n == 0 or G.number_of_edges() == 0:
        return {}, {}
    R = G.reverse(copy=False)
    pr = nx.pagerank(R, weight="volume_fen")
    anchors = [a for a in anchors if a in G]
    apr = (nx.pagerank(R, weight="volume_fen", personalization={a: 1.0 for a in anchors})
           if anchors else {})
    return ({k: v * n for k, v in pr.items()}, {k: v * n for k, v in apr.items()})


_GRAPH_CACHE: dict[tuple, tuple] = {}


def _graph(edges: pd.DataFrame, nodes, anchors: list[int]):
    """(graph, tiers, pagerank, anchor pagerank), reused while the same edge table (the
    frames' cached cluster aggregate, see :mod:`.frames`) is scored again."""
    key = (id(edges), len(edges), tuple(anchors), len(nodes))
    hit = _GRAPH_CACHE.get(key)
    if hit is not None and hit[0] is edges:
        return hit[1:]
    G = build_graph(edges, nodes)
    out = (G, tiers(G, anchors), *ranks(G, anchors))
    _GRAPH_CACHE[key] = (edges, *out)  # holding *edges* keeps its id from being reused
    while len(_GRAPH_CACHE) > 4:
        _GRAPH_CACHE.pop(next(iter(_GRAPH_CACHE)))
    return out


def network_features(frames, firm_ids: list[int]) -> pd.DataFrame:
    """tier, pagerank, anchor_pagerank, neighbours, neighbours_defaulted_share per firm."""
    firms = frames.firms
    anchors = firms.index[firms["role"] == "anchor"].tolist()
    G, tier, pr, apr = _graph(frames.edges, firms.index, anchors)
    defaulted = set(frames.outcomes.loc[frames.outcomes["defaulted"].astype(bool),
                                        "firm_id"].astype(int))
    rows = []
    for f in firm_ids:
        if f in G:
            nbrs = set(G.predecessors(f)) | set(G.successors(f))
        else:
            nbrs = set()
        nbad = len(nbrs & defaulted)
        rows.append((f, tier.get(f, np.nan), pr.get(f, np.nan), apr.get(f, np.nan),
                     len(nbrs), (nbad / len(nbrs)) if nbrs else np.nan))
    return pd.DataFrame(rows, columns=["firm_id", "tier", "pagerank", "anchor_pagerank",
                                       "neighbours", "neighbours_defaulted_share"]
                        ).set_index("firm_id")


def cycles(G: nx.DiGraph, through: Iterable[int] | None = None,
           max_len: int = MAX_CYCLE) -> list[list[int]]:
    """Simple cycles of length 2..max_len (optionally only those through given nodes)."""
    if through is not None:
        through = [t for t in through if t in G]
        keep: set[int] = set()
        for t in through:
            fwd = nx.single_source_shortest_path_length(G, t, cutoff=max_len - 1)
            back = nx.single_source_shortest_path_length(G.reverse(copy=False), t,
                                                         cutoff=max_len - 1)
            keep |= {n for n in fwd if n in back and fwd[n] + back[n] <= max_len}
        H = G.subgraph(keep)
        want = set(through)
        return [c for c in nx.simple_cycles(H, length_bound=max_len) if want & set(c)]
    return list(nx.simple_cycles(G, length_bound=max_len))


def cycle_partners(edges: pd.DataFrame, firm_ids: Iterable[int]) -> set[int]:
    """Firms on short trading cycles through any of *firm_ids*."""
    G = build_graph(edges)
    found: set[int] = set()
    for c in cycles(G, through=firm_ids):
        found.update(c)
    return found
