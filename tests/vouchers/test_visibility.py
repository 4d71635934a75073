"""Outside reader 11, F23: a tier-2 holder saw its customer's holdings on the voucher's
page. ``vouchers.visibility`` is the rule: a firm sees its own parts and the parts passed
on along the way to them (from whom, no amount); the issuer sees everything. F11: a part
passed on says to whom, the part it became from whom."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.vouchers import lineage, visibility
from trellis.vouchers import services as vs

TODAY = clock.today()


@pytest.fixture
def passed_down(session, chain):
    """tier1 keeps 6,000.00 and passes 4,000.00 to tier2; tier2 keeps 1,500.00 and passes
    2,500.00 to tier3. Returns the voucher and its parts by name."""
    inv = invoice(session, chain.tier1, chain.anchor, amount_fen=1_000_000)
    voucher = vs.issue(
        session=session,
        anchor_id=chain.anchor.id,
        invoice_id=inv.id,
        maturity_date=TODAY + timedelta(days=40),
        issued_on=TODAY,
    )
    (root,) = vs.fragments(session=session, voucher_id=voucher.id)
    to_tier2, tier1_keeps = vs.pay_supplier(
        session=session,
        holder_id=chain.tier1.id,
        fragment_id=root.id,
        to_firm_id=chain.tier2.id,
        amount_fen=400_000,
        as_of=TODAY,
    )
    to_tier3, tier2_keeps = vs.pay_supplier(
        session=session,
        holder_id=chain.tier2.id,
        fragment_id=to_tier2.id,
        to_firm_id=chain.tier3.id,
        amount_fen=250_000,
        as_of=TODAY,
    )
    return voucher, {
        "tier1_keeps": tier1_keeps,
        "to_tier2": to_tier2,
        "tier2_keeps": tier2_keeps,
        "to_tier3": to_tier3,
    }


def _sight(session, voucher, firm_id):
    return visibility.sight(
        vs.fragments(session=session, voucher_id=voucher.id),
        viewer_id=firm_id,
        issuer_id=voucher.issuer_id,
    )


def test_a_tier2_holder_sees_its_own_parts_and_from_whom(session, chain, passed_down):
    voucher, parts = passed_down
    seen = _sight(session, voucher, chain.tier2.id)
    shown = {f.id for f in vs.fragments(session=session, voucher_id=voucher.id) if seen.shows(f.id)}
    held_by = {f.id: f.holder_id for f in vs.fragments(session=session, voucher_id=voucher.id)}
    assert parts["tier1_keeps"].id not in shown  # its customer's holding
    assert parts["to_tier3"].id not in shown  # its supplier's holding
    assert parts["to_tier2"].id in shown and parts["tier2_keeps"].id in shown
    # the one part of another firm it sees: the one passed on to it, not in full
    sources = [i for i in shown if held_by[i] != chain.tier2.id]
    assert len(sources) == 1 and held_by[sources[0]] == chain.tier1.id
    assert not seen.in_full(sources[0]) and not seen.face_value
    # and the picture says so: no amount of another firm, from whom, due when
    tree = lineage.build(session=session, voucher=voucher, seen=seen)
    svg = lineage.render_svg(tree)
    assert "¥6,000.00" not in svg and "¥10,000.00" not in svg
    # what it passed on to tier3 once (its own part), not tier3's part beside it
    assert svg.count("¥2,500.00") == 1 and svg.count("¥4,000.00") == 1
    assert "¥1,500.00" in svg and "from" in svg and "一级供应商" in svg
    assert str(voucher.maturity_date) in svg


def test_the_first_holder_does_not_see_what_its_supplier_did(session, chain, passed_down):
    voucher, parts = passed_down
    seen = _sight(session, voucher, chain.tier1.id)
    assert seen.face_value
    assert not seen.shows(parts["to_tier2"].id) and not seen.shows(parts["tier2_keeps"].id)
    svg = lineage.render_svg(lineage.build(session=session, voucher=voucher, seen=seen))
    # the part it passed on says to whom, once: not a second box of the same amount
    assert svg.count("¥4,000.00") == 1
    assert "passed on to" in svg and "二级供应商" in svg


def test_the_issuer_sees_every_part(session, chain, passed_down):
    voucher, parts = passed_down
    seen = _sight(session, voucher, chain.anchor.id)
    assert all(seen.in_full(p.id) for p in parts.values()) and seen.face_value
    svg = lineage.render_svg(lineage.build(session=session, voucher=voucher, seen=seen))
    for amount in ("¥6,000.00", "¥1,500.00", "¥2,500.00"):
        assert amount in svg
