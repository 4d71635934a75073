"""The ledger's JSON API."""

from __future__ import annotations

from datetime import date

from tests.platform.conftest import csrf_token, login
from trellis.accounts.services import issue_api_token
from trellis.ledger import accrual, lifecycle


def bearer(session, firm):
    _token, secret = issue_api_token(session=session, firm_id=firm.id, name="erp")
    return {"Authorization": f"Bearer {secret}"}


def test_a_firm_token_sees_only_its_own_loans(session, client, make_firm, make_loan):
    mine, theirs = make_firm(), make_firm()
    own = make_loan(firm=mine, amount_fen=1_000_000)
    other = make_loan(firm=theirs)
    headers = bearer(session, mine)
    listed = client.get("/api/v1/loans", headers=headers).json["loans"]
    assert [x["id"] for x in listed] == [own.id]
    assert listed[0]["outstanding_fen"] == 1_000_000 and listed[0]["bucket"] in (
        "current", "90+")
    assert client.get(f"/api/v1/loans/{other.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/loans?status=nonsense", headers=headers).status_code == 422
    st = client.get(f"/api/v1/loans/{own.id}/statement", headers=headers)
    assert st.status_code == 200 and st.json["lines"][0]["kind"] == "pay_out"
    # firms may not record repayments or read the trial balance
    assert client.post(f"/api/v1/loans/{own.id}/repayments", headers=headers,
                       json={}).status_code == 403
    assert client.get("/api/v1/ledger/trial-balance", headers=headers).status_code == 403


def test_staff_record_a_back_dated_repayment_idempotently(session, client, make_user,
                                                          make_loan):
    loan = make_loan(amount_fen=1_000_000, rate="0.072", disburse=date(2026, 1, 1))
    accrual.accrue(session=session, as_of=date(2026, 1, 31))
    login(client, make_user("admin"))
    headers = {"X-CSRFToken": csrf_token(client, "/ledger/")}
    body = {"amount_fen": 502_000, "paid_on": "2026-01-11", "idempotency_key": "bank-77"}
    first = client.post(f"/api/v1/loans/{loan.id}/repayments", json=body, headers=headers)
    assert first.status_code == 201, first.json
    # 10 days at 200 fen, then 500,000 fen principal at 100 fen a day for 20 days
    assert first.json["loan"]["principal_fen"] == 500_000
    assert first.json["loan"]["interest_fen"] == 2_000
    again = client.post(f"/api/v1/loans/{loan.id}/repayments", json=body, headers=headers)
    assert again.json["repayment"]["id"] == first.json["repayment"]["id"]
    changed = client.post(f"/api/v1/loans/{loan.id}/repayments", headers=headers,
                          json={**body, "amount_fen": 1})
    assert changed.status_code == 409 and changed.json["error"]["code"] == \
        "idempotency_mismatch"
    for bad in ({**body, "paid_on": "soon"}, {**body, "idempotency_key": ""},
                {**body, "amount_fen": -3, "idempotency_key": "neg"}):
        assert client.post(f"/api/v1/loans/{loan.id}/repayments", json=bad,
                           headers=headers).status_code == 422
    tb = client.get("/api/v1/ledger/trial-balance").json
    assert tb["balanced"] and tb["head"]["seq"] >= 3


def test_a_deadlock_is_retried_and_never_reaches_the_caller(session, client, make_user,
                                                           make_loan, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from trellis import db as database

    class Deadlock(Exception):
        sqlstate = "40P01"

    real, calls = lifecycle.repay, []

    def flaky(**kw):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE ledger_heads", {}, Deadlock("deadlock detected"))
        return real(**kw)

    monkeypatch.setattr(lifecycle, "repay", flaky)
    monkeypatch.setattr(database, "backoff", lambda attempt: 0)
    loan = make_loan(amount_fen=1_000_000, disburse=date(2026, 1, 1))
    login(client, make_user("admin"))
    headers = {"X-CSRFToken": csrf_token(client, "/ledger/")}
    body = {"amount_fen": 1_000, "paid_on": "2026-01-11", "idempotency_key": "dl-1"}
    first = client.post(f"/api/v1/loans/{loan.id}/repayments", json=body, headers=headers)
    assert first.status_code == 201 and len(calls) == 2
    # a conflict on every attempt: 503 "busy", nothing written, never a 500
    def always(**kw):
        raise OperationalError("UPDATE ledger_heads", {}, Deadlock("deadlock detected"))

    monkeypatch.setattr(lifecycle, "repay", always)
    busy = client.post(f"/api/v1/loans/{loan.id}/repayments", headers=headers,
                       json={**body, "idempotency_key": "dl-2"})
    assert busy.status_code == 503 and busy.json["error"]["code"] == "busy"
    assert busy.headers["Retry-After"] == "1"
