"""Reader 11 (issue 15) on the vendor's apply and trade-entry pages: the apply page shows
what a loan gives and costs before applying (F8), a past-due invoice is recorded with a
warning (F1), a USCC with a wrong check character says so and the buyer list holds the
vendor's own counterparties and the park's anchors (F2)."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from tests.platform.conftest import login
from tests.platform.vendor_portal.test_finance import (  # noqa: F401  (the fixture)
    apply_for,
    confirmed_invoice,
    demo,
    money,
)
from trellis.demo.seed import PASSWORD
from trellis.ledger.models import Offer, Product


def _cell(page: str, attr: str, ident: int) -> str:
    return page.split(f'{attr}="{ident}">')[1].split("</td>")[0]


def test_the_apply_page_shows_the_advance_the_fee_and_the_offer_s_figures(client, session, demo):  # noqa: F811
    """F8: before applying, the page says the advance rate and the fee, and beside each
    invoice what the vendor receives, pays and the annualised rate: the figures of the
    offer the application then gets (one pricing)."""
    vendor = demo["vendor"]
    inv = confirmed_invoice(session, vendor.firm_id)
    product = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    login(client, vendor, PASSWORD)
    page = client.get("/vendor/apply").get_data(as_text=True)
    terms = page.split('id="product-terms">')[1].split("</p>")[0]
    assert "80%" in terms and f"{product.fee_bps / 100:.2f}%" in terms
    assert "放款" in terms and "手续费" in terms
    receive, cost, apr = (_cell(page, a, inv.id) for a in ("data-receive", "data-cost", "data-apr"))
    response = apply_for(client, [inv.id])
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    offer = session.exec(select(Offer).order_by(Offer.id.desc())).first()
    assert offer is not None
    assert receive == money(offer.amount_fen)
    assert cost.startswith(money(offer.total_cost_fen)) and money(offer.fee_fen) in cost
    assert apr == f"{Decimal(offer.apr) * 100:.2f}%"
