"""A voucher's lineage as a picture: a server-rendered SVG tree, no JavaScript.

The first box is the anchor's confirmation of the invoice; then the issued voucher (the
root fragment) and every split and transfer down to each fragment's current holder.
Boxes are laid out as a tidy tree: depth left to right, leaves top to bottom, a parent
centred on its children. A part's box names its holder, its amount, its number (its place
in the voucher, :mod:`trellis.vouchers.naming`, as the parts table beside the picture
numbers it) and its state in words; its tooltip is the part's
full name. A part passed on says to whom ("passed on to <firm>") and the part it became
says from whom, so one amount seen twice reads as what was given and what is held
(outside reader 11, F11). Given a :class:`~trellis.vouchers.visibility.Sight`, the tree
holds only the parts that viewer sees: a source part (passed on by another firm on the
way to the viewer's) names the firm that passed it on, no amount (F23). Text is escaped
and never cut: a line too long for its box wraps, and every
box of the picture grows to the tallest. Labels come from the caller (translated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from sqlmodel import Session, col, select

from trellis.db import id_of
from trellis.trade.models import Firm, Invoice
from trellis.vouchers.models import Voucher, VoucherFragment
from trellis.vouchers.naming import part_numbers
from trellis.vouchers.visibility import Sight, transfers, visible_parent

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 240, 80, 46, 14, 10
UNITS = 34  # text width per line in half-em units (a CJK character counts 2)
LINE_H = 16  # px between text lines; a box is LINE_H x (its lines + 1) high, BOX_H at least
COLOURS = {"held": "#15803d", "financed": "#a16207", "settled": "#5d6b7a",
           "split": "#94a3b8", "transferred": "#94a3b8", "root": "#0f6b5c"}


@dataclass
class Node:
    key: str
    title: str
    lines: list[str]
    status: str
    children: list[Node] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    fragment_id: int | None = None
    tip: str | None = None   # the box's tooltip: the part's full name


def yuan_text(fen: int) -> str:
    """``123456`` -> ``¥1,234.56`` (Decimal, never float)."""
    return f"¥{Decimal(fen) / 100:,.2f}"


def build(*, session: Session, voucher: Voucher, labels: dict[str, str] | None = None,
          describe: Callable[[int], str] | None = None, seen: Sight | None = None) -> Node:
    """The lineage tree: confirmation -> root fragment -> parts and transfers.

    *labels* holds the words (``confirmation``, ``invoice``, ``matures``, ``part``: a
    template with ``%(n)s`` for the part's number, ``passed_to`` and ``from``: templates
    with ``%(firm)s``, and one per fragment status); *describe* gives a part's full name
    (fragment id -> text) for its box's tooltip; *seen*, what the viewer may see (None:
    every part)."""
    labels = {"confirmation": "Confirmation", "invoice": "Invoice", "matures": "matures",
              "part": "Part No. %(n)s", "passed_to": "passed on to %(firm)s",
              "from": "from %(firm)s", **(labels or {})}
    status_label = labels.get
    invoice = session.get_one(Invoice, voucher.invoice_id)
    frags = list(session.exec(select(VoucherFragment).where(
        col(VoucherFragment.voucher_id) == voucher.id).order_by(col(VoucherFragment.id))))
    firm_ids = {f.holder_id for f in frags} | {voucher.issuer_id}
    names = {f.id: f.name for f in session.exec(select(Firm).where(col(Firm.id).in_(firm_ids)))}
    numbers = part_numbers(session, [id_of(f) for f in frags])
    went = transfers(frags)
    came = {child.id: parent for parent, child in went.items()}
    by_id = {f.id: f for f in frags}
    shown = [f for f in frags if seen is None or seen.shows(f.id)]
    nodes: dict[int | None, Node] = {}
    for frag in shown:
        number = labels["part"] % {"n": numbers[id_of(frag)]}
        if frag.id in went:   # passed on: to whom, not a second "transferred" amount
            state = labels["passed_to"] % {"firm": names.get(went[frag.id].holder_id, "?")}
        else:
            state = status_label(frag.status, frag.status)
            if frag.id in came:
                giver = by_id[came[frag.id]].holder_id
                state += " · " + labels["from"] % {"firm": names.get(giver, "?")}
        if seen is not None and not seen.in_full(frag.id):
            lines = [f"{number} · {state}"]   # a source: who passed it on, no amount
        else:
            lines = [yuan_text(frag.amount_fen), f"{number} · {state}"]
        nodes[frag.id] = Node(key=f"f{frag.id}", title=names.get(frag.holder_id, "?"),
                              lines=lines, status=frag.status, fragment_id=frag.id,
                              tip=describe(id_of(frag)) if describe and (
                                  seen is None or seen.in_full(frag.id)) else None)
    roots: list[Node] = []
    for frag in shown:
        parent = frag.parent_id if seen is None else visible_parent(frag, frags, seen)
        if parent is None:
            roots.append(nodes[frag.id])
        else:
            nodes[parent].children.append(nodes[frag.id])
    top = Node(key="confirmation", title=names.get(voucher.issuer_id, "?"),
               lines=[f"{labels['confirmation']} · {labels['invoice']} {invoice.number}",
                      voucher.code, f"{labels['matures']} {voucher.maturity_date}"],
               status="root", children=roots)
    return top


def _layout(node: Node, depth: int, next_row: list[int], box_h: int = BOX_H) -> None:
    node.x = PAD + depth * (BOX_W + GAP_X)
    if not node.children:
        node.y = PAD + next_row[0] * (box_h + GAP_Y)
        next_row[0] += 1
        return
    for child in node.children:
        _layout(child, depth + 1, next_row, box_h)
    node.y = (node.children[0].y + node.children[-1].y) / 2


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _width(ch: str) -> int:
    return 2 if ord(ch) > 0x2E7F else 1


def wrap(text: str, limit: int = UNITS) -> list[str]:
    """*text* in lines of at most *limit* half-em units (CJK characters are twice as
    wide), broken after a space where one falls in the line, else between characters:
    nothing is cut."""
    lines: list[str] = []
    while text:
        used, end = 0, 0
        for i, ch in enumerate(text):
            used += _width(ch)
            if used > limit:
                break
            end = i + 1
        else:
            lines.append(text)
            break
        space = text.rfind(" ", 0, end + 1)
        cut = space if space > 0 else max(end, 1)
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return lines or [""]


def _clip(text: str, limit: int = UNITS) -> str:
    """Cut *text* to fit *limit* half-em units (CJK characters are twice as wide)."""
    used, out = 0, list[str]()
    for ch in text:
        used += _width(ch)
        if used > limit:
            return "".join(out[:-1]) + "…"
        out.append(ch)
    return text


def render_svg(tree: Node, *, title: str = "Voucher lineage",
               highlight_firm: str | None = None) -> str:
    """The tree as a standalone SVG document (a string of markup, safely escaped)."""
    nodes = list(_walk(tree))
    texts = {id(n): (wrap(n.title), [part for line in n.lines for part in wrap(line)])
             for n in nodes}
    box_h = max([BOX_H] + [LINE_H * (len(t) + len(b) + 1) for t, b in texts.values()])
    _layout(tree, 0, [0], box_h)
    width = int(max(n.x for n in nodes) + BOX_W + PAD)
    height = int(max(n.y for n in nodes) + box_h + PAD)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
           'font-family="sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>"]
    for node in nodes:
        for child in node.children:
            x1, y1 = node.x + BOX_W, node.y + box_h / 2
            x2, y2 = child.x, child.y + box_h / 2
            mid = (x1 + x2) / 2
            out.append(f'<path d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} '
                       f'{x2:.0f},{y2:.0f}" fill="none" stroke="#94a3b8" stroke-width="1.5"/>')
    for node in nodes:
        colour = COLOURS.get(node.status, "#5d6b7a")
        live = node.status in ("held", "financed")
        mine = highlight_firm is not None and node.title == highlight_firm
        out.append(f'<g data-node="{escape(node.key)}">')
        if node.tip:
            out.append(f"<title>{escape(node.tip)}</title>")
        out.append(f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{BOX_W}" height="{box_h}" '
                   f'rx="8" fill="{"#f0fdf4" if live else "#ffffff"}" stroke="{colour}" '
                   f'stroke-width="{3 if mine else 1.5}"/>')
        heads, body = texts[id(node)]
        y = node.y + 19
        for line in heads:
            out.append(f'<text x="{node.x + 10:.0f}" y="{y:.0f}" font-weight="700" '
                       f'fill="#1c2430">{escape(line)}</text>')
            y += LINE_H
        y += 2
        inked = len(wrap(node.lines[0])) if node.lines else 0
        for i, line in enumerate(body):
            # the first fact (the amount, the confirmation) in ink, the rest in the colour
            ink = "#1c2430" if i < inked else colour
            out.append(f'<text x="{node.x + 10:.0f}" y="{y:.0f}" '
                       f'fill="{ink}">{escape(line)}</text>')
            y += LINE_H
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
