"""Reader 13 (issue 15) on the vendor's pages. H10: the invoice list marks a past-due
invoice in words (the trade entry page warned; the list did not)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.protection import payout
from trellis.trade.models import DocStatus

TODAY = clock.today()


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


def test_the_profile_masks_the_payout_account_as_the_offer_and_loan_pages_do(
        client, session, chain, vendor):
    """H11: the profile showed ``6222 **** 1234`` (the firm record's number, its own
    masking) where the offer and loan pages show ``招商银行 ····1234``: every page now
    shows the consented payout account through ``payout.label``, one masking."""
    account = payout.current(session=session, firm_id=chain.tier1.id)
    assert account is not None
    page = client.get("/vendor/profile").get_data(as_text=True)
    shown = page.split('id="payout-account">')[1].split("</dd>")[0]
    digits = "".join(ch for ch in account.account_number if ch.isdigit())
    assert payout.label(account) in shown
    assert shown.count(digits[-4:]) == 1 and "****" not in shown and digits[:4] not in shown
    bank_page = client.get("/vendor/bank-account").get_data(as_text=True)
    assert "****" not in bank_page and payout.label(account) in bank_page
