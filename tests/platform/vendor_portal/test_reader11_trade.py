"""Reader 11 (issue 15) on trade entry: a past-due invoice is recorded as trade history
under a warning that it cannot be financed, not a green banner (F1); a USCC with a wrong
check character says so (GB 32100-2015) instead of "no such buyer", and the buyer list
holds the vendor's trading partners and the park's anchors, others typed by USCC (F2)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token
from tests.platform.vendor_portal.test_trade import (  # noqa: F401  (the vendor fixture)
    invoice_form,
    upload,
    vendor,
)
from trellis import clock
from trellis.onboarding import trade_entry
from trellis.trade import uscc
from trellis.trade.models import Invoice

TODAY = clock.today()
URL = "/vendor/trade/invoices/new"


def _flashes(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<div class="flash flash-(\w+)"[^>]*>([^<]*)</div>', page)


def _zh(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


@pytest.mark.parametrize("days, said", [
    (-20, "已逾期，不能用于融资"),
    (0, "今天到期，不能用于融资"),
])
def test_a_due_invoice_is_recorded_with_a_warning_not_in_green(client, session, chain,
                                                               vendor, days, said):  # noqa: F811
    """F1: trade entry records it (trade history), and says plainly, as a warning, that
    it is due and cannot be financed."""
    _zh(client)
    form = invoice_form(chain, issue_date=(TODAY - timedelta(days=60)).isoformat(),
                        due_date=(TODAY + timedelta(days=days)).isoformat())
    response = client.post(URL, data={"csrf_token": csrf_token(client, URL), **form})
    assert response.status_code == 303
    saved = session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).one()
    assert saved.status == "pending"
    flashes = _flashes(client.get(response.location).get_data(as_text=True))
    assert [c for c, _text in flashes] == ["warning"], flashes
    assert "已作为交易记录保存" in flashes[0][1] and said in flashes[0][1]


def test_an_invoice_not_yet_due_is_still_saved_in_green(client, session, chain, vendor):  # noqa: F811
    response = client.post(URL, data={"csrf_token": csrf_token(client, URL),
                                      **invoice_form(chain)})
    assert response.status_code == 303
    flashes = _flashes(client.get(response.location).get_data(as_text=True))
    assert [c for c, _text in flashes] == ["success"], flashes


def test_an_upload_with_due_invoices_says_how_many_cannot_be_financed(client, session, chain,
                                                                      vendor):  # noqa: F811
    issue = (TODAY - timedelta(days=90)).isoformat()
    text = ("buyer_uscc,number,amount,issue_date,due_date\n"
            f"{chain.anchor.uscc},U-1,100,{issue},{(TODAY - timedelta(days=30)).isoformat()}\n"
            f"{chain.anchor.uscc},U-2,100,{issue},{(TODAY + timedelta(days=30)).isoformat()}\n")
    response = upload(client, text)
    assert response.status_code == 303
    flashes = _flashes(client.get(response.location).get_data(as_text=True))
    assert ("warning", "1 of the invoices saved are already due: they are recorded as trade "
            "history and cannot be financed.") in flashes


def test_the_core_says_why_a_due_invoice_cannot_be_financed():
    inv = Invoice(seller_id=1, buyer_id=2, number="X", amount_fen=1, issue_date=TODAY,
                  due_date=TODAY - timedelta(days=1))
    assert trade_entry.cannot_finance(inv, TODAY) is not None
    inv.due_date = TODAY + timedelta(days=1)
    assert trade_entry.cannot_finance(inv, TODAY) is None


def test_a_wrong_check_character_is_named(client, session, chain, vendor):  # noqa: F811
    """F2: a USCC one character off read as "no such buyer"; it says the check character
    is wrong, and which it should be."""
    _zh(client)
    good = chain.anchor.uscc
    wrong = good[:17] + next(c for c in uscc.ALPHABET if c != good[17])
    response = client.post(URL, data={"csrf_token": csrf_token(client, URL),
                                      **invoice_form(chain, buyer=wrong)})
    assert response.status_code == 422
    error = response.get_data(as_text=True).split('id="buyer-error">')[1].split("</p>")[0]
    assert "校验位错误" in error and f"应为 {good[17]}" in error and "GB 32100-2015" in error
    assert "没有与" not in error
    assert session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).all() == []


def test_the_buyer_list_holds_partners_and_anchors_and_others_are_typed_by_uscc(
        client, session, chain, vendor):  # noqa: F811
    """F2: the list no longer shows every firm of the park; a firm the vendor never
    traded with is not found by name, but is by its USCC."""
    page = client.get(URL).get_data(as_text=True)
    listed = page.split('id="buyer-options"')[1].split("</datalist>")[0]
    assert chain.anchor.uscc in listed and chain.tier2.uscc in listed
    assert chain.outsider.uscc not in listed and chain.tier3.uscc not in listed
    by_name = client.post(URL, data={"csrf_token": csrf_token(client, URL),
                                     **invoice_form(chain, buyer=chain.outsider.name)})
    assert by_name.status_code == 422
    by_code = client.post(URL, data={"csrf_token": csrf_token(client, URL),
                                     **invoice_form(chain, buyer=chain.outsider.uscc,
                                                    number="OUT-1")})
    assert by_code.status_code == 303
    saved = session.exec(select(Invoice).where(Invoice.number == "OUT-1")).one()
    assert saved.buyer_id == chain.outsider.id
    # now a trading partner: listed from then on
    assert chain.outsider.uscc in client.get(URL).get_data(as_text=True)
