"""Reader R8 (issue 15): a voucher's lineage picture after many splits and transfers was
wider than a 390 px phone, with nothing saying it scrolls. The picture scrolls inside its
own box (the page never wider than the screen), and a Chinese hint says so while, and only
while, the picture is wider than its box."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.browser.conftest import DESKTOP, PHONE, log_in, shot, use_chinese
from trellis import clock

HINT = "左右滑动查看完整流转图"
_MEASURE = """() => {
    const box = document.querySelector('.lineage');
    const hint = document.getElementById('lineage-hint');
    return {page: document.documentElement.scrollWidth, view: window.innerWidth,
            box: box.clientWidth, picture: box.scrollWidth,
            hint: hint && !hint.hidden && hint.offsetParent !== null ? hint.innerText : null};
}"""


def _vouchers(live) -> tuple[int, int, int]:
    """Two vouchers of the demo anchor on invoices of the first demo vendor: one split over
    and over and passed on in part to the second demo vendor (its supplier), 14 parts deep
    in places; one just issued. Returns (the long one, its part count, the short one)."""
    from trellis.accounts.models import User
    from trellis.db import transaction
    from trellis.trade.models import Invoice
    from trellis.vouchers import services as vs

    with transaction(live.sessions) as s:
        users = {u.email: u for u in s.exec(select(User).where(
            User.email.in_(["vendor@trellis.demo", "vendor2@trellis.demo"])))}
        tier1 = users["vendor@trellis.demo"].firm_id
        tier2 = users["vendor2@trellis.demo"].firm_id
        invoices = s.exec(select(Invoice).where(
            Invoice.seller_id == tier1, Invoice.buyer_id == live.anchor_firm_id,
            Invoice.status == "confirmed", Invoice.paid_fen == 0,
            Invoice.due_date > clock.today()).order_by(Invoice.amount_fen.desc())).all()
        long, short = (vs.issue(session=s, anchor_id=live.anchor_firm_id, invoice_id=i.id,
                                maturity_date=None) for i in invoices[:2])
        (part,) = vs.fragments(session=s, voucher_id=long.id)
        for step in range(10):
            small = part.amount_fen // 10
            given, kept = vs.split(session=s, holder_id=tier1, fragment_id=part.id,
                                   amounts=[small, part.amount_fen - small])
            if step % 3 == 0:   # a transfer now and then: the supplier's own branch
                vs.pay_supplier(session=s, holder_id=tier1, fragment_id=given.id,
                                to_firm_id=tier2, amount_fen=given.amount_fen)
            part = kept
        parts = len(vs.fragments(session=s, voucher_id=long.id))
        return int(long.id), parts, int(short.id)


@pytest.mark.parametrize("who", ["anchor", "vendor"])
def test_a_long_lineage_scrolls_in_its_box_with_a_hint_on_a_phone(fresh_live, new_page, who):
    live = fresh_live
    long_id, parts, short_id = live.state.get("lineage") or _vouchers(live)
    live.state["lineage"] = (long_id, parts, short_id)
    assert parts >= 20
    page = new_page(viewport=PHONE)
    log_in(page, live, f"{who}@trellis.demo")
    use_chinese(page)
    page.goto(f"{live.url}/{who}/vouchers/{long_id}")
    page.wait_for_load_state()
    found = page.evaluate(_MEASURE)
    shot(page, f"lineage-phone-{who}")
    assert found["page"] <= found["view"], found          # the page never scrolls sideways
    assert found["picture"] > 2 * found["box"], found     # the picture does, in its box
    assert found["hint"] == HINT, found
    # the box scrolls (by touch, and by keyboard: it takes the focus)
    page.focus(".lineage")
    page.keyboard.press("End")
    page.evaluate("() => { document.querySelector('.lineage').scrollLeft = 600; }")
    assert page.evaluate("() => document.querySelector('.lineage').scrollLeft") > 0
    assert page.evaluate(_MEASURE)["page"] <= found["view"]
    # a picture that fits its box has no hint: the same voucher page on a desktop for a
    # just-issued voucher (two boxes wide), and it comes back when the window narrows
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live.url}/{who}/vouchers/{short_id}")
    page.wait_for_load_state()
    wide = page.evaluate(_MEASURE)
    assert wide["picture"] <= wide["box"] and wide["hint"] is None, wide
    page.set_viewport_size(PHONE)
    page.wait_for_function("() => !document.getElementById('lineage-hint').hidden")
    narrow = page.evaluate(_MEASURE)
    assert narrow["hint"] == HINT and narrow["page"] <= narrow["view"], narrow
