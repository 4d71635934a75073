"""Invoice payments: the paid amount moves atomically and never passes the invoice's."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from tests.conftest import next_uscc
from tests.pgschema import pg_factory  # noqa: F401
from trellis import db
from trellis.errors import NotFound, ValidationError
from trellis.trade import payments
from trellis.trade.models import DocStatus, Firm, Invoice, Payment

TODAY = date(2026, 6, 1)


def _invoice(session, amount_fen=1_000_000, status=DocStatus.CONFIRMED):
    anchor = Firm(uscc=next_uscc(), name="核心企业", role="anchor")
    vendor = Firm(uscc=next_uscc(), name="供应商", role="vendor")
    session.add_all([anchor, vendor])
    session.flush()
    inv = Invoice(seller_id=vendor.id, buyer_id=anchor.id, number=f"INV-P{anchor.id}",
                  amount_fen=amount_fen, issue_date=TODAY - timedelta(days=30),
                  due_date=TODAY + timedelta(days=30), status=status)
    session.add(inv)
    session.flush()
    return inv


def _pay(session, inv, amount, ref, **kw):
    return payments.record_invoice_payment(
        session=session, payer_id=inv.buyer_id, invoice_id=inv.id, amount_fen=amount,
        paid_on=kw.pop("paid_on", TODAY), reference=ref, today=TODAY, **kw)


def test_payments_add_up_and_cannot_pass_the_amount(session):
    inv = _invoice(session)
    swept = []
    done = _pay(session, inv, 400_000, "R1", sweep=lambda **kw: swept.append(kw) or "rep")
    assert done.paid_fen == 400_000 and done.swept == "rep"
    assert swept[0]["idempotency_key"] == f"anchor-payment:{done.payment.id}"
    _pay(session, inv, 600_000, "R2")
    with pytest.raises(payments.Overpayment) as err:
        _pay(session, inv, 1, "R3")
    assert err.value.outstanding_fen == 0
    session.refresh(inv)
    assert inv.paid_fen == 1_000_000
    assert session.scalar(select(func.count()).select_from(Payment)
                          .where(Payment.payer_id == inv.buyer_id)) == 2


@pytest.mark.parametrize("change, error", [
    ({"amount": 0}, ValidationError), ({"amount": -5}, ValidationError),
    ({"amount": "100"}, ValidationError), ({"amount": 1_000_001}, payments.Overpayment),
    ({"paid_on": TODAY + timedelta(days=1)}, ValidationError),
    ({"paid_on": TODAY - timedelta(days=31)}, ValidationError),
    ({"ref": " "}, ValidationError), ({"payer": -1}, NotFound),
    ({"refuse": lambda s, i: "issued as a voucher"}, payments.InvoiceNotPayable),
])
def test_bad_payments_write_nothing(session, change, error):
    inv = _invoice(session)
    with pytest.raises(error):
        payments.record_invoice_payment(
            session=session, payer_id=change.get("payer", inv.buyer_id), invoice_id=inv.id,
            amount_fen=change.get("amount", 1_000), reference=change.get("ref", "R1"),
            paid_on=change.get("paid_on", TODAY), today=TODAY, refuse=change.get("refuse"))
    session.refresh(inv)
    assert inv.paid_fen == 0


def test_pending_invoice_and_reused_reference_are_refused(session):
    inv = _invoice(session, status=DocStatus.PENDING)
    with pytest.raises(payments.InvoiceNotPayable):
        _pay(session, inv, 1_000, "R1")
    ok = _invoice(session)
    _pay(session, ok, 1_000, "R1")
    with pytest.raises(payments.DuplicateReference):
        _pay(session, ok, 1_000, "R1")


def test_the_database_refuses_paid_above_the_amount(session):
    inv = _invoice(session)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(update(Invoice).where(Invoice.id == inv.id)
                        .values(paid_fen=Invoice.amount_fen + 1))


@pytest.mark.postgres_only
def test_concurrent_payments_lose_nothing(pg_factory):  # noqa: F811
    """24 threads pay one invoice at once: every accepted payment is in paid_fen, and
    the ones refused are exactly those that would have overpaid."""
    with db.transaction(pg_factory) as s:
        inv_id = _invoice(s, amount_fen=20 * 10_000).id
        buyer = s.get(Invoice, inv_id).buyer_id
    barrier = threading.Barrier(24)
    accepted, refused, errors = [], [], []

    def worker(n):
        try:
            barrier.wait(timeout=30)
            with db.transaction(pg_factory) as s:
                s.execute(text("select pg_sleep(0.01)"))
                payments.record_invoice_payment(
                    session=s, payer_id=buyer, invoice_id=inv_id, amount_fen=10_000,
                    paid_on=TODAY, reference=f"R{n}", today=TODAY)
            accepted.append(n)
        except payments.Overpayment:
            refused.append(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    with db.transaction(pg_factory) as s:
        inv = s.get(Invoice, inv_id)
        paid = s.scalar(select(func.sum(Payment.amount_fen)).where(Payment.payer_id == buyer))
        assert inv.paid_fen == paid == 20 * 10_000
    assert len(accepted) == 20 and len(refused) == 4
