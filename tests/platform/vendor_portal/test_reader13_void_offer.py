"""Reader 13, J2: after the firm's first loan paid out, a second approved offer still
promised the first-loan cooling-off, showed an accept button (which was refused) and held
its invoices ("已在申请 1 中") until it lapsed. Once void (``expiry.void_first_loan_offers``,
called by ``lifecycle.disburse``; tests/ledger covers the pay-out), the page says so in
Chinese, with no promise and no button, and the invoice can be applied for again."""

from __future__ import annotations

from sqlmodel import select

from tests.platform.conftest import csrf_token, login
from tests.platform.vendor_portal.test_finance import (  # noqa: F401  (the fixture)
    apply_for,
    confirmed_invoice,
    demo,
)
from trellis.demo.seed import PASSWORD
from trellis.ledger import expiry
from trellis.ledger.models import Loan, Offer


def test_a_void_offer_reads_void_and_frees_its_invoice(client, session, demo):  # noqa: F811
    vendor = demo["vendor"]
    # the demo firm's loans, if any, are left out: its offers are then priced as a first loan
    for loan in session.exec(select(Loan).where(Loan.firm_id == vendor.firm_id)):
        loan.status = "cancelled"
        session.add(loan)
    session.flush()
    login(client, vendor, PASSWORD)
    inv = confirmed_invoice(session, vendor.firm_id)
    response = apply_for(client, [inv.id])
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    page_url = response.location
    offer = session.exec(select(Offer).order_by(Offer.id.desc())).first()
    assert offer.first_loan and offer.status == "open"
    before = client.get(page_url).get_data(as_text=True)
    assert "冷静期权利" in before and "/accept" in before
    assert f'id="claimed-{inv.id}"' in client.get("/vendor/apply").get_data(as_text=True)

    assert expiry.void_first_loan_offers(session=session, firm_id=vendor.firm_id) == [offer.id]
    page = client.get(page_url).get_data(as_text=True)
    assert 'id="offer-void"' in page and "此报价已作废" in page
    assert "首贷冷静期不再适用" in page
    assert "冷静期权利" not in page and "/accept" not in page
    assert f'id="claimed-{inv.id}"' not in client.get("/vendor/apply").get_data(as_text=True)
    accepted = client.post(page_url + "/accept", data={
        "csrf_token": csrf_token(client, page_url), "read": "y"})
    assert accepted.status_code == 303
    assert "此报价已作废" in client.get(accepted.location).get_data(as_text=True)
    assert session.exec(select(Loan).where(Loan.offer_id == offer.id)).first() is None
