"""Edges an outside audit found (issue 12, defects 7 and 8): ids past the database's
range, ids that are not whole numbers, 405 without Allow, NUL characters in input."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token
from tests.vouchers.factories import invoice, supply_chain
from trellis import clock
from trellis.accounts import services as accounts
from trellis.trade.models import DocStatus, Invoice

HUGE = ["9223372036854775808", "14279004404921167872", "99999999999999999999"]


@pytest.fixture
def chain(session, make_firm, make_cluster):
    return supply_chain(session, make_firm, make_cluster)


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize("role, path", [
    ("vendor", "/vendor/loans/{id}"),
    ("vendor", "/api/v1/loans/{id}"),
    ("rm", "/ledger/loans/{id}/statement.csv"),
    ("rm", "/network/firms/{id}"),
    ("admin", "/admin/audit?page={id}"),
])
def test_an_id_past_the_database_range_is_not_found(client, logged_in, chain, role, path,
                                                    huge):
    logged_in(role, firm=chain.tier1 if role == "vendor" else None)
    response = client.get(path.format(id=huge))
    assert response.status_code == 404


@pytest.mark.parametrize("ids", [[1e20], [1.9], ["1.9"], [True], [2**64], [-1], [0],
                                 [None], [{"id": 1}]])
def test_bulk_decision_ids_must_be_whole_numbers_in_range(client, session, chain, ids):
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    _row, secret = accounts.issue_api_token(session=session, firm_id=chain.anchor.id,
                                            name="ERP")
    response = client.post("/api/v1/anchor/invoices/decisions",
                           json={"ids": ids, "decision": "confirm",
                                 "checked_order_and_delivery": True},
                           headers={"Authorization": f"Bearer {secret}",
                                    "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 422, response.json
    assert response.json["error"]["field"] == "ids"
    session.refresh(inv)
    assert inv.status == DocStatus.PENDING  # 1.9 was not read as 1


@pytest.mark.parametrize("method, path, json", [("post", "/healthz", False),
                                                ("delete", "/api/v1/me", True),
                                                ("put", "/login", False)])
def test_405_names_the_allowed_methods(client, method, path, json):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed
    if json:
        assert response.json["error"]["code"] == "method_not_allowed"


def test_a_nul_character_in_a_form_is_refused_and_nothing_stored(client, session, chain,
                                                                  logged_in):
    from datetime import timedelta

    logged_in("vendor", firm=chain.tier1)
    url = "/vendor/trade/invoices/new"
    today = clock.today()
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "buyer": chain.anchor.name,
        "number": "INV\x001", "amount": "100", "order_number": "",
        "issue_date": (today - timedelta(days=3)).isoformat(),
        "due_date": (today + timedelta(days=50)).isoformat()})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True) or "空字符" in response.get_data(as_text=True)
    assert session.exec(select(Invoice).where(Invoice.seller_id == chain.tier1.id)).all() == []


def test_a_nul_character_in_json_is_refused(client, session, chain):
    inv = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    _row, secret = accounts.issue_api_token(session=session, firm_id=chain.anchor.id,
                                            name="ERP")
    response = client.post(f"/api/v1/anchor/invoices/{inv.id}/reject",
                           json={"reason": "bad\u0000reason"},
                           headers={"Authorization": f"Bearer {secret}",
                                    "Idempotency-Key": "nul-1"})
    assert response.status_code == 400 and response.json["error"]["code"] == "nul_character"
    session.refresh(inv)
    assert inv.status == DocStatus.PENDING


__all__ = ["supply_chain"]
