"""Fixtures of the scoring tests: a small trade-history builder on the test session."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from trellis.trade.models import (
    CreditNote,
    Delivery,
    Invoice,
    LoanOutcome,
    Payment,
    PaymentAllocation,
    PurchaseOrder,
    Relationship,
)

_numbers = itertools.count(1)


class Trade:
    """Adds orders, deliveries, invoices, payments and credit notes between test firms."""

    def __init__(self, session):
        self.session = session

    def relationship(self, supplier, buyer, since, terms=60):
        rel = Relationship(supplier_id=supplier.id, buyer_id=buyer.id, since=since,
                           payment_terms_days=terms)
        self.session.add(rel)
        self.session.flush()
        return rel

    def sale(self, seller, buyer, amount_fen, issued: date, *, terms=60, paid_after=None,
             confirmed=False, order=True, delivered=True, number=None, paid_fen=None):
        """An invoice (with its order and delivery) paid *paid_after* days after issue."""
        n = next(_numbers)
        po = None
        if order:
            po = PurchaseOrder(buyer_id=buyer.id, seller_id=seller.id, number=f"PO{n}",
                               amount_fen=amount_fen, order_date=issued - timedelta(days=10))
            self.session.add(po)
            self.session.flush()
            if delivered:
                self.session.add(Delivery(order_id=po.id, delivered_on=issued - timedelta(days=2),
                                          amount_fen=amount_fen))
        inv = Invoice(seller_id=seller.id, buyer_id=buyer.id, number=number or f"INV{n}",
                      amount_fen=amount_fen, issue_date=issued,
                      due_date=issued + timedelta(days=terms), order_id=po.id if po else None,
                      status="confirmed" if confirmed else "pending",
                      confirmed_at=(datetime.combine(issued + timedelta(days=3),
                                                     datetime.min.time(), UTC)
                                    if confirmed else None))
        self.session.add(inv)
        self.session.flush()
        if paid_after is not None:
            amount = paid_fen or amount_fen
            pay = Payment(payer_id=buyer.id, payee_id=seller.id, reference=f"P{n}",
                          amount_fen=amount, paid_on=issued + timedelta(days=paid_after))
            self.session.add(pay)
            self.session.flush()
            self.session.add(PaymentAllocation(payment_id=pay.id, invoice_id=inv.id,
                                               amount_fen=amount))
            self.session.flush()
        return inv

    def credit_note(self, invoice, amount_fen, issued, reason="return"):
        cn = CreditNote(seller_id=invoice.seller_id, buyer_id=invoice.buyer_id,
                        invoice_id=invoice.id, number=f"CN{next(_numbers)}",
                        amount_fen=amount_fen, issued_on=issued, reason=reason)
        self.session.add(cn)
        self.session.flush()
        return cn

    def outcome(self, firm, disbursed_on, defaulted):
        row = LoanOutcome(firm_id=firm.id, disbursed_on=disbursed_on, amount_fen=10_000_00,
                          defaulted=defaulted)
        self.session.add(row)
        self.session.flush()
        return row

    def monthly_sales(self, seller, buyer, *, start: date, months: int, amount_fen: int,
                      paid_after=60, confirmed=True, terms=60, per_month=1):
        """*per_month* invoices on the 5th (and later days) of each month from *start*."""
        out = []
        for i in range(months):
            y, m = divmod(start.month - 1 + i, 12)
            for j in range(per_month):
                day = date(start.year + y, m + 1, 5 + 7 * j)
                out.append(self.sale(seller, buyer, amount_fen, day, terms=terms,
                                     paid_after=paid_after, confirmed=confirmed))
        return out


@pytest.fixture
def trade(session):
    return Trade(session)


# The web platform's fixtures (app, client, login helpers), for the page and API tests.
from tests.platform.conftest import app, client, csrf_token, logged_in, login, settings  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test rolls its database back, which never happens in production: a cached
    cluster graph from an earlier test must not be taken for this one's."""
    from trellis.network import build
    from trellis.scoring import frames

    frames.clear_cache()
    build.clear_cache()
    yield
