"""The anchor's confirmation queue page: one by one, in bulk, with reasons; bad input
changes nothing and says why; the vendor sees the outcome."""

from __future__ import annotations

import itertools

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token
from tests.vouchers import factories
from tests.vouchers.factories import order
from trellis import clock
from trellis.accounts.models import AuditEvent
from trellis.trade.models import DocStatus

_cents = itertools.count(1)


def invoice(session, seller, buyer, **kw):
    """A factory invoice with an amount of its own: two invoices of one seller to one
    buyer with the same amount and day are a possible duplicate the queue asks the
    clerk to tick one by one (reader 12, G1; tested in test_confirm_with_facts)."""
    kw.setdefault("amount_fen", 1_000_000 + next(_cents))
    return factories.invoice(session, seller, buyer, **kw)


def english(client):
    with client.session_transaction() as s:
        s["locale"] = "en"


def audits(session, action):
    return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.fixture
def anchor_user(client, logged_in, chain):
    user = logged_in("anchor", firm=chain.anchor)
    english(client)
    return user


def test_queue_lists_only_the_anchors_pending_documents(client, session, chain, anchor_user):
    mine = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    done = invoice(session, chain.tier1, chain.anchor, status=DocStatus.CONFIRMED)
    other = invoice(session, chain.tier2, chain.tier1, status=DocStatus.PENDING)
    page = client.get("/anchor/queue").get_data(as_text=True)
    assert mine.number in page
    assert other.number not in page and done.number not in page
    po = order(session, chain.tier1, chain.anchor)
    assert po.number in client.get("/anchor/queue?kind=order").get_data(as_text=True)


def test_confirm_one_records_the_decision_and_the_vendor_sees_it(client, session, chain,
                                                                 anchor_user, logged_in):
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    url = f"/anchor/queue/invoice/{inv.id}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "decision": "confirm", "checked": "y",
                                      "ack": inv.id})   # it names no order: its own tick
    assert response.status_code == 303
    session.refresh(inv)
    assert inv.status == DocStatus.CONFIRMED and inv.confirmed_by_id == anchor_user.id
    assert inv.confirmed_at is not None
    (event,) = audits(session, "invoice.confirm")
    assert event.record_id == str(inv.id) and event.actor_id == anchor_user.id
    client.post("/logout", data={"csrf_token": csrf_token(client, "/anchor/")})
    logged_in("vendor", firm=chain.tier1)
    english(client)
    page = client.get("/vendor/trade?kind=invoice").get_data(as_text=True)
    assert inv.number in page and "Confirmed" in page
    detail = client.get(f"/vendor/trade/invoice/{inv.id}").get_data(as_text=True)
    assert "Proof on chain" in detail


def test_bulk_reject_with_a_reason(client, session, chain, anchor_user):
    docs = [invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
            for _ in range(3)]
    response = client.post("/anchor/queue?kind=invoice", data={
        "csrf_token": csrf_token(client, "/anchor/queue"), "decision": "reject",
        "reason": "货物未到", "ids": [d.id for d in docs[:2]]})
    assert response.status_code == 303
    for d in docs:
        session.refresh(d)
    assert [d.status for d in docs] == ["rejected", "rejected", "pending"]
    assert docs[0].reject_reason == "货物未到"
    assert len(audits(session, "invoice.reject")) == 2


def test_bulk_confirm_orders(client, session, chain, anchor_user):
    pos = [order(session, chain.tier1, chain.anchor) for _ in range(2)]
    response = client.post("/anchor/queue?kind=order", data={
        "csrf_token": csrf_token(client, "/anchor/queue"), "decision": "confirm", "checked": "y",
        "ids": [p.id for p in pos]})
    assert response.status_code == 303
    for p in pos:
        session.refresh(p)
    assert [p.status for p in pos] == ["confirmed", "confirmed"]


@pytest.mark.parametrize("data, status, message", [
    ({"decision": "reject", "reason": ""}, 422, "Give a reason"),
    ({"decision": "reject", "reason": "x" * 301}, 422, "300"),
    ({"decision": "confirm", "checked": "y", "ids": []}, 422, "Choose at least one"),
    ({"decision": "confirm", "checked": "y", "ids": ["abc"]}, 422, "is not a document id"),
    ({"decision": "maybe"}, 422, "Not a valid choice"),
    ({}, 422, "Choose confirm or reject"),
])
def test_bad_bulk_input_changes_nothing(client, session, chain, anchor_user, data, status,
                                        message):
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    payload = {"csrf_token": csrf_token(client, "/anchor/queue"), "ids": [inv.id], **data}
    response = client.post("/anchor/queue?kind=invoice", data=payload)
    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in body
    if data.get("reason"):
        assert data["reason"][:50] in body  # what was typed is kept
    session.refresh(inv)
    assert inv.status == DocStatus.PENDING
    assert audits(session, "invoice.confirm") == [] and audits(session, "invoice.reject") == []


def test_another_firms_id_in_a_bulk_request_is_404_and_changes_nothing(client, session, chain,
                                                                        anchor_user):
    mine = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    theirs = invoice(session, chain.tier2, chain.tier1, status=DocStatus.PENDING)
    response = client.post("/anchor/queue?kind=invoice", data={
        "csrf_token": csrf_token(client, "/anchor/queue"), "decision": "confirm", "checked": "y",
        "ids": [mine.id, theirs.id]})
    assert response.status_code == 404
    session.refresh(mine)
    session.refresh(theirs)
    assert mine.status == theirs.status == DocStatus.PENDING
    assert client.get(f"/anchor/queue/invoice/{theirs.id}").status_code == 404


def test_forged_csrf_token_is_refused(client, session, chain, anchor_user):
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    response = client.post(f"/anchor/queue/invoice/{inv.id}",
                           data={"csrf_token": "forged", "decision": "confirm", "checked": "y"})
    assert response.status_code == 400
    assert "expired or was forged" in response.get_data(as_text=True)
    session.refresh(inv)
    assert inv.status == DocStatus.PENDING


def test_double_submit_confirms_once(client, session, chain, anchor_user):
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    url = f"/anchor/queue/invoice/{inv.id}"
    data = {"csrf_token": csrf_token(client, url), "decision": "confirm", "checked": "y",
            "ack": inv.id}   # it names no order: its own tick
    assert client.post(url, data=data).status_code == 303
    again = client.post(url, data=data, follow_redirects=True)
    assert "already been decided" in again.get_data(as_text=True)
    assert len(audits(session, "invoice.confirm")) == 1
    # the opposite decision afterwards is refused
    reject = client.post(url, data={**data, "decision": "reject", "reason": "late"})
    assert reject.status_code in (303, 409)
    session.refresh(inv)
    assert inv.status == DocStatus.CONFIRMED and inv.reject_reason is None


def test_anchor_tokens_page_issues_and_revokes(client, session, chain, anchor_user):
    from trellis.accounts.models import ApiToken

    page = client.post("/anchor/tokens", data={"csrf_token": csrf_token(client, "/anchor/tokens"),
                                               "name": "SAP"})
    assert page.status_code == 200 and "trl_" in page.get_data(as_text=True)
    # the form is empty for the next token (outside reading pages 7: it kept "SAP")
    field = page.get_data(as_text=True).split('name="name"')[1].split(">")[0]
    assert 'value="SAP"' not in field and 'value="SAP"' not in page.get_data(as_text=True)
    token = session.exec(select(ApiToken).where(ApiToken.firm_id == chain.anchor.id)).one()
    empty = client.post("/anchor/tokens", data={"csrf_token": csrf_token(client, "/anchor/tokens"),
                                                "name": ""})
    assert empty.status_code == 422
    client.post(f"/anchor/tokens/{token.id}/revoke",
                data={"csrf_token": csrf_token(client, "/anchor/tokens")})
    session.refresh(token)
    assert token.revoked_at is not None


def test_the_queue_pages_searches_and_sorts_all_of_a_long_queue(client, session, chain,
                                                               anchor_user):
    """512 waiting invoices: the count says 512, every page is reachable (the newest is on
    the last page, not cut off at 200), a search finds one, and the bulk buttons come
    before the table."""
    rows = [invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
            for _ in range(512)]
    first = client.get("/anchor/queue").get_data(as_text=True)
    assert 'data-list-count="512"' in first and 'data-pages="11"' in first
    assert first.index('id="bulk"') < first.index("<table")
    assert first.index('value="confirm"') < first.index("<table")
    last = client.get("/anchor/queue?page=11&sort=date").get_data(as_text=True)
    assert rows[-1].number in last and rows[0].number not in last
    found = client.get(f"/anchor/queue?q={rows[300].number}").get_data(as_text=True)
    assert 'data-list-count="1"' in found and rows[300].number in found
    newest_first = client.get("/anchor/queue?sort=date&desc=1").get_data(as_text=True)
    assert rows[-1].number in newest_first
    assert client.get("/anchor/queue?page=x&sort=nonsense&per_page=-3").status_code == 200


def test_a_search_and_the_ticks_survive_an_error_and_an_action(client, session, chain,
                                                               anchor_user):
    """Reader R16: the form posts back to the searched list; an error shows that list with
    the ticks kept, and the redirect after a decision keeps the search, sort and page."""
    docs = [invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
            for _ in range(3)]
    needle = docs[0].number
    url = f"/anchor/queue?kind=invoice&q={needle}&sort=amount&desc=1"
    page = client.get(url).get_data(as_text=True)
    assert f'action="/anchor/queue?kind=invoice&amp;q={needle}&amp;sort=amount&amp;desc=1"' in page
    token = csrf_token(client, "/anchor/queue")
    refused = client.post(url, data={"csrf_token": token, "decision": "reject",
                                     "ids": [docs[0].id]})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'value="{docs[0].id}" id="pick-{docs[0].id}" checked' in body
    assert docs[1].number not in body   # still the searched list
    done = client.post(url, data={"csrf_token": token, "decision": "confirm", "checked": "y",
                                  "ids": [docs[0].id], "ack": [docs[0].id]})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(
        f"/anchor/queue?kind=invoice&q={needle}&sort=amount&desc=1")


def test_the_queue_opens_on_what_needs_the_anchor_and_says_its_order(client, session, chain,
                                                                     anchor_user):
    """Reader 12, G26: the queue opened (oldest first) on pages of 2025 invoices already
    paid; by default unpaid invoices come before those paid in full, newest first, and
    the page says so. Sorting by date still gives the oldest first."""
    from datetime import date, timedelta

    old_paid = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                       issue_date=date(2025, 3, 1))
    old_paid.paid_fen = old_paid.amount_fen
    old_open = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                       issue_date=date(2025, 4, 1))
    new_open = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                       issue_date=clock.today() - timedelta(days=2))
    session.flush()
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    page = client.get("/anchor/queue").get_data(as_text=True)
    where = [page.index(f">{d.number}<") for d in (new_open, old_open, old_paid)]
    assert where == sorted(where)
    assert "排序：尚未付清的发票在前，已付清的在后；各自按日期从新到旧。" in page
    by_date = client.get("/anchor/queue?sort=date").get_data(as_text=True)
    where = [by_date.index(f">{d.number}<") for d in (old_paid, old_open, new_open)]
    assert where == sorted(where)
    assert "恢复默认排序" in by_date


def test_the_queue_reads_its_first_order_key_from_an_index(session, chain):
    """Outstanding invoices first, newest first: on SQLite the pending invoices are read in
    the open-invoices index's order and only sorted within it, not all sorted for each page
    (speed13: 15,882 pending invoices of the 10,003-firm cluster's anchor, 25 -> 8 ms)."""
    from sqlalchemy import event

    from trellis.network.confirmations import queue_page

    for i in range(6):   # every other one paid in full, still waiting for the anchor
        amount = 2_000_000 + i
        row = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING,
                      amount_fen=amount)
        row.paid_fen = 0 if i % 2 else amount
    session.flush()
    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters))

    conn = session.connection()
    event.listen(conn, "before_cursor_execute", keep)
    try:
        page = queue_page(session=session, anchor_id=chain.anchor.id, kind="invoice")
    finally:
        event.remove(conn, "before_cursor_execute", keep)
    assert [r.paid_fen < r.amount_fen for r in page.items] == [True] * 3 + [False] * 3
    if conn.dialect.name != "sqlite":
        return
    statement, parameters = next(s for s in seen if "ORDER BY" in s[0] and "LIMIT" in s[0])
    plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
        "EXPLAIN QUERY PLAN " + statement, parameters))
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
