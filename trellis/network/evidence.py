"""What the platform holds behind one document an anchor is asked to confirm (确权).

Confirming tells the bank that the anchor owes the invoice, on chain and for good: the
clerk checks it against the purchase order it names, that order's deliveries, and what
has already been paid on it (an invoice paid without being confirmed stays in the queue:
the demo park holds hundreds). :func:`invoice_facts` gathers those in three small
queries; :func:`order_facts` the deliveries of an order. Nothing here changes a record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from trellis.trade.models import (
    Delivery,
    DocStatus,
    Invoice,
    Payment,
    PaymentAllocation,
    PurchaseOrder,
)


def days_overdue(due_date: date | None, as_of: date) -> int:
    """Whole days *as_of* is past *due_date* (0 when not yet due or no due date)."""
    if due_date is None:
        return 0
    return max(0, (as_of - due_date).days)


@dataclass(frozen=True)
class DeliveryFact:
    """One delivery against an order: its day and value in fen."""

    delivered_on: date
    amount_fen: int


@dataclass(frozen=True)
class OrderFacts:
    """The purchase order a document refers to, with its deliveries (oldest first)."""

    id: int
    number: str
    order_date: date
    amount_fen: int
    status: str
    deliveries: list[DeliveryFact] = field(default_factory=list)

    @property
    def delivered_fen(self) -> int:
        """The value delivered so far, fen."""
        return sum(d.amount_fen for d in self.deliveries)


@dataclass(frozen=True)
class PaymentFact:
    """What one payment paid towards the invoice (fen), its day and bank reference."""

    paid_on: date
    reference: str
    amount_fen: int


@dataclass(frozen=True)
class InvoiceFacts:
    """An invoice's supporting facts: its order (None when it names none), the payments
    allocated to it (oldest first) and its paid amount (fen, the invoice's own figure)."""

    amount_fen: int
    paid_fen: int
    order: OrderFacts | None
    payments: list[PaymentFact]

    @property
    def unpaid_fen(self) -> int:
        """What is still owed on the invoice, fen (never below 0)."""
        return max(0, self.amount_fen - self.paid_fen)

    @property
    def paid_in_full(self) -> bool:
        """Nothing of the invoice is left to pay."""
        return self.paid_fen >= self.amount_fen

    @property
    def last_paid_on(self) -> date | None:
        """The day of the latest payment allocated to it, or None if none was."""
        return self.payments[-1].paid_on if self.payments else None


def _deliveries(session: Session, order_id: int) -> list[DeliveryFact]:
    rows = session.exec(select(col(Delivery.delivered_on), col(Delivery.amount_fen))
                        .where(col(Delivery.order_id) == order_id)
                        .order_by(col(Delivery.delivered_on), col(Delivery.id))).all()
    return [DeliveryFact(day, int(amount)) for day, amount in rows]


def order_facts(*, session: Session, order: PurchaseOrder) -> OrderFacts:
    """The order with its deliveries."""
    assert order.id is not None
    return OrderFacts(order.id, order.number, order.order_date, order.amount_fen,
                      str(order.status), _deliveries(session, order.id))


def invoice_facts(*, session: Session, invoice: Invoice) -> InvoiceFacts:
    """The order *invoice* names (and its deliveries) and the payments made on it."""
    order = None
    if invoice.order_id is not None:
        po = session.get(PurchaseOrder, invoice.order_id)
        # an order between other firms is not this anchor's to see
        if po is not None and po.buyer_id == invoice.buyer_id:
            order = order_facts(session=session, order=po)
    rows = session.exec(select(col(Payment.paid_on), col(Payment.reference),
                               col(PaymentAllocation.amount_fen))
                        .join(Payment, col(Payment.id) == col(PaymentAllocation.payment_id))
                        .where(col(PaymentAllocation.invoice_id) == invoice.id)
                        .order_by(col(Payment.paid_on), col(Payment.id))).all()
    payments = [PaymentFact(day, ref, int(amount)) for day, ref, amount in rows]
    return InvoiceFacts(invoice.amount_fen, invoice.paid_fen, order, payments)


#: What may make an invoice unsafe to confirm, in the order a clerk reads them: it names no
#: order the anchor placed; its order has no delivery recorded; it is already paid in full;
#: the seller issued another invoice, not rejected, to the same buyer for the same amount on
#: the same day (the bank's duplicate screen's "same buyer, amount and date"). A
#: confirmation of such an invoice is asked for one by one (reader 11, F9: one tick had
#: confirmed, in bulk, an invoice with neither order nor delivery behind it; reader 12, G1:
#: two identical invoices were confirmed together and both became collateral).
NO_ORDER, NO_DELIVERY, PAID, DUPLICATE = "no_order", "no_delivery", "paid", "duplicate"


def duplicate_numbers(*, session: Session, invoice_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """For each invoice of *invoice_ids* that has any, the numbers of the seller's other
    invoices to the same buyer with the same amount and issue date that the buyer has not
    rejected (in number order): one query whatever their number."""
    if not invoice_ids:
        return {}
    other = aliased(Invoice)
    rows = session.exec(
        select(col(Invoice.id), col(other.number))
        .join(other, (col(other.seller_id) == col(Invoice.seller_id))
              & (col(other.buyer_id) == col(Invoice.buyer_id))
              & (col(other.amount_fen) == col(Invoice.amount_fen))
              & (col(other.issue_date) == col(Invoice.issue_date))
              & (col(other.id) != col(Invoice.id))
              & (col(other.status) != DocStatus.REJECTED))
        .where(col(Invoice.id).in_(invoice_ids))
        .order_by(col(Invoice.id), col(other.number))).all()
    out: dict[int, list[str]] = {}
    for invoice_id, number in rows:
        out.setdefault(int(invoice_id or 0), []).append(str(number))
    return {k: tuple(v) for k, v in out.items()}


def invoice_cautions(*, session: Session, invoice_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The cautions (:data:`NO_ORDER`, :data:`NO_DELIVERY`, :data:`PAID`, :data:`DUPLICATE`)
    of each invoice of *invoice_ids* that has any, in three queries whatever their number."""
    if not invoice_ids:
        return {}
    rows = session.exec(
        select(col(Invoice.id), col(Invoice.amount_fen), col(Invoice.paid_fen),
               col(PurchaseOrder.id))
        .outerjoin(PurchaseOrder, (col(PurchaseOrder.id) == col(Invoice.order_id))
                   # an order between other firms is not one the anchor placed
                   & (col(PurchaseOrder.buyer_id) == col(Invoice.buyer_id)))
        .where(col(Invoice.id).in_(invoice_ids))).all()
    orders = {int(o) for _, _, _, o in rows if o is not None}
    delivered = set(session.exec(select(col(Delivery.order_id)).distinct()
                                 .where(col(Delivery.order_id).in_(orders))).all()) \
        if orders else set()
    twins = duplicate_numbers(session=session, invoice_ids=invoice_ids)
    out: dict[int, tuple[str, ...]] = {}
    for invoice_id, amount, paid, order_id in rows:
        found: tuple[str, ...] = ((NO_ORDER,) if order_id is None else
                                  () if order_id in delivered else (NO_DELIVERY,))
        found += (PAID,) * (int(paid) >= int(amount))
        found += (DUPLICATE,) * (int(invoice_id or 0) in twins)
        if found:
            out[int(invoice_id or 0)] = found
    return out
