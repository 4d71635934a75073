"""The anchor's own supplier neighbourhood as a server-rendered SVG (no JavaScript).

Three columns: second-tier suppliers, direct suppliers, the anchor. Edges run from
supplier to buyer with a width by the last 12 months' volume. A firm that sold nothing in
those 12 months is no supplier here. Only the largest suppliers are drawn (:func:`drawn`:
:data:`MAX_TIER1` direct and :data:`MAX_TIER2` second-tier ones, with up to
:data:`EXTRA_TIER1` more direct suppliers that the largest second-tier ones sell to); the
tables beside it list them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import networkx as nx

MAX_TIER1, MAX_TIER2 = 30, 60
EXTRA_TIER1 = 10   # direct suppliers drawn beyond MAX_TIER1 to carry large second-tier ones
COL_W, ROW_H, BOX_W, BOX_H, PAD = 250, 30, 180, 22, 12


@dataclass
class Supplier:
    node: int
    name: str
    tier: int
    volume_fen: int  # sold to its buyer in this picture (12 months)
    buyer: int


def neighbourhood(G: nx.DiGraph, anchor) -> tuple[list[Supplier], list[Supplier]]:
    """Direct suppliers of *anchor* and their own suppliers, largest volume first."""
    if anchor not in G:
        return [], []
    tier1 = sorted(((u, d.get("volume_fen", 0) or 0) for u, _, d in G.in_edges(anchor, data=True)
                    if u != anchor and (d.get("volume_fen", 0) or 0) > 0), key=lambda x: -x[1])
    t1_nodes = {u for u, _ in tier1}
    best: dict = {}
    for b in t1_nodes:
        for u, _, d in G.in_edges(b, data=True):
            if u in t1_nodes or u == anchor:
                continue
            vol = d.get("volume_fen", 0) or 0
            if vol > 0 and (u not in best or vol > best[u][1]):
                best[u] = (b, vol)
    tier2 = sorted(((u, b, v) for u, (b, v) in best.items()), key=lambda x: -x[2])

    def name(n) -> str:
        return G.nodes[n].get("name") or str(n)

    return ([Supplier(u, name(u), 1, v, anchor) for u, v in tier1],
            [Supplier(u, name(u), 2, v, b) for u, b, v in tier2])


def drawn(G: nx.DiGraph, anchor, tier1: list[Supplier], tier2: list[Supplier]
          ) -> tuple[list[Supplier], list[Supplier]]:
    """The suppliers the picture draws, of :func:`neighbourhood`'s *tier1* and *tier2*:
    the :data:`MAX_TIER1` largest direct suppliers, and the :data:`MAX_TIER2` largest
    second-tier ones, each on its largest edge to a drawn direct supplier, or, when it
    sells to none of them, beside its own largest buyer, drawn as well (at most
    :data:`EXTRA_TIER1` of those; past them no smaller one is drawn either). Once only
    the largest direct suppliers' own suppliers were drawn, and the park's two largest
    second-tier suppliers were not."""
    shown1 = list(tier1[:MAX_TIER1])
    nodes1 = {s.node for s in shown1}
    by_node = {s.node: s for s in tier1}
    shown2: list[Supplier] = []
    extra = 0
    for s in tier2:
        if len(shown2) >= MAX_TIER2:
            break
        if s.buyer in nodes1:
            shown2.append(s)
            continue
        other = max(((b, d.get("volume_fen", 0) or 0) for _, b, d in G.out_edges(s.node, data=True)
                     if b in nodes1 and b != anchor and (d.get("volume_fen", 0) or 0) > 0),
                    key=lambda x: x[1], default=None)
        if other is not None:
            shown2.append(Supplier(s.node, s.name, 2, other[1], other[0]))
        elif extra < EXTRA_TIER1 and s.buyer in by_node:
            extra += 1
            nodes1.add(s.buyer)
            shown1.append(by_node[s.buyer])
            shown2.append(s)
        else:
            break   # what is drawn stays "the largest N", none skipped
    return shown1, shown2


def _clip(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def render_svg(G: nx.DiGraph, anchor, *, title: str, flagged: set | None = None,
               shown: tuple[list[Supplier], list[Supplier]] | None = None) -> str:
    """An SVG picture of *anchor*'s supply neighbourhood: tier-1 suppliers and their tier-2
    suppliers (*shown*, or those of :func:`drawn`), *flagged* firms marked."""
    tier1, tier2 = shown if shown is not None else drawn(G, anchor, *neighbourhood(G, anchor))
    flagged = flagged or set()
    rows = max(len(tier1), len(tier2), 1)
    height = PAD * 2 + rows * ROW_H
    width = PAD * 2 + 2 * COL_W + BOX_W
    pos = {}
    for col, group in ((0, tier2), (1, tier1)):
        top = PAD + (rows - len(group)) * ROW_H / 2
        for i, s in enumerate(group):
            pos[s.node] = (PAD + col * COL_W, top + i * ROW_H)
    pos[anchor] = (PAD + 2 * COL_W, PAD + (rows - 1) * ROW_H / 2)
    top_volume = max([s.volume_fen for s in tier1 + tier2] + [1])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
           f'width="{width}" height="{height:.0f}" role="img" aria-label="{escape(title)}" '
           'font-family="sans-serif" font-size="11">', f"<title>{escape(title)}</title>"]
    for s in tier2 + tier1:
        (x1, y1), (x2, y2) = pos[s.node], pos[s.buyer]
        w = 0.8 + 5 * math.sqrt(s.volume_fen / top_volume)
        out.append(f'<line x1="{x1 + BOX_W:.0f}" y1="{y1 + BOX_H / 2:.0f}" x2="{x2:.0f}" '
                   f'y2="{y2 + BOX_H / 2:.0f}" stroke="#94a3b8" stroke-opacity="0.7" '
                   f'stroke-width="{w:.1f}"/>')
    for s in tier2 + tier1:
        x, y = pos[s.node]
        stroke = "#b91c1c" if s.node in flagged else ("#0f6b5c" if s.tier == 1 else "#5d6b7a")
        out.append(f'<g data-firm="{s.node}"><rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" '
                   f'height="{BOX_H}" rx="5" fill="#fff" stroke="{stroke}"/>'
                   f'<text x="{x + 6:.0f}" y="{y + 15:.0f}">{escape(_clip(s.name))}</text></g>')
    x, y = pos[anchor]
    out.append(f'<g data-firm="{anchor}"><rect x="{x:.0f}" y="{y - 6:.0f}" width="{BOX_W}" '
               f'height="{BOX_H + 12}" rx="6" fill="#0f6b5c"/><text x="{x + 8:.0f}" '
               f'y="{y + 15:.0f}" fill="#fff" font-weight="700">'
               f'{escape(_clip(G.nodes[anchor].get("name") or "", 18))}</text></g>')
    out.append("</svg>")
    return "\n".join(out)
