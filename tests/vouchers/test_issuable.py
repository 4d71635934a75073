"""Outside reader 11, F10: the anchor's issue list offered invoices a loan already finances
and invoices long overdue. One rule (``vouchers.issuable``) now draws the list and checks the
issue; the page offers only what the issue accepts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.vouchers.factories import invoice, order
from trellis import clock
from trellis.ledger.claims import DocumentClaimed
from trellis.ledger.models import Loan, LoanDocument, Product
from trellis.vouchers import issuable
from trellis.vouchers import services as vs
from trellis.vouchers.errors import AlreadyFinanced, TenorTooLong

TODAY = clock.today()


def _loan_on(session, firm_id: int, status: str, **document) -> Loan:
    product = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    loan = Loan(
        firm_id=firm_id,
        product_id=product.id,
        amount_fen=100_000,
        rate_micro=0,
        status=status,
        waterfall=["principal"],
    )
    session.add(loan)
    session.flush()
    session.add(LoanDocument(loan_id=loan.id, **document))
    session.flush()
    return loan


@pytest.fixture
def invoices(session, chain):
    """One invoice of each kind the anchor owes its tier-1 supplier, by name."""
    c = chain
    made = {
        "fine": invoice(session, c.tier1, c.anchor),
        "overdue": invoice(session, c.tier1, c.anchor, issue_date=TODAY - timedelta(days=200)),
        "due_today": invoice(session, c.tier1, c.anchor, issue_date=TODAY - timedelta(days=60)),
        "financed": invoice(session, c.tier1, c.anchor),
        "repaid_loan": invoice(session, c.tier1, c.anchor),
        "order_financed": invoice(session, c.tier1, c.anchor),
    }
    _loan_on(session, c.tier1.id, "active", invoice_id=made["financed"].id)
    _loan_on(session, c.tier1.id, "repaid", invoice_id=made["repaid_loan"].id)
    po = order(session, c.tier1, c.anchor, status="confirmed")
    made["order_financed"].order_id = po.id
    session.add(made["order_financed"])
    _loan_on(session, c.tier1.id, "pending", order_id=po.id)
    return made


def test_the_list_offers_only_what_the_issue_accepts(session, chain, invoices):
    rows, total = issuable.issuable(session=session, anchor_id=chain.anchor.id, as_of=TODAY)
    offered = {inv.id for inv, _firm in rows}
    assert offered == {invoices["fine"].id, invoices["repaid_loan"].id}
    assert total == 2
    for inv in invoices.values():
        if inv.id in offered:
            assert (
                vs.issue(
                    session=session,
                    anchor_id=chain.anchor.id,
                    invoice_id=inv.id,
                    maturity_date=None,
                    issued_on=TODAY,
                ).face_fen
                == inv.amount_fen
            )
        else:
            with pytest.raises((AlreadyFinanced, DocumentClaimed, TenorTooLong)):
                vs.issue(
                    session=session,
                    anchor_id=chain.anchor.id,
                    invoice_id=inv.id,
                    maturity_date=TODAY + timedelta(days=30),
                    issued_on=TODAY,
                )


@pytest.mark.parametrize(
    "name, error, words",
    [
        ("overdue", TenorTooLong, "overdue"),
        ("financed", AlreadyFinanced, "already financed by a loan"),
        ("order_financed", DocumentClaimed, "the order it came from"),
    ],
)
def test_each_refusal_says_why(session, chain, invoices, name, error, words):
    """A maturity chosen by hand no longer lets an overdue invoice through."""
    with pytest.raises(error) as refused:
        vs.issue(
            session=session,
            anchor_id=chain.anchor.id,
            invoice_id=invoices[name].id,
            maturity_date=TODAY + timedelta(days=30),
            issued_on=TODAY,
        )
    assert words in str(
        refused.value.message if hasattr(refused.value, "message") else refused.value
    )
