"""Analytics on a supply graph (see :mod:`trellis.network.build` for its shape).

Every function takes the graph and returns plain data; none changes the graph. Edges run
supplier -> buyer. Scores and shares are floats (they are ratios, not money); amounts are
int fen.

- :func:`tiers`: distance to the nearest anchor, +k upstream, -k downstream, 0 anchors.
- :func:`pagerank`, :func:`anchor_pagerank`: importance along the money flow.
- :func:`buyer_concentration`: HHI and top-buyer share of each seller's sales.
- :func:`cut_vertices`, :func:`bridges`, :func:`dependents`: firms and edges whose loss
  cuts other firms off from every anchor.
- :func:`short_cycles`: circular-trading candidates with amounts and dates.
- :func:`communities`: Louvain communities (seeded, so repeatable).
- :func:`shared_identity_links`: firms sharing a phone, bank account or address.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx

logger = logging.getLogger(__name__)

ANCHOR = "anchor"
SHARED_KINDS = ("phone", "bank_account", "address")


def anchors(G: nx.DiGraph) -> list:
    """The anchor firms of *G* (node attribute ``role == "anchor"``), sorted."""
    return sorted(n for n, role in G.nodes(data="role") if role == ANCHOR)


def _bfs(start: Iterable, neighbours) -> dict:
    dist = {n: 0 for n in start}
    queue = deque(dist)
    while queue:
        node = queue.popleft()
        for nxt in neighbours(node):
            if nxt not in dist:
                dist[nxt] = dist[node] + 1
                queue.append(nxt)
    return dist


def tiers(G: nx.DiGraph) -> dict:
    """Each firm's tier: 0 for anchors, +k for a supplier k supply steps upstream of the
    nearest anchor (tier 1 sells to an anchor), -k for a buyer k steps downstream.

    When a firm is both, the nearer side wins; on a tie, upstream. Firms with no supply
    path to or from any anchor are left out.
    """
    roots = anchors(G)
    up = _bfs(roots, G.predecessors)
    down = _bfs(roots, G.successors)
    result = {}
    for node in set(up) | set(down):
        u, d = up.get(node), down.get(node)
        if u is not None and (d is None or u <= d):
            result[node] = u
        else:
            assert d is not None  # the node is upstream or downstream of an anchor
            result[node] = -d
    return result


def _money_flow(G: nx.DiGraph) -> nx.DiGraph:
    # Money flows buyer -> supplier: a firm ranks high when big payers pay it.
    return G.reverse(copy=False)


def pagerank(G: nx.DiGraph, *, alpha: float = 0.85) -> dict:
    """Volume-weighted PageRank along the money flow (buyer -> supplier); sums to 1."""
    if G.number_of_nodes() == 0:
        return {}
    return nx.pagerank(_money_flow(G), alpha=alpha, weight="volume_fen")


def anchor_pagerank(G: nx.DiGraph, *, alpha: float = 0.85) -> dict:
    """PageRank along the money flow, restarting at the anchors (personalised).

    High for vendors that much of the anchors' money reaches, directly or through other
    vendors. Without anchors it equals :func:`pagerank`.
    """
    roots = anchors(G)
    if not roots:
        return pagerank(G, alpha=alpha)
    personal = {n: 1.0 for n in roots}
    return nx.pagerank(_money_flow(G), alpha=alpha, weight="volume_fen",
                       personalization=personal, dangling=personal)


def buyer_concentration(G: nx.DiGraph) -> dict:
    """For each firm with sales in the window: ``(hhi, top_share)``.

    ``hhi`` is the Herfindahl-Hirschman index of its buyers' shares of its 12-month sales,
    in (0, 1] (1 = a single buyer); ``top_share`` the largest buyer's share, in (0, 1].
    """
    result = {}
    for node in G.nodes:
        volumes = [v for _, _, v in G.out_edges(node, data="volume_fen") if v]
        total = sum(volumes)
        if total <= 0:
            continue
        result[node] = (sum((v / total) ** 2 for v in volumes), max(volumes) / total)
    return result


_SOURCE = ("__anchors__",)


def _reach_graphs(G: nx.DiGraph):
    """Yield ``(upstream, H)``: *G* against (upstream) and along the supply edges, with a
    virtual source pointing at every anchor. In the upstream graph a node dominates another
    when every supply path from that firm to any anchor passes through it."""
    roots = anchors(G)
    if not roots:
        return
    for upstream in (True, False):
        view = G.reverse(copy=False) if upstream else G
        H = nx.DiGraph(view.edges)
        H.add_nodes_from(view.nodes)
        H.add_edges_from((_SOURCE, a) for a in roots)
        yield upstream, H


@dataclass
class _Dominance:
    upstream: bool
    H: nx.DiGraph
    children: dict
    pre: dict
    post: dict

    def dominates(self, a, b) -> bool:
        """Whether *a* dominates *b* (every path from the anchors to *b* passes *a*)."""
        return self.pre[a] <= self.pre[b] and self.post[b] <= self.post[a]


_dominance_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _dominance(G: nx.DiGraph) -> list[_Dominance]:
    """Dominator trees of the upstream and downstream reach, with DFS intervals for O(1)
    dominance tests. Cached for frozen graphs (the cluster graphs are frozen)."""
    if nx.is_frozen(G) and G in _dominance_cache:
        return _dominance_cache[G]
    out = []
    for upstream, H in _reach_graphs(G):
        children: defaultdict[Any, list[Any]] = defaultdict(list)
        for node, parent in nx.immediate_dominators(H, _SOURCE).items():
            if node != parent:
                children[parent].append(node)
        pre, post, clock = {}, {}, 0
        stack: list[tuple[Any, Iterator[Any]]] = [(_SOURCE, iter(children.get(_SOURCE, ())))]
        pre[_SOURCE] = clock
        while stack:
            node, it = stack[-1]
            child: Any = next(it, _END)
            clock += 1
            if child is _END:
                post[node] = clock
                stack.pop()
            else:
                pre[child] = clock
                stack.append((child, iter(children.get(child, ()))))
        out.append(_Dominance(upstream, H, children, pre, post))
    if nx.is_frozen(G):
        _dominance_cache[G] = out
    return out


_END = object()


def dependents(G: nx.DiGraph) -> dict:
    """Vendor -> the set of firms that reach every anchor only through it (either way)."""
    result: dict = defaultdict(set)
    roots = set(anchors(G))
    for dom in _dominance(G):
        children = dom.children
        for vendor in list(children):
            if vendor == _SOURCE or vendor in roots:
                continue
            stack = list(children[vendor])
            while stack:
                node = stack.pop()
                result[vendor].add(node)
                stack.extend(children.get(node, ()))
    return dict(result)


def cut_vertices(G: nx.DiGraph) -> set:
    """Vendors whose loss cuts at least one other firm off from every anchor.

    Computed with dominator trees (from the anchors, along and against the supply edges),
    so a firm with a second route to an anchor is not cut off. Anchors are never listed.
    """
    return set(dependents(G))


def bridges(G: nx.DiGraph) -> list:
    """Supply edges ``(supplier, buyer)`` whose loss cuts some firm off from every anchor.

    In the reach graph an edge ``u -> v`` carries every path to *v* exactly when *u* is
    the only predecessor of *v* that is reachable without passing *v* itself (tested
    with the dominator tree). If no path to *v* needs the edge, no path beyond *v* does
    either. Sorted.
    """
    found = set()
    for dom in _dominance(G):
        pre, H = dom.pre, dom.H
        for v in pre:
            if v == _SOURCE:
                continue
            entries = [p for p in H.pred[v] if p in pre and not dom.dominates(v, p)]
            if len(entries) == 1 and entries[0] != _SOURCE:
                u = entries[0]
                found.add((v, u) if dom.upstream else (u, v))
    return sorted(found, key=lambda e: (_sort_key(e[0]), _sort_key(e[1])))


@dataclass(frozen=True)
class CycleEdge:
    supplier: object
    buyer: object
    volume_fen: int
    invoice_count: int
    first_date: date | None
    last_date: date | None


@dataclass(frozen=True)
class Cycle:
    """A closed chain of sales: ``nodes[0]`` sells to ``nodes[1]`` ... back to ``nodes[0]``.

    ``amount_fen`` is the smallest edge volume: the most that can have gone all the way
    round in the window. ``first_date``/``last_date`` span the cycle's invoices.
    """

    nodes: tuple
    edges: tuple[CycleEdge, ...]
    amount_fen: int
    first_date: date | None
    last_date: date | None

    @property
    def length(self) -> int:
        """How many firms the trade cycle passes through."""
        return len(self.nodes)


def _bounded_cycles(succ: dict, order: list, max_len: int):
    """Yield each simple cycle of at most *max_len* nodes once, as a list starting at its
    lowest node in *order*: a depth-first search from each node through higher ones."""
    rank = {n: i for i, n in enumerate(order)}
    for s in order:
        low = rank[s]
        path, on_path = [s], {s}
        stack = [iter(succ[s])]
        while stack:
            nxt = next(stack[-1], _END)
            if nxt is _END:
                stack.pop()
                on_path.discard(path.pop())
            elif nxt == s:
                yield list(path)
            elif len(path) < max_len and rank[nxt] > low and nxt not in on_path:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(succ[nxt]))


def short_cycles(G: nx.DiGraph, max_len: int = 4, *, min_len: int = 2) -> list[Cycle]:
    """Simple cycles of *min_len* to *max_len* firms over edges with trade in the window.

    Circular-trading candidates, largest ``amount_fen`` first. Each cycle starts at its
    smallest node so that results are stable. Only strongly connected parts of the
    traded graph are searched, each with a bounded depth-first search.
    """
    traded = nx.DiGraph()
    traded.add_edges_from((u, v) for u, v, vol in G.edges(data="volume_fen") if vol)
    found = []
    for part in nx.strongly_connected_components(traded):
        if len(part) < 2:
            continue
        succ = {n: [m for m in traded.successors(n) if m in part] for n in part}
        for nodes in _bounded_cycles(succ, sorted(part, key=_sort_key), max_len):
            if len(nodes) < min_len:
                continue
            edges = []
            for i, u in enumerate(nodes):
                v = nodes[(i + 1) % len(nodes)]
                d = G.edges[u, v]
                edges.append(CycleEdge(u, v, d["volume_fen"], d["invoice_count"],
                                       d.get("first_date"), d.get("last_date")))
            firsts = [e.first_date for e in edges if e.first_date]
            lasts = [e.last_date for e in edges if e.last_date]
            found.append(Cycle(tuple(nodes), tuple(edges), min(e.volume_fen for e in edges),
                               min(firsts) if firsts else None,
                               max(lasts) if lasts else None))
    found.sort(key=lambda c: (-c.amount_fen, c.length, [_sort_key(n) for n in c.nodes]))
    return found


def _sort_key(node):
    return (str(type(node)), node)


def communities(G: nx.DiGraph, *, seed: int = 7, resolution: float = 1.0) -> list[set]:
    """Louvain communities of the undirected trade graph weighted by volume (both
    directions summed), largest first. Seeded: the same graph gives the same answer."""
    U = nx.Graph()
    U.add_nodes_from(G.nodes)
    for u, v, vol in G.edges(data="volume_fen"):
        w = (vol or 0) + (U.edges[u, v]["weight"] if U.has_edge(u, v) else 0)
        U.add_edge(u, v, weight=w)
    if U.number_of_nodes() == 0:
        return []
    weight = "weight" if U.size(weight="weight") > 0 else None
    parts = nx.community.louvain_communities(U, weight=weight, seed=seed,
                                             resolution=resolution)
    return sorted((set(p) for p in parts), key=lambda p: (-len(p), min(map(_sort_key, p))))


@dataclass(frozen=True)
class Link:
    """Two firms that share an identity detail: ``kind`` is phone, bank_account or address.

    ``value`` is the normalised shared value (pages must mask bank accounts).
    """

    kind: str
    a: object
    b: object
    value: str


def normalise_identity(kind: str, raw) -> str:
    """The comparable form of a phone, bank account or address ('' when empty)."""
    if raw is None:
        return ""
    text = str(raw).strip()
    if kind == "phone":
        digits = re.sub(r"\D", "", text)
        # +86 / 0086 country prefix on mobile numbers
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        elif len(digits) == 15 and digits.startswith("0086"):
            digits = digits[4:]
        return digits
    if kind == "bank_account":
        return re.sub(r"[^0-9A-Za-z]", "", text).upper()
    return re.sub(r"[\s,，.。、#\-]", "", text).lower()


def shared_identity_links(G: nx.DiGraph, *, kinds: Iterable[str] = SHARED_KINDS,
                          max_group: int = 25) -> list[Link]:
    """Pairs of firms that share a phone, bank account or address.

    Values are normalised first (:func:`normalise_identity`). A value shared by more than
    *max_group* firms (a park's switchboard, a building's address) is skipped as generic
    and logged. Sorted by kind, then firms.
    """
    links = []
    for kind in kinds:
        groups = defaultdict(list)
        for node, raw in G.nodes(data=kind):
            value = normalise_identity(kind, raw)
            if value:
                groups[value].append(node)
        for value, members in groups.items():
            if len(members) < 2:
                continue
            if len(members) > max_group:
                logger.info("%s shared by %d firms skipped as generic", kind, len(members))
                continue
            members.sort(key=_sort_key)
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    links.append(Link(kind, a, b, value))
    links.sort(key=lambda lk: (SHARED_KINDS.index(lk.kind) if lk.kind in SHARED_KINDS else 9,
                               _sort_key(lk.a), _sort_key(lk.b)))
    return links
