"""Settlement at maturity: the anchor pays every live fragment's holder.

For a held fragment the anchor pays the holder (a trade :class:`Payment` to the holder,
allocated to the voucher's invoice). For a financed fragment the payment goes to the
platform's settlement account and repays the loan through the ledger
(:func:`trellis.ledger.lifecycle.repay` with source ``anchor``); the ledger owes any
surplus to the vendor. Each settled fragment gets a ``settle`` event on chain. Settling
is idempotent per fragment: a retry settles only what is still live.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from trellis.accounts.models import User
from trellis.clock import utcnow
from trellis.db import id_of, is_postgres
from trellis.ledger.lifecycle import lock_loans, repay
from trellis.trade.models import Invoice, Payment, PaymentAllocation
from trellis.vouchers import services
from trellis.vouchers.errors import NotMatured, VoucherNotFound
from trellis.vouchers.models import (
    LIVE,
    EventKind,
    FragmentStatus,
    Voucher,
    VoucherFragment,
    VoucherStatus,
)

logger = logging.getLogger(__name__)


@dataclass
class Settled:
    fragment_id: int
    holder_id: int
    amount_fen: int
    loan_id: int | None
    payment_id: int | None


def settle(*, session: Session, voucher_id: int, paid_on: date, anchor_id: int | None = None,
           user: User | None = None, today: date | None = None) -> list[Settled]:
    """Pay every live fragment of the voucher on *paid_on* (on or after maturity).

    *anchor_id*, when given, must be the issuer (another firm's voucher reads as missing).
    Returns what was paid; marks the voucher settled and the invoice paid. A financed
    part repays its loan, whose ledger refuses a *paid_on* after *today* (default: the
    date today).
    """
    query = select(Voucher).where(Voucher.id == voucher_id)
    if is_postgres(session):
        query = query.with_for_update()
    voucher = session.exec(query).first()
    if voucher is None or (anchor_id is not None and voucher.issuer_id != anchor_id):
        raise VoucherNotFound("That voucher does not exist.")
    if voucher.status == VoucherStatus.SETTLED:
        return []
    if paid_on < voucher.maturity_date:
        raise NotMatured(f"Voucher {voucher.code} matures on {voucher.maturity_date}; it "
                         "cannot be settled before.")
    live = list(session.exec(select(VoucherFragment).where(
        VoucherFragment.voucher_id == voucher.id,
        col(VoucherFragment.status).in_(list(LIVE))).order_by(col(VoucherFragment.id))))
    invoice = session.get_one(Invoice, voucher.invoice_id)
    _lock_loans(session, [f.loan_id for f in live if f.status == FragmentStatus.FINANCED])
    out = []
    for frag in live:
        payment_id = None
        if frag.status == FragmentStatus.FINANCED and frag.loan_id:
            repay(session=session, loan_id=frag.loan_id, amount_fen=frag.amount_fen,
                  paid_on=paid_on, idempotency_key=f"voucher-settle:{frag.id}",
                  source="anchor", invoice_id=invoice.id,
                  recorded_by=user.id if user else None, today=today)
        else:
            payment = Payment(payer_id=voucher.issuer_id, payee_id=frag.holder_id,
                              reference=f"{voucher.code}-{frag.id}", amount_fen=frag.amount_fen,
                              paid_on=paid_on)
            session.add(payment)
            session.flush()
            session.add(PaymentAllocation(payment_id=id_of(payment), invoice_id=id_of(invoice),
                                          amount_fen=frag.amount_fen))
            payment_id = payment.id
        frag.status = FragmentStatus.SETTLED
        frag.closed_at = utcnow()
        session.add(frag)
        session.flush()
        services.record_event(session=session, voucher=voucher, kind=EventKind.SETTLE,
                              fragment=frag, user=user, paid_on=paid_on.isoformat(),
                              to_loan=frag.loan_id is not None)
        out.append(Settled(id_of(frag), frag.holder_id, frag.amount_fen, frag.loan_id, payment_id))
    invoice.paid_fen = min(invoice.amount_fen, invoice.paid_fen + sum(s.amount_fen for s in out))
    session.add(invoice)
    voucher.status = VoucherStatus.SETTLED
    voucher.settled_at = utcnow()
    session.add(voucher)
    session.flush()
    logger.info("voucher %s settled: %d fragments, %d fen", voucher.code, len(out),
                sum(s.amount_fen for s in out))
    return out


def _lock_loans(session: Session, loan_ids: list[int | None]) -> None:
    """Lock the loans that financed parts will repay, by id, then their ledger heads,
    before the first repayment (:func:`trellis.ledger.lifecycle.lock_loans`)."""
    ids = [i for i in loan_ids if i]
    if ids:
        lock_loans(session, ids)


def settle_matured(*, session: Session, as_of: date) -> int:
    """Settle every active voucher whose maturity is on or before *as_of*; returns how many.

    One transaction: the vouchers are locked in id order, then every loan their financed
    parts repay (by id) and those loans' ledger heads, and only then is anything
    settled, so it never holds a head while waiting for a loan (see
    :func:`trellis.ledger.lifecycle.lock_loans`)."""
    query = (select(col(Voucher.id)).where(Voucher.status == VoucherStatus.ACTIVE,
                                           Voucher.maturity_date <= as_of)
             .order_by(col(Voucher.id)))
    if is_postgres(session):
        query = query.with_for_update()
    ids = list(session.exec(query))
    _lock_loans(session, list(session.exec(select(col(VoucherFragment.loan_id)).where(
        col(VoucherFragment.voucher_id).in_(ids),
        VoucherFragment.status == FragmentStatus.FINANCED))))
    for voucher_id in ids:
        if voucher_id is not None:  # a primary key: never None, but typed so
            settle(session=session, voucher_id=voucher_id, paid_on=as_of)
    return len(ids)
