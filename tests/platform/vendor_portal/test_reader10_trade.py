"""Reader Q1 and Q3 (tenth session): on the vendor's invoice and order entry, a buyer that
fits several firms offers them to pick, and every bad field says so at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token
from tests.vouchers.factories import order
from trellis import clock
from trellis.trade.models import Invoice, PurchaseOrder

TODAY = clock.today()
INVOICES, ORDERS = "/vendor/trade/invoices/new", "/vendor/trade/orders/new"


@pytest.fixture
def vendor(client, session, logged_in, chain):
    # tier 3 sells to the vendor too: both "级供应商" are its trading partners, whom the
    # buyer box matches by name (reader 11, F2: not every firm of the park)
    order(session, chain.tier3, chain.tier1)
    user = logged_in("vendor", firm=chain.tier1)
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    return user


def invoice_form(chain, **kw):
    return {"buyer": chain.anchor.name, "number": "33001234", "amount": "12500",
            "issue_date": (TODAY - timedelta(days=3)).isoformat(),
            "due_date": (TODAY + timedelta(days=57)).isoformat(), "order_number": "", **kw}


def errors_of(body: str) -> set[str]:
    import re
    return set(re.findall(r'id="([a-z_]+)-error"', body))


@pytest.mark.parametrize("url, change, fields", [
    (INVOICES, {"issue_date": "2026-13-45", "due_date": "2026-02-30"},
     {"issue_date", "due_date"}),
    (INVOICES, {"issue_date": (TODAY + timedelta(days=2)).isoformat(),
                "due_date": (TODAY - timedelta(days=30)).isoformat()},
     {"issue_date", "due_date"}),
    (INVOICES, {"amount": "abc", "due_date": (TODAY - timedelta(days=30)).isoformat()},
     {"amount", "due_date"}),
    (INVOICES, {"buyer": "级供应商", "due_date": (TODAY - timedelta(days=30)).isoformat()},
     {"buyer", "due_date"}),
    (INVOICES, {"buyer": "no such firm", "issue_date": "2026/3/1",
                "order_number": "PO-NOPE"}, {"buyer", "issue_date"}),
    (INVOICES, {"issue_date": "", "due_date": "", "number": "", "amount": ""},
     {"issue_date", "due_date", "number", "amount"}),
    (ORDERS, {"buyer": "no such firm", "order_date": "2026-13-45"}, {"buyer", "order_date"}),
    (ORDERS, {"buyer": "no such firm", "order_date": (TODAY + timedelta(days=3)).isoformat(),
              "amount": "-1"}, {"buyer", "order_date", "amount"}),
])
def test_every_bad_field_says_so_at_once(client, session, chain, vendor, url, change, fields):
    data = invoice_form(chain, **change)
    if url == ORDERS:
        data.setdefault("order_date", TODAY.isoformat())
    response = client.post(url, data={"csrf_token": csrf_token(client, url), **data})
    assert response.status_code == 422
    assert errors_of(response.get_data(as_text=True)) == fields
    assert session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).all() == []


def picks_of(body: str) -> list[str]:
    import re
    offers = body.split('id="buyer-picks"')[1].split("</div>")[0]
    return re.findall(r'<button type="submit" class="button pick" name="picked" '
                      r'value="([^"]+)"', offers)


@pytest.mark.parametrize("url", [INVOICES, ORDERS])
def test_an_ambiguous_buyer_offers_the_firms_to_pick(client, session, chain, vendor, url):
    """Reader Q1: "与 2 家买方相符" named the firms as plain text. Each is now a button
    of the same form: pressing one (no JavaScript needed) saves with that buyer and what
    else was typed; a bad field elsewhere keeps the picked buyer in the box."""
    data = invoice_form(chain, buyer="级供应商") | {"order_date": TODAY.isoformat()}
    response = client.post(url, data={"csrf_token": csrf_token(client, url), **data})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    picks = picks_of(body)
    assert sorted(picks) == sorted(f"{f.name} · {f.uscc}" for f in (chain.tier2, chain.tier3))
    # Enter in a box sends the plain save, not the first firm offered
    form = body[body.index('id="buyer"'):]
    assert form.index('<button type="submit" class="sr-only"') < form.index('name="picked"')
    # pressed with a bad amount: the buyer is now the one picked, the amount says why
    response = client.post(url, data={"csrf_token": csrf_token(client, url), **data,
                                      "amount": "abc", "picked": picks[1]})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="buyer-error"' not in body and 'id="amount-error"' in body
    assert f'value="{picks[1]}"' in body and 'id="buyer-picks"' not in body
    assert 'value="33001234"' in body
    # pressed with the rest right: saved to that buyer
    response = client.post(url, data={"csrf_token": csrf_token(client, url), **data,
                                      "picked": picks[1]})
    assert response.status_code == 303
    model = Invoice if url == INVOICES else PurchaseOrder
    saved = session.exec(select(model).where(model.seller_id == chain.tier1.id)).one()
    assert saved.buyer_id == {chain.tier2.name: chain.tier2.id, chain.tier3.name:
                              chain.tier3.id}[picks[1].split(" · ")[0]]
    assert saved.number == "33001234"
