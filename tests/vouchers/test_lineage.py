"""The lineage picture: one box for the confirmation and one per fragment, text escaped."""

from __future__ import annotations

import re

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.vouchers import lineage
from trellis.vouchers import services as vs


def test_lineage_svg_shows_every_fragment_and_escapes_names(session, chain):
    chain.tier2.name = "<script>alert(1)</script>二级"
    session.add(chain.tier2)
    inv = invoice(session, chain.tier1, chain.anchor, 1_000_000)
    voucher = vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                       maturity_date=vs.add_months(clock.today(), 2), issued_on=clock.today())
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    vs.pay_supplier(session=session, holder_id=chain.tier1.id, fragment_id=root.id,
                    to_firm_id=chain.tier2.id, amount_fen=250_000)
    tree = lineage.build(session=session, voucher=voucher)
    svg = lineage.render_svg(tree, title="t")
    frags = vs.fragments(session=session, voucher_id=voucher.id)
    assert svg.count("<rect") == len(frags) + 1
    for f in frags:
        assert f'data-node="f{f.id}"' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "¥2,500.00" in svg and "¥7,500.00" in svg and "¥10,000.00" in svg
    assert inv.number[:6] in svg


def test_clip_counts_chinese_as_wide():
    assert lineage._clip("江" * 20, 10) == "江" * 4 + "…"
    assert lineage._clip("abc", 10) == "abc"


def test_no_line_of_the_picture_is_cut(session, chain):
    """Issue 15: the confirmation box read "到期 2027-06-..." (code and maturity on one
    line). Each fact has its own line and every line fits its box, in Chinese too."""
    inv = invoice(session, chain.tier1, chain.anchor, 1_000_000)
    voucher = vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                       maturity_date=vs.add_months(clock.today(), 2), issued_on=clock.today())
    labels = {"confirmation": "确权", "invoice": "发票", "matures": "到期"}
    tree = lineage.build(session=session, voucher=voucher, labels=labels)
    svg = lineage.render_svg(tree, title="t")
    assert f"到期 {voucher.maturity_date}" in svg and voucher.code in svg
    for node in lineage._walk(tree):
        for line in node.lines:
            assert lineage._clip(line) == line, line


def test_a_long_name_wraps_and_every_box_grows_to_hold_it(session, chain):
    """Issue 15: labels were cut with "…" to fit a box. A holder's name too long for one
    line wraps onto the next, every box of the picture grows to the tallest, and no text
    is lost."""
    chain.tier1.name = "苏州工业园区" + "精密" * 12 + "机械制造有限公司"   # 38 characters
    session.add(chain.tier1)
    inv = invoice(session, chain.tier1, chain.anchor, 1_000_000)
    voucher = vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                       maturity_date=vs.add_months(clock.today(), 2), issued_on=clock.today())
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    tree = lineage.build(session=session, voucher=voucher,
                         labels={"part": "第 %(n)s 号部分", "held": "持有中"},
                         describe=lambda ident: f"part {ident} in full")
    svg = lineage.render_svg(tree, title="t")
    assert "…" not in svg
    box = svg.split(f'data-node="f{root.id}"')[1].split("</g>")[0]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", box)
    n = len(lineage.wrap(chain.tier1.name))
    assert n == 3 and "".join(texts[:n]) == chain.tier1.name   # on three lines, whole
    assert texts[n:] == ["¥10,000.00", "第 1 号部分 · 持有中"]
    assert f"<title>part {root.id} in full</title>" in box
    heights = set(re.findall(r'<rect [^>]*height="(\d+)"', svg))
    assert heights == {str(lineage.LINE_H * (len(texts) + 1))}   # one height, grown
    ys = [int(y) for y in re.findall(r'<text [^>]*y="(\d+)"', box)]
    top = int(re.search(r'<rect [^>]*y="(\d+)"', box).group(1))
    assert max(ys) < top + int(heights.pop())               # the last line inside its box


def test_wrap_breaks_at_a_space_and_keeps_every_character():
    assert lineage.wrap("江" * 20, 10) == ["江" * 5] * 4
    assert lineage.wrap("Paid at maturity · Part No. 12", 20) == ["Paid at maturity ·",
                                                                  "Part No. 12"]
    assert lineage.wrap("short") == ["short"]
