"""The anchor's own supplier neighbourhood as a server-rendered SVG (no JavaScript).

Three columns: second-tier suppliers, direct suppliers, the anchor. Edges run from
supplier to buyer with a width by the last 12 months' volume. Only the largest suppliers
are drawn (:data:`MAX_TIER1`, :data:`MAX_TIER2`); the table beside it lists them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import networkx as nx

MAX_TIER1, MAX_TIER2 = 30, 60
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
                    if u != anchor), key=lambda x: -x[1])
    t1_nodes = {u for u, _ in tier1}
    best: dict = {}
    for b in t1_nodes:
        for u, _, d in G.in_edges(b, data=True):
            if u in t1_nodes or u == anchor:
                continue
            vol = d.get("volume_fen", 0) or 0
            if u not in best or vol > best[u][1]:
                best[u] = (b, vol)
    tier2 = sorted(((u, b, v) for u, (b, v) in best.items()), key=lambda x: -x[2])

    def name(n) -> str:
        return G.nodes[n].get("name") or str(n)

    return ([Supplier(u, name(u), 1, v, anchor) for u, v in tier1],
            [Supplier(u, name(u), 2, v, b) for u, b, v in tier2])


def _clip(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def render_svg(G: nx.DiGraph, anchor, *, title: str, flagged: set | None = None) -> str:
    """An SVG picture of *anchor*'s supply neighbourhood: tier-1 suppliers and their tier-2
    suppliers (at most MAX_TIER1 and MAX_TIER2), *flagged* firms marked."""
    tier1, tier2 = neighbourhood(G, anchor)
    tier1, tier2 = tier1[:MAX_TIER1], [s for s in tier2 if s.buyer in
                                       {t.node for t in tier1[:MAX_TIER1]}][:MAX_TIER2]
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
