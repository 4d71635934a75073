"""A buyer's payment of an invoice: the trade fact, and what it sets off.

:func:`record_invoice_payment` writes the payment and its allocation to the invoice and
adds the amount to ``invoices.paid_fen`` in one conditional statement
(``UPDATE ... SET paid_fen = paid_fen + :x WHERE paid_fen + :x <= amount_fen RETURNING``):
two payments of one invoice at once cannot both read the old figure and lose one of them,
and together they cannot pay more than the invoice (the database's CHECK
``paid_fen between 0 and amount_fen`` stands behind it, migration ``0011a``).

Trade sits below the ledger and the vouchers, so what a payment sets off is given to it:
*refuse(session, invoice)* returns a reason the invoice cannot be paid this way (an
invoice issued as a voucher is paid through the voucher), and *sweep(...)* hands the money
to the ledger (:func:`trellis.ledger.lifecycle.anchor_payment`), which repays the loan
financing the invoice. The invoice row is updated before the sweep locks the loan, in the
same order on every path, so the two never wait on each other in reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from trellis.db import id_of
from trellis.errors import N_, Conflict, Money, NotFound, ValidationError
from trellis.messages import Message, msg
from trellis.trade.models import DocStatus, Invoice, Payment, PaymentAllocation

logger = logging.getLogger(__name__)


class InvoiceNotPayable(Conflict):
    """Raised when an invoice cannot be paid directly (not confirmed, issued as a voucher)."""

    code = "invoice_not_payable"


class Overpayment(ValidationError):
    """Raised when a payment would take an invoice's paid amount above its amount;
    ``outstanding_fen`` is what is still unpaid."""

    code = "overpayment"

    def __init__(self, message: str | Message, *, outstanding_fen: int, **kwargs):
        super().__init__(message, field="amount", **kwargs)
        self.outstanding_fen = outstanding_fen


class DuplicateReference(Conflict):
    """Raised when the payer already recorded a payment with this bank reference."""

    code = "duplicate_reference"


@dataclass(frozen=True, slots=True)
class Recorded:
    payment: Payment
    paid_fen: int          # the invoice's paid amount after this payment
    swept: object | None   # what *sweep* returned (the ledger's repayment), or None


def add_paid(*, session: Session, invoice_id: int, amount_fen: int) -> int | None:
    """Add *amount_fen* (> 0) to the invoice's paid amount, atomically; returns the new
    paid amount, or None (nothing changed) when it would exceed the invoice's amount."""
    if type(amount_fen) is not int or amount_fen <= 0:
        raise ValidationError(N_("The amount must be a positive whole number of fen."),
                              field="amount")
    new = session.execute(
        update(Invoice).where(col(Invoice.id) == invoice_id,
                              col(Invoice.paid_fen) + amount_fen <= col(Invoice.amount_fen))
        .values(paid_fen=Invoice.paid_fen + amount_fen).returning(col(Invoice.paid_fen))
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if new is not None:
        invoice = session.get(Invoice, invoice_id)
        if invoice is not None:   # keep the identity map in step with the row
            session.refresh(invoice, ["paid_fen"])
    return new


def record_invoice_payment(*, session: Session, payer_id: int, invoice_id: int,
                           amount_fen: int, paid_on: date, reference: str, today: date,
                           refuse: Callable[[Session, Invoice], str | Message | None] | None = None,
                           sweep: Callable[..., object] | None = None,
                           recorded_by: int | None = None) -> Recorded:
    """Record that *payer_id* (the invoice's buyer) paid *amount_fen* fen of *invoice_id*
    on *paid_on* (not after *today*, not before the invoice's issue date).

    Raises :class:`~trellis.errors.NotFound` (no such invoice owed by the payer),
    :class:`InvoiceNotPayable`, :class:`Overpayment`, :class:`DuplicateReference` or
    :class:`~trellis.errors.ValidationError` (a date or reference); nothing is written
    then. *sweep* is called as ``sweep(session=, invoice_id=, amount_fen=, paid_on=,
    idempotency_key=, recorded_by=)`` after the payment is written.
    """
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.buyer_id != payer_id:
        raise NotFound(N_("That invoice does not exist or is not owed by your firm."))
    if invoice.status != DocStatus.CONFIRMED:
        raise InvoiceNotPayable(msg(N_("Invoice %(number)s is not confirmed; confirm it first."),
                                    number=invoice.number))
    reason = refuse(session, invoice) if refuse is not None else None
    if reason:
        raise InvoiceNotPayable(reason)
    if type(paid_on) is not date:
        raise ValidationError(N_("The payment date must be a date."), field="paid_on")
    if paid_on > today:
        raise ValidationError(N_("The payment date cannot be in the future."), field="paid_on")
    if paid_on < invoice.issue_date:
        raise ValidationError(N_("The payment date is before the invoice was issued."),
                              field="paid_on")
    reference = (reference or "").strip()
    if not reference or len(reference) > 64:
        raise ValidationError(N_("Enter the bank reference (at most 64 characters)."),
                              field="reference")
    if session.scalars(select(col(Payment.id)).where(col(Payment.payer_id) == payer_id,
                                                col(Payment.reference) == reference)).first():
        raise DuplicateReference(_duplicate(reference))
    paid = add_paid(session=session, invoice_id=id_of(invoice), amount_fen=amount_fen)
    if paid is None:
        session.refresh(invoice)
        outstanding = invoice.amount_fen - invoice.paid_fen
        raise Overpayment(msg(N_("Only %(outstanding)s is still unpaid on this invoice: the "
                                 "payment cannot be larger."),
                              outstanding=Money(outstanding)),
                          outstanding_fen=outstanding)
    payment = Payment(payer_id=payer_id, payee_id=invoice.seller_id, reference=reference,
                      amount_fen=amount_fen, paid_on=paid_on)
    try:
        with session.begin_nested():   # a concurrent payment with the same reference
            session.add(payment)
            session.flush()
    except IntegrityError:
        raise DuplicateReference(_duplicate(reference)) from None
    session.add(PaymentAllocation(payment_id=id_of(payment), invoice_id=id_of(invoice),
                                  amount_fen=amount_fen))
    session.flush()
    swept = None
    if sweep is not None:
        swept = sweep(session=session, invoice_id=invoice.id, amount_fen=amount_fen,
                      paid_on=paid_on, idempotency_key=f"anchor-payment:{payment.id}",
                      recorded_by=recorded_by)
    logger.info("invoice %s: payment %s of %s fen (paid %s of %s)", invoice.id, payment.id,
                amount_fen, paid, invoice.amount_fen)
    return Recorded(payment, paid, swept)


def _duplicate(reference: str) -> Message:
    return msg(N_("A payment with reference %(reference)s is already recorded; nothing was "
                  "changed."), reference=reference)
