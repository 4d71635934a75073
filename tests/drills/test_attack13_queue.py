"""The anchor's confirmation queue under attack: the 疑似重复 tick forged, skipped, raced.

Written from the specification without reading ``trellis/`` (README, the pages of a
running demo, the OpenAPI document, ``tests/conftest.py`` and ``tests/drills/``); see
``attack13_kit``.

The claim: in the anchor's invoice queue, an invoice repeating another of the seller's
(same buyer, amount, issue day) is marked 疑似重复; confirming it needs that row's own
tick (``ack`` = the row's id; the page says every row with a caution needs it), otherwise
the whole request is refused and nothing is confirmed. The queue's form posts ``ids``,
``ack``, ``checked`` (我已核对订单与收货) and ``decision``; one invoice's page posts the same
without ``ids``. The duplicate is made as a vendor makes one: the invoice form on
``/vendor/trade/invoices/new`` with another pending invoice's buyer, amount and day.
The oracle is ``invoices.status``.
"""

from __future__ import annotations

import datetime
import re

import pytest

from tests.drills.attack13_kit import (
    ANCHOR,
    CJK,
    THREADS,
    VENDOR,
    login,
    me,
    no_server_error,
    page_text,
    run_together,
    token,
)

QUEUE = "/anchor/queue?kind=invoice"


def status(site, *ids: int) -> list[str]:
    found = dict(site.q(f"select id, status from invoices where id in ({','.join(map(str, ids))})"))
    return [found[i] for i in ids]


def make_duplicate(site) -> tuple[int, int]:
    """The vendor enters a copy (new number, same buyer, amount, issue day) of one of its
    pending invoices to the anchor; (original id, copy id)."""
    vendor = login(site, VENDOR)
    seller = me(vendor)["firm_id"]
    buyer = me(login(site, ANCHOR))["firm_id"]
    [(name,)] = site.q("select name from firms where id = :b", b=buyer)
    rows = site.q("select id, amount_fen, issue_date from invoices where seller_id = :s and "
                  "buyer_id = :b and status = 'pending' order by id desc", s=seller, b=buyer)
    assert rows, "the demo vendor has no pending invoice to its anchor"
    original, amount, issued = rows[0]
    issued = str(issued)[:10]
    due = (datetime.date.fromisoformat(issued) + datetime.timedelta(days=60)).isoformat()
    number = f"A13-DUP-{original}"
    answer = vendor.post("/vendor/trade/invoices/new", data={
        "csrf_token": token(vendor, "/vendor/trade/invoices/new"), "buyer": name,
        "number": number, "amount": f"{amount // 100}.{amount % 100:02d}",
        "issue_date": issued, "due_date": due, "order_number": ""})
    assert answer.status_code in (302, 303), page_text(answer.get_data(as_text=True))[:600]
    [(copy,)] = site.q("select id from invoices where number = :n and seller_id = :s",
                       n=number, s=seller)
    return original, copy


def queue_row(anchor, invoice_id: int) -> str:
    """The queue row of one invoice (searched by its number as a clerk would)."""
    body = anchor.get(f"{QUEUE}&q=A13-DUP").get_data(as_text=True)
    found = re.search(rf'<tr>(?:(?!</tr>).)*value="{invoice_id}"(?:(?!</tr>).)*</tr>', body, re.S)
    assert found, f"invoice {invoice_id} is not in the anchor's queue"
    return found.group(0)


def clean_rows(anchor, n: int) -> list[int]:
    """Pending invoices whose row shows no caution (no tick needed)."""
    body = anchor.get(QUEUE).get_data(as_text=True)
    rows = re.findall(r'<tr>(?:(?!</tr>).)*?name="ids" value="(\d+)"(?:(?!</tr>).)*?'
                      r'data-label="确权前请核对">\s*</td>', body, re.S)
    assert len(rows) >= n, f"only {len(rows)} rows without a caution on the first page"
    return [int(r) for r in rows[:n]]


def bulk(anchor, ids, ack=(), checked=True, decision="confirm", url=QUEUE, tok=None):
    data = {"csrf_token": tok or token(anchor, QUEUE), "ids": [str(i) for i in ids],
            "ack": [str(a) for a in ack], "decision": decision, "reason": ""}
    if checked:
        data["checked"] = "y"
    return anchor.post(url, data=data)


def test_the_copy_is_marked_with_its_own_tick(a13_sqlite_site):
    site = a13_sqlite_site
    original, copy = make_duplicate(site)
    row = queue_row(login(site, ANCHOR), copy)
    assert "疑似重复" in page_text(row), page_text(row)
    assert re.search(rf'name="ack" value="{copy}"', row), "no tick of its own on the copy's row"


FORGED_ACKS = [
    pytest.param(lambda o, c, k: [], id="no-tick"),
    pytest.param(lambda o, c, k: [k], id="tick-of-the-clean-row"),
    pytest.param(lambda o, c, k: [o], id="tick-of-its-twin"),
    pytest.param(lambda o, c, k: ["all", "on", "y"], id="tick-as-words"),
    pytest.param(lambda o, c, k: [str(c + 2**64)], id="tick-id-wrapped-2^64"),
]


@pytest.mark.parametrize("acks", FORGED_ACKS)
def test_bulk_confirm_without_the_copys_own_tick_confirms_nothing(a13_sqlite_site, acks):
    site = a13_sqlite_site
    original, copy = make_duplicate(site)
    anchor = login(site, ANCHOR)
    [clean] = clean_rows(anchor, 1)
    answer = bulk(anchor, [clean, copy], ack=acks(original, copy, clean))
    body = answer.get_data(as_text=True)
    assert answer.status_code < 500, page_text(body)[:600]
    assert status(site, clean, copy) == ["pending", "pending"], (
        f"confirmed without the copy's tick (answer {answer.status_code})")
    if answer.status_code in (302, 303):
        body = anchor.get(answer.headers["Location"]).get_data(as_text=True)
    said = page_text(body)
    assert CJK.search(said) and ("重复" in said or "勾选" in said), said[:600]


def test_one_invoice_page_without_the_tick_confirms_nothing(a13_sqlite_site):
    site = a13_sqlite_site
    _, copy = make_duplicate(site)
    anchor = login(site, ANCHOR)
    url = f"/anchor/queue/invoice/{copy}"
    answer = anchor.post(url, data={"csrf_token": token(anchor, url), "checked": "y",
                                    "decision": "confirm", "reason": ""})
    assert answer.status_code < 500
    assert status(site, copy) == ["pending"]
    # the tick of the order-and-delivery check alone, or the duplicate's tick alone, or
    # both ticks on another invoice's page: nothing
    answer = anchor.post(url, data={"csrf_token": token(anchor, url), "ack": str(copy),
                                    "decision": "confirm", "reason": ""})
    assert answer.status_code < 500
    assert status(site, copy) == ["pending"]


def test_with_every_tick_sixteen_submits_confirm_once(a13_site):
    """The honest request (both ticks) sent from 16 tabs at once: both invoices confirmed,
    each once (one audit event, one message to the seller)."""
    site = a13_site
    original, copy = make_duplicate(site)
    tabs = [login(site, ANCHOR) for _ in range(THREADS)]
    [clean] = clean_rows(tabs[0], 1)
    tokens = [token(t, QUEUE) for t in tabs]
    answers = run_together([(lambda t=t, k=k: bulk(t, [clean, copy], ack=[copy], tok=k))
                            for t, k in zip(tabs, tokens, strict=True)])
    no_server_error(answers, "16 bulk confirmations")
    assert status(site, clean, copy) == ["confirmed", "confirmed"]
    for invoice in (clean, copy):
        events = site.q("select action from audit_events where record_id = :r and "
                        "record_type = 'invoice' and action like '%confirm%'", r=str(invoice))
        assert len(events) == 1, f"invoice {invoice}: {events}"
        [(number,)] = site.q("select number from invoices where id = :i", i=invoice)
        told = site.q("select count(*) from notification_events "
                      "where cast(message as text) like :n", n=f"%{number}%")[0][0]
        assert told <= 1, f"the seller was told {told} times of invoice {number}"


def test_another_anchors_invoice_in_the_bulk_confirms_nothing(a13_sqlite_site):
    site = a13_sqlite_site
    anchor = login(site, ANCHOR)
    mine = me(anchor)["firm_id"]
    [clean] = clean_rows(anchor, 1)
    [(foreign,)] = site.q("select id from invoices where buyer_id <> :m and status = 'pending' "
                          "order by id limit 1", m=mine)
    answer = bulk(anchor, [clean, foreign], ack=[clean, foreign])
    assert answer.status_code < 500
    assert status(site, clean, foreign) == ["pending", "pending"]
    assert anchor.get(f"/anchor/queue/invoice/{foreign}").status_code in (403, 404)
    url = f"/anchor/queue/invoice/{foreign}"
    got = anchor.post(url, data={"csrf_token": token(anchor, QUEUE), "checked": "y",
                                 "ack": str(foreign), "decision": "confirm", "reason": ""})
    assert got.status_code in (403, 404), got.status_code
    assert status(site, foreign) == ["pending"]


def test_the_seller_cannot_confirm_its_own_invoice(a13_sqlite_site):
    site = a13_sqlite_site
    _, copy = make_duplicate(site)
    vendor = login(site, VENDOR)
    tok = token(vendor, "/vendor/")
    for url in (QUEUE, f"/anchor/queue/invoice/{copy}"):
        got = vendor.post(url, data={"csrf_token": tok, "ids": [str(copy)], "ack": [str(copy)],
                                     "checked": "y", "decision": "confirm"})
        assert got.status_code in (302, 303, 403, 404), got.status_code
    got = vendor.post(f"/api/v1/anchor/invoices/{copy}/confirm", headers={
        "X-CSRFToken": tok, "Idempotency-Key": "a13-seller"},
        json={"checked_order_and_delivery": True})
    assert got.status_code in (401, 403, 404), got.status_code
    assert status(site, copy) == ["pending"]


@pytest.mark.parametrize("route", ["one", "decisions"])
def test_api_cannot_confirm_the_copy_without_its_tick(a13_sqlite_site, route):
    site = a13_sqlite_site
    _, copy = make_duplicate(site)
    anchor = login(site, ANCHOR)
    tok = token(anchor, QUEUE)
    headers = {"X-CSRFToken": tok, "Idempotency-Key": f"a13-api-{route}-{copy}"}
    if route == "one":
        got = anchor.post(f"/api/v1/anchor/invoices/{copy}/confirm", headers=headers,
                          json={"checked_order_and_delivery": True})
    else:
        got = anchor.post("/api/v1/anchor/invoices/decisions", headers=headers,
                          json={"ids": [copy], "decision": "confirm",
                                "checked_order_and_delivery": True})
    assert got.status_code < 500
    assert status(site, copy) == ["pending"], f"the API confirmed the copy: {got.get_json()}"
