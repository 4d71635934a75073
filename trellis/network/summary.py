"""What pages, the API and the CLI show of a graph: figures, a firm's neighbourhood, and
the picture's elements with positions computed here (so the browser needs no layout).

:func:`analyse` runs every analytic once per graph and keeps the result on the graph
(graphs from :func:`~trellis.network.build.cluster_graph` are cached and frozen, so the
analysis is cached with them). Bank accounts leave this module masked.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass

import networkx as nx

from trellis.banking import masked
from trellis.messages import N_, msg
from trellis.network import analytics
from trellis.network.errors import FirmNotFound

MAX_CYCLE_LEN = 4
COLUMN_HEIGHT = 40  # firms per sub-column in the picture before a tier wraps
_lock = threading.Lock()


@dataclass
class Analysis:
    tiers: dict
    pagerank: dict
    anchor_pagerank: dict
    concentration: dict
    dependents: dict
    bridges: list
    cycles: list
    communities: list
    links: list

    @property
    def community_of(self) -> dict:
        """Each firm's community number (index into communities)."""
        return {n: i for i, part in enumerate(self.communities) for n in part}


def analyse(G: nx.DiGraph) -> Analysis:
    """All analytics of *G*, computed once per graph object."""
    with _lock:
        cached = G.graph.get("_analysis")
    if cached is not None:
        return cached
    result = Analysis(
        tiers=analytics.tiers(G), pagerank=analytics.pagerank(G),
        anchor_pagerank=analytics.anchor_pagerank(G),
        concentration=analytics.buyer_concentration(G), dependents=analytics.dependents(G),
        bridges=analytics.bridges(G), cycles=analytics.short_cycles(G, MAX_CYCLE_LEN),
        communities=analytics.communities(G), links=analytics.shared_identity_links(G))
    with _lock:
        G.graph["_analysis"] = result
    return result


def _firm(G: nx.DiGraph, node) -> dict:
    d = G.nodes[node]
    return {"id": node, "uscc": d.get("uscc"), "name": d.get("name"), "role": d.get("role"),
            "industry": d.get("industry"), "region": d.get("region")}


def _kept(G: nx.DiGraph, key: tuple, make):
    """``make()`` computed once per graph object and kept on it beside the analysis (a
    cached graph is frozen, so what is derived from it stays true while it is cached)."""
    with _lock:
        kept = G.graph.setdefault("_kept", {})
        if key in kept:
            return kept[key]
    value = make()
    with _lock:
        kept[key] = value
    return value


def industries(G: nx.DiGraph) -> list[str]:
    """The industries of the graph's firms, sorted, each once."""
    return list(_kept(G, ("industries",),
                      lambda: sorted({d for _, d in G.nodes(data="industry") if d})))


def trade_totals(G: nx.DiGraph) -> dict:
    """The invoiced trade a cluster graph holds, the one figure every page shows as the
    park's 12-month trade: ``invoices`` (count), ``volume_fen`` and ``confirmed_fen`` (int
    fen) of the invoices issued in the window (``as_of - 365 days``, ``as_of``] between two
    firms of the cluster, rejected ones left out (:func:`trellis.network.build.edge_table`),
    with ``as_of`` and ``window_days``."""
    invoices = volume = confirmed = 0
    for *_, d in G.edges(data=True):
        invoices += d.get("invoice_count", 0) or 0
        volume += d.get("volume_fen", 0) or 0
        confirmed += d.get("confirmed_fen", 0) or 0
    return {"invoices": invoices, "volume_fen": volume, "confirmed_fen": confirmed,
            "as_of": G.graph.get("as_of"), "window_days": G.graph.get("window_days")}


def stats(G: nx.DiGraph, *, top: int = 10) -> dict:
    """The figures of a cluster graph (JSON-ready): firms, edges, tiers, cycles,
    communities, shared-identity links, cut vertices, bridges. Computed once per graph; each
    caller gets its own copy."""
    return copy.deepcopy(_kept(G, ("stats", top), lambda: _stats(G, top)))


def _stats(G: nx.DiGraph, top: int) -> dict:
    a = analyse(G)
    links = Counter(lk.kind for lk in a.links)
    return {
        "as_of": G.graph.get("as_of").isoformat() if G.graph.get("as_of") else None,
        "data_version": G.graph.get("data_version"),
        "firms": G.number_of_nodes(),
        "anchors": len(analytics.anchors(G)),
        "edges": G.number_of_edges(),
        "edges_with_trade": sum(1 for *_, v in G.edges(data="volume_fen") if v),
        "volume_fen": trade_totals(G)["volume_fen"],
        "tiers": {str(t): n for t, n in sorted(Counter(a.tiers.values()).items())},
        "unconnected": G.number_of_nodes() - len(a.tiers),
        "cycles": len(a.cycles),
        "top_cycles": [_cycle_json(G, c) for c in a.cycles[:top]],
        "communities": len(a.communities),
        "community_sizes": [len(c) for c in a.communities[:top]],
        "shared_identity_links": dict(sorted(links.items())),
        "cut_vertices": len(a.dependents),
        "bridges": len(a.bridges),
    }


def _cycle_json(G: nx.DiGraph, cycle: analytics.Cycle) -> dict:
    return {"firms": [_firm(G, n) for n in cycle.nodes], "amount_fen": cycle.amount_fen,
            "first_date": cycle.first_date.isoformat() if cycle.first_date else None,
            "last_date": cycle.last_date.isoformat() if cycle.last_date else None,
            "edges": [{"supplier": e.supplier, "buyer": e.buyer, "volume_fen": e.volume_fen,
                       "invoice_count": e.invoice_count} for e in cycle.edges]}


def flags(G: nx.DiGraph, node) -> list[dict]:
    """Why a firm deserves a look: cycles it is in, identities it shares, firms that
    depend on it, a single dominant buyer."""
    a = analyse(G)
    out = []
    for c in a.cycles:
        if node in c.nodes:
            out.append({"code": "cycle", "amount_fen": c.amount_fen,
                        "firms": [G.nodes[n].get("name") for n in c.nodes]})
    for lk in a.links:
        if node in (lk.a, lk.b):
            other = lk.b if lk.a == node else lk.a
            out.append({"code": f"shared_{lk.kind}", "firm_id": other,
                        "firm": G.nodes[other].get("name")})
    if node in a.dependents:
        out.append({"code": "cut_vertex", "dependents": len(a.dependents[node])})
    hhi = a.concentration.get(node)
    if hhi and hhi[1] >= 0.9 and G.nodes[node].get("role") != "anchor":
        out.append({"code": "single_buyer", "top_share": round(hhi[1], 3)})
    return out


def neighbourhood(G: nx.DiGraph, node, *, limit: int = 50) -> dict:
    """A firm, its figures, its suppliers and buyers (largest first, at most *limit* each)
    and its flags; JSON-ready. Raises :class:`FirmNotFound`."""
    if node not in G:
        raise FirmNotFound(msg(N_("Firm %(node)s is not in this cluster's network."), node=node))
    a = analyse(G)
    d = G.nodes[node]
    firm = _firm(G, node) | {"phone": d.get("phone"),
                             # the one masking (····1234), as the RM's firm page shows it
                             "bank_account": masked(d.get("bank_account"))}

    def partner(other, edge):
        return _firm(G, other) | {"volume_fen": edge.get("volume_fen", 0),
                                  "invoice_count": edge.get("invoice_count", 0),
                                  "confirmed_fen": edge.get("confirmed_fen", 0),
                                  "tenure_days": edge.get("tenure_days", 0),
                                  "tier": a.tiers.get(other)}

    suppliers = sorted((partner(u, e) for u, _, e in G.in_edges(node, data=True)),
                       key=lambda p: -p["volume_fen"])
    buyers = sorted((partner(v, e) for _, v, e in G.out_edges(node, data=True)),
                    key=lambda p: -p["volume_fen"])
    hhi = a.concentration.get(node)
    return {
        "firm": firm,
        "tier": a.tiers.get(node),
        "sales_fen": sum(p["volume_fen"] for p in buyers),
        "purchases_fen": sum(p["volume_fen"] for p in suppliers),
        "pagerank": round(a.pagerank.get(node, 0.0), 6),
        "anchor_pagerank": round(a.anchor_pagerank.get(node, 0.0), 6),
        "buyer_hhi": round(hhi[0], 4) if hhi else None,
        "top_buyer_share": round(hhi[1], 4) if hhi else None,
        "community": a.community_of.get(node),
        "suppliers": suppliers[:limit], "buyers": buyers[:limit],
        "supplier_count": len(suppliers), "buyer_count": len(buyers),
        "flags": flags(G, node),
    }


def positions(G: nx.DiGraph, *, spacing: float = 60.0) -> dict:
    """Preset positions: one column block per tier (far suppliers left, anchors in the
    middle, distributors right, unconnected firms far right).

    Tiers are placed outward from the anchors; within a tier firms are ordered by the
    mean height of their already placed partners (the barycentre heuristic, so edges
    run mostly level) and dealt round-robin into sub-columns of at most
    :data:`COLUMN_HEIGHT`, so height still follows that order.
    """
    cached = G.graph.get("_positions")
    if cached is not None and cached[0] == spacing:
        return cached[1]
    a = analyse(G)
    community = a.community_of
    by_tier = defaultdict(list)
    for node in G.nodes:
        by_tier[a.tiers.get(node)].append(node)
    tiers = [t for t in by_tier if t is not None]
    placing = ([0] if 0 in by_tier else []) + sorted(t for t in tiers if t > 0) + \
        sorted((t for t in tiers if t < 0), reverse=True) + ([None] if None in by_tier else [])
    y: dict = {}
    column: dict = {}
    width: dict = {}
    for tier in placing:
        def key(n, tier=tier):
            base = (-a.pagerank.get(n, 0.0), str(n))
            if tier in (0, None):
                return (0, community.get(n, -1), 0.0, *base)
            near = [y[m] for m in nx.all_neighbors(G, n) if m in y]
            if not near:
                return (1, community.get(n, -1), 0.0, *base)
            return (0, 0, sum(near) / len(near), *base)

        nodes = sorted(by_tier[tier], key=key)
        cols = max(1, math.ceil(len(nodes) / COLUMN_HEIGHT))
        rows = math.ceil(len(nodes) / cols)
        step = spacing * (2.5 if tier == 0 else 0.6)  # anchors are drawn large
        for i, node in enumerate(nodes):
            row, col = divmod(i, cols)
            y[node] = (row - (rows - 1) / 2) * step
            column[node] = col
        width[tier] = cols
    left = sorted(tiers, reverse=True) + ([None] if None in by_tier else [])
    x_of, x = {}, 0.0
    for tier in left:
        x_of[tier] = x
        x += width[tier] * spacing + spacing * 3
    pos = {n: (x_of[a.tiers.get(n)] + column[n] * spacing, y[n]) for n in G.nodes}
    if nx.is_frozen(G):  # cluster graphs are cached and frozen: keep the layout with them
        G.graph["_positions"] = (spacing, pos)
    return pos


def elements(G: nx.DiGraph, *, grades: dict | None = None) -> list[dict]:
    """Cytoscape.js elements with preset positions: nodes (classes ``anchor``,
    ``tier-N``, ``grade-X``, ``flagged``), supply edges (``width`` by volume, class
    ``cycle`` on circular-trading candidates) and shared-identity links (``shared``)."""
    a = analyse(G)
    pos = positions(G)
    in_cycle_edges = {(e.supplier, e.buyer) for c in a.cycles for e in c.edges}
    in_cycle = {n for c in a.cycles for n in c.nodes}
    linked = {n for lk in a.links for n in (lk.a, lk.b)}
    max_volume = max((v or 0 for *_, v in G.edges(data="volume_fen")), default=0) or 1
    out = []
    for node, d in G.nodes(data=True):
        tier = a.tiers.get(node)
        classes = ["anchor" if d.get("role") == "anchor" else "vendor",
                   f"tier-{tier}" if tier is not None else "tier-none"]
        grade = (grades or {}).get(node)
        if grade:
            classes.append(f"grade-{grade}")
        if node in in_cycle or node in linked:
            classes.append("flagged")
        x, y = pos[node]
        out.append({"group": "nodes", "data": {
            "id": str(node), "label": d.get("name") or str(node), "uscc": d.get("uscc"),
            "role": d.get("role"), "industry": d.get("industry"), "tier": tier,
            "grade": grade, "community": a.community_of.get(node)},
            "position": {"x": round(x, 1), "y": round(y, 1)}, "classes": " ".join(classes)})
    for u, v, d in G.edges(data=True):
        volume = d.get("volume_fen") or 0
        width = 1 + 9 * math.sqrt(volume / max_volume)
        out.append({"group": "edges", "data": {
            "id": f"e{u}-{v}", "source": str(u), "target": str(v), "volume_fen": volume,
            "width": round(width, 2)},
            "classes": "supply cycle" if (u, v) in in_cycle_edges else "supply"})
    for i, lk in enumerate(a.links):
        out.append({"group": "edges", "data": {
            "id": f"s{i}", "source": str(lk.a), "target": str(lk.b), "kind": lk.kind},
            "classes": f"shared shared-{lk.kind}"})
    return out
