"""A holder's earlier voucher parts gathered per voucher (reader Q12, tenth session)."""

from __future__ import annotations

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.vouchers import services as vs
from trellis.vouchers.history import past_vouchers

TODAY = clock.today()


def _issue(session, chain, amount=1_000_000):
    inv = invoice(session, chain.tier1, chain.anchor, amount)
    return vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                    maturity_date=vs.add_months(TODAY, 3), issued_on=TODAY)


def _split_and_pass_on(session, chain, voucher, times):
    (part,) = vs.fragments(session=session, voucher_id=voucher.id)
    for _ in range(times):
        given, part = vs.split(session=session, holder_id=chain.tier1.id, fragment_id=part.id,
                               amounts=[100_000, part.amount_fen - 100_000])
        vs.transfer(session=session, holder_id=chain.tier1.id, fragment_id=given.id,
                    to_firm_id=chain.tier2.id)


def test_closed_parts_are_gathered_per_voucher_latest_first(session, chain):
    old, quiet, busy = (_issue(session, chain) for _ in range(3))
    _split_and_pass_on(session, chain, old, 1)
    _split_and_pass_on(session, chain, busy, 3)
    found, total = past_vouchers(session=session, holder_id=chain.tier1.id)
    assert total == 2 and [g.voucher.id for g in found] == [busy.id, old.id]
    busy_parts = found[0]
    assert (busy_parts.passed_on, busy_parts.passed_on_fen, busy_parts.split) == \
        (3, 300_000, 3)
    assert len(busy_parts.parts) == 6 and busy_parts.settled_fen == 0
    ids = [p.id for p in busy_parts.parts]
    assert ids == sorted(ids, reverse=True)                        # newest first
    assert all(p.holder_id == chain.tier1.id for p in busy_parts.parts)
    # a limit cuts vouchers, never the parts of one; another holder sees its own
    found, total = past_vouchers(session=session, holder_id=chain.tier1.id, limit=1)
    assert total == 2 and len(found) == 1 and len(found[0].parts) == 6
    assert past_vouchers(session=session, holder_id=chain.tier3.id) == ([], 0)
    assert quiet.id not in {g.voucher.id for g in found}
