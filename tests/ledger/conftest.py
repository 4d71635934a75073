"""Fixtures of the ledger tests.

``books_checked`` (autouse): after every test that used the database session, the whole
ledger is checked (:func:`trellis.ledger.reports.check`: entries balance, the trial
balance sums to zero, every loan equals its sub-ledger, the hash chain verifies, every
entry is explained by a business fact) and the test fails with the list of problems.
Tests marked ``journal_unit`` (posting bare entries to test the journal itself) are
checked without the business facts.

``make_loan`` creates a firm and a loan row directly (``pending`` unless ``disburse``),
for tests of the journal and the lifecycle below the application stage.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.platform.conftest import app, client, logged_in, settings  # noqa: F401
from trellis.ledger import reports


@pytest.fixture(autouse=True)
def books_checked(request):
    # fetched before the test so that the session outlives this fixture's teardown
    session = request.getfixturevalue("session") if "session" in request.fixturenames else None
    yield
    if session is None or not session.is_active:
        return
    session.flush()
    # unit tests of the journal itself post entries no business fact explains (marked
    # ``journal_unit``); everything else of the check still runs after them
    facts = request.node.get_closest_marker("journal_unit") is None
    problems = reports.check(session=session, facts=facts)
    assert problems == [], "the books are wrong after the test:\n" + "\n".join(problems)


@pytest.fixture
def product(session):
    from trellis.ledger.models import Product

    def get(code: str = "RF-STD") -> Product:
        return session.scalars(select(Product).where(Product.code == code)).one()

    return get


@pytest.fixture
def make_loan(session, make_firm, product):
    from trellis.ledger import lifecycle
    from trellis.ledger.models import Loan

    def make(*, amount_fen: int = 1_000_000, rate: str = "0.072", fee_fen: int = 0,
             penalty_rate: str = "0", due_date: date = date(2026, 3, 31),
             disburse: date | None = date(2026, 1, 1), first_loan: bool = False,
             cooling_off_days: int = 7, firm=None, day_count: int = 360) -> Loan:
        from trellis.ledger.apr import rate_micro

        firm = firm or make_firm()
        loan = Loan(firm_id=firm.id, product_id=product().id, amount_fen=amount_fen,
                    rate_micro=rate_micro(rate), penalty_rate_micro=rate_micro(penalty_rate),
                    day_count=day_count, fee_fen=fee_fen, cooling_off_days=cooling_off_days,
                    first_loan=first_loan, due_date=due_date,
                    waterfall=["penalty", "fees", "interest", "principal"])
        session.add(loan)
        session.flush()
        if disburse is not None:
            lifecycle.disburse(session=session, settings=None, loan_id=loan.id,
                               as_of=disburse)
        return loan

    return make


# --- a small trade world for origination ---------------------------------------------

AS_OF = date(2026, 1, 15)


class World:
    """A cluster with an anchor and a steady, strong vendor (14 months of confirmed sales,
    paid on time, to the anchor and to a second buyer, so that no one buyer takes almost
    everything: the expert card weighs that dependency) that holds open confirmed
    invoices and orders to finance. The vendor scores grade A without meter readings and
    without a year-before quarter."""

    def __init__(self, session, make_cluster, make_firm):
        from datetime import UTC, datetime, timedelta

        from trellis.accounts.services import grant_consent
        from trellis.trade.models import (
            Delivery,
            Invoice,
            Payment,
            PaymentAllocation,
            PurchaseOrder,
        )

        self.session = session
        self.cluster = make_cluster()
        self.anchor = make_firm(role="anchor", cluster_id=self.cluster.id)
        self.vendor = make_firm(cluster_id=self.cluster.id)
        self.other = make_firm(cluster_id=self.cluster.id)
        # a second, smaller buyer (a trading company, not an anchor): the anchor takes
        # about 60 % of the vendor's sales, the share of a diversified vendor
        self.buyer = make_firm(cluster_id=self.cluster.id, industry="wholesale_retail")
        self._n = 0
        self._Invoice, self._PurchaseOrder, self._Delivery = Invoice, PurchaseOrder, Delivery
        self._timedelta, self._datetime, self._UTC = timedelta, datetime, UTC
        for i in range(14):
            y, m = divmod(11 + i, 12)
            issued = date(2024 + y, m + 1, 5)
            for buyer, amount in ((self.anchor, 200_000_00), (self.buyer, 130_000_00)):
                inv = self.invoice(amount, issued=issued, buyer=buyer)
                pay = Payment(payer_id=buyer.id, payee_id=self.vendor.id,
                              reference=f"P{inv.id}", amount_fen=inv.amount_fen,
                              paid_on=issued + timedelta(days=60))
                session.add(pay)
                session.flush()
                session.add(PaymentAllocation(payment_id=pay.id, invoice_id=inv.id,
                                              amount_fen=inv.amount_fen))
        for firm in (self.anchor, self.vendor, self.other, self.buyer):
            grant_consent(session=session, firm_id=firm.id, purpose="trade_data")
        session.flush()

    def invoice(self, amount_fen, *, issued=date(2026, 1, 5), due=None, seller=None,
                confirmed=True, order=None, buyer=None):
        """A confirmed invoice backed by an order and a delivery (unless *order* given),
        to the anchor unless *buyer* is given."""
        seller = seller or self.vendor
        buyer = buyer or self.anchor
        if order is None:
            order = self.order(amount_fen, on=issued - self._timedelta(days=10),
                               seller=seller, buyer=buyer)
            self.session.add(self._Delivery(order_id=order.id, amount_fen=amount_fen,
                                            delivered_on=issued - self._timedelta(days=2)))
        self._n += 1
        inv = self._Invoice(
            seller_id=seller.id, buyer_id=buyer.id, number=f"INV-L{self._n}",
            amount_fen=amount_fen, issue_date=issued,
            due_date=due or issued + self._timedelta(days=60),
            status="confirmed" if confirmed else "pending",
            order_id=order.id if order is not None else None,
            confirmed_at=self._datetime.combine(issued, self._datetime.min.time(), self._UTC)
            if confirmed else None)
        self.session.add(inv)
        self.session.flush()
        return inv

    def order(self, amount_fen, *, on=date(2026, 1, 10), confirmed=True, seller=None,
              buyer=None):
        self._n += 1
        po = self._PurchaseOrder(buyer_id=(buyer or self.anchor).id,
                                 seller_id=(seller or self.vendor).id,
                                 number=f"PO-L{self._n}", amount_fen=amount_fen, order_date=on,
                                 status="confirmed" if confirmed else "pending")
        self.session.add(po)
        self.session.flush()
        return po


@pytest.fixture
def world(session, make_cluster, make_firm):
    return World(session, make_cluster, make_firm)


@pytest.fixture
def chain_settings():
    from trellis.config import Settings

    return Settings(fingerprint_key="ledger-test-fingerprint-key")


@pytest.fixture
def embedded_chain(chain_settings):
    """A fresh embedded chain installed as the process-wide chain for the settings."""
    from trellis.chain import client as client_mod

    chain = client_mod.Chain.embedded()
    client_mod.use_chain(chain_settings, chain)
    yield chain
    client_mod.reset_chains()


def set_product(session, code: str, **values):
    """Change product data for one test (rolled back with it)."""
    from trellis.ledger.models import Product

    p = session.scalars(select(Product).where(Product.code == code)).one()
    for k, v in values.items():
        setattr(p, k, v)
    session.flush()
    return p
