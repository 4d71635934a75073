"""Scoring's view of the supply graph: the network area's graph, built as of the scoring
date from the frames, and its analytics (:mod:`trellis.network`).

There is one supply graph in Trellis (:mod:`trellis.network.build`): the same edge rules
(rejected invoices out, a 365-day window ending the day before ``as_of``, relationships
as edges), the same tiers (nearer side wins, upstream on a tie), the same PageRank (sums
to 1 over the cluster) and the same cycle search. Scoring only chooses what to read from
it. Frames hold data dated before ``as_of``, so the graph is taken as of the day before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from trellis.network import analytics
from trellis.network.build import graph_from_edges

MAX_CYCLE = 5


def graph_day(as_of: pd.Timestamp) -> date:
    """The last day whose data the frames of *as_of* hold."""
    return (pd.Timestamp(as_of) - pd.Timedelta(days=1)).date()


def of(frames) -> nx.DiGraph:
    """The supply graph of *frames* (built once per frames object)."""
    G = getattr(frames, "graph", None)
    if G is None:
        firms = frames.firms.reset_index(drop=True)
        rel = frames.__dict__.get("graph_relationships")
        G = graph_from_edges(firms, frames.edges, graph_day(frames.as_of),
                             relationships=frames.relationships if rel is None else rel)
        frames.graph = G
    return G


def _kept(G: nx.DiGraph, key, make):
    """*make()*, kept on *G* when *G* is frozen (the firm path shares one frozen graph per
    cluster data version, :mod:`.frames`): a frozen graph never changes, nor does anything
    computed from it alone."""
    if not nx.is_frozen(G):
        return make()
    kept = G.graph.setdefault("scoring_kept", {})
    if key not in kept:
        kept[key] = make()
    return kept[key]


def traded(G: nx.DiGraph) -> nx.DiGraph:
    """The edges of *G* with trade in the window (a relationship alone is not trade)."""
    return _kept(G, "traded", lambda: G.edge_subgraph(
        [(u, v) for u, v, vol in G.edges(data="volume_fen") if vol]))


def cycles(G: nx.DiGraph, through: Iterable[int] | None = None,
           max_len: int = MAX_CYCLE) -> list[list[int]]:
    """Cycles of 2..*max_len* firms over traded edges (:func:`analytics.short_cycles`),
    optionally only those through the given firms (searched in their neighbourhood)."""
    if through is not None:
        through = tuple(through)
        return [list(c) for c in _kept(G, ("cycles", through, max_len),
                                       lambda: _cycles_through(G, through, max_len))]
    return [list(c.nodes) for c in analytics.short_cycles(G, max_len=max_len)]


def _cycles_through(G: nx.DiGraph, through: Sequence[Any], max_len: int) -> list[tuple]:
    H = traded(G)
    through = [t for t in through if t in H]
    keep: set[int] = set()
    R = H.reverse(copy=False)
    for t in through:
        fwd = nx.single_source_shortest_path_length(H, t, cutoff=max_len - 1)
        back = nx.single_source_shortest_path_length(R, t, cutoff=max_len - 1)
        keep |= {n for n in fwd if n in back and fwd[n] + back[n] <= max_len}
    want = set(through)
    found = analytics.short_cycles(G.subgraph(keep), max_len=max_len)
    return [tuple(c.nodes) for c in found if want & set(c.nodes)]


def _traded_neighbours(G: nx.DiGraph) -> dict[Any, set]:
    """Firm -> the firms it traded with in the window, either way (its predecessors and
    successors in :func:`traded`), from one pass over the edges; firms without trade
    absent."""
    near: dict[Any, set] = {}
    for u, v, vol in G.edges(data="volume_fen"):
        if vol:
            near.setdefault(u, set()).add(v)
            near.setdefault(v, set()).add(u)
    return near


def network_features(frames, firm_ids: list[int]) -> pd.DataFrame:
    """tier, pagerank, anchor_pagerank, neighbours, neighbours_defaulted_share per firm.

    Neighbours are the firms traded with in the window, either way.
    """
    G = of(frames)
    tier = _kept(G, "tiers", lambda: analytics.tiers(G))
    pr = _kept(G, "pagerank", lambda: analytics.pagerank(G) if G.number_of_edges() else {})
    apr = _kept(G, "anchor_pagerank",
                lambda: analytics.anchor_pagerank(G) if G.number_of_edges() else {})
    near = _kept(G, "traded_neighbours", lambda: _traded_neighbours(G))
    defaulted = set(frames.outcomes.loc[frames.outcomes["defaulted"].astype(bool),
                                        "firm_id"].astype(int))
    rows = []
    none: frozenset = frozenset()
    for f in firm_ids:
        nbrs = near.get(f, none)
        nbad = len(nbrs & defaulted)
        rows.append((f, tier.get(f, np.nan), pr.get(f, np.nan), apr.get(f, np.nan),
                     len(nbrs), (nbad / len(nbrs)) if nbrs else np.nan))
    return pd.DataFrame(rows, columns=["firm_id", "tier", "pagerank", "anchor_pagerank",
                                       "neighbours", "neighbours_defaulted_share"]
                        ).set_index("firm_id")
