"""Settlement at maturity pays every live holder, once; the scheduled job does it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.trade.models import Invoice, Payment, PaymentAllocation
from trellis.vouchers import services as vs
from trellis.vouchers.errors import NotMatured, VoucherNotFound
from trellis.vouchers.jobs import settle_vouchers
from trellis.vouchers.settlement import settle

TODAY = clock.today()


def _matured_voucher(session, chain, face=900_000):
    inv = invoice(session, chain.tier1, chain.anchor, face, issue_date=TODAY - timedelta(days=50))
    voucher = vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                       maturity_date=TODAY + timedelta(days=30),
                       issued_on=TODAY - timedelta(days=40))
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    vs.pay_supplier(session=session, holder_id=chain.tier1.id, fragment_id=root.id,
                    to_firm_id=chain.tier2.id, amount_fen=300_000,
                    as_of=TODAY - timedelta(days=39))
    return voucher, inv


def test_settle_pays_every_holder_once(session, chain):
    voucher, inv = _matured_voucher(session, chain)
    with pytest.raises(NotMatured):
        settle(session=session, voucher_id=voucher.id, paid_on=voucher.maturity_date
               - timedelta(days=1))
    with pytest.raises(VoucherNotFound):
        settle(session=session, voucher_id=voucher.id, paid_on=voucher.maturity_date,
               anchor_id=chain.tier1.id)
    paid = settle(session=session, voucher_id=voucher.id, paid_on=voucher.maturity_date)
    assert sorted((p.holder_id, p.amount_fen) for p in paid) == sorted(
        [(chain.tier1.id, 600_000), (chain.tier2.id, 300_000)])
    payments = session.exec(select(Payment).where(Payment.payer_id == chain.anchor.id)).all()
    assert sum(p.amount_fen for p in payments) == voucher.face_fen
    allocs = session.exec(select(PaymentAllocation).where(
        PaymentAllocation.invoice_id == inv.id)).all()
    assert sum(a.amount_fen for a in allocs) == voucher.face_fen
    assert session.get(Invoice, inv.id).paid_fen == inv.amount_fen
    assert vs.live_total(session=session, voucher_id=voucher.id) == 0
    assert settle(session=session, voucher_id=voucher.id, paid_on=voucher.maturity_date) == []
    assert [e.kind for e in vs.events(session=session, voucher_id=voucher.id)][-2:] == [
        "settle", "settle"]


def test_the_job_settles_matured_vouchers(session, session_factory, chain):
    voucher, _inv = _matured_voucher(session, chain)
    voucher.maturity_date = TODAY  # as if today were maturity day
    voucher.tenor_days = (TODAY - voucher.issued_on).days
    session.add(voucher)
    session.commit()
    assert settle_vouchers(session_factory=session_factory, settings=None) == \
        "settled 1 matured voucher(s)"
    session.refresh(voucher)
    assert voucher.status == "settled"
    assert settle_vouchers(session_factory=session_factory, settings=None) == \
        "settled 0 matured voucher(s)"
