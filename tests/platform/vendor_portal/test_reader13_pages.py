"""Reader 13 (issue 15) on the vendor's pages. H10: the invoice list marks a past-due
invoice in words (the trade entry page warned; the list did not)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.vouchers.factories import invoice
from trellis.trade.models import DocStatus

TODAY = date.today()


def _zh(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


@pytest.fixture
def vendor(client, logged_in, chain):
    user = logged_in("vendor", firm=chain.tier1)
    _zh(client)
    return user


def _row(page: str, number: str) -> str:
    return next(r for r in page.split("<tr") if number in r)


def test_the_invoice_list_says_past_due_in_words(client, session, chain, vendor):
    seller, buyer = chain.tier1, chain.anchor
    late = invoice(session, seller, buyer, issue_date=TODAY - timedelta(days=90),
                   terms_days=60, number="LATE-1")
    paid = invoice(session, seller, buyer, issue_date=TODAY - timedelta(days=90),
                   terms_days=60, number="PAID-1")
    paid.paid_fen = paid.amount_fen
    refused = invoice(session, seller, buyer, issue_date=TODAY - timedelta(days=90),
                      terms_days=60, number="REFUSED-1", status=DocStatus.REJECTED)
    today = invoice(session, seller, buyer, issue_date=TODAY - timedelta(days=60),
                    terms_days=60, number="TODAY-1")
    later = invoice(session, seller, buyer, number="LATER-1")
    session.add(paid)
    session.flush()
    page = client.get("/vendor/trade?kind=invoice").get_data(as_text=True)
    row = _row(page, "LATE-1")
    assert f'data-past-due="{late.id}"' in row and "已逾期" in row
    assert f"到期日 {late.due_date.isoformat()}" in row and "尚未付清" in row
    for doc in (paid, refused, today, later):   # paid, refused, due today, not yet due
        assert "data-past-due" not in _row(page, doc.number), doc.number
