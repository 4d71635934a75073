"""The ledger's JSON API."""

from __future__ import annotations

from datetime import date

from tests.platform.conftest import csrf_token, login
from trellis import clock
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
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
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

    real, calls = lifecycle.record_repayment, []

    def flaky(**kw):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE ledger_heads", {}, Deadlock("deadlock detected"))
        return real(**kw)

    monkeypatch.setattr(lifecycle, "record_repayment", flaky)
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

    monkeypatch.setattr(lifecycle, "record_repayment", always)
    busy = client.post(f"/api/v1/loans/{loan.id}/repayments", headers=headers,
                       json={**body, "idempotency_key": "dl-2"})
    assert busy.status_code == 503 and busy.json["error"]["code"] == "busy"
    assert busy.headers["Retry-After"] == "1"


def test_repayment_input_is_bounded_strict_and_idempotent_by_header(session, client,
                                                                   make_user, make_loan):
    """Defects 7 and 8: amounts bounded, dates strictly ISO and not in the future, keys
    never coerced; the Idempotency-Key header works alone; a replay says it is one."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from trellis.ledger.models import JournalEntry, Repayment

    loan = make_loan(amount_fen=1_000_000, disburse=date(2026, 1, 1))
    login(client, make_user("admin"))
    url = f"/api/v1/loans/{loan.id}/repayments"
    headers = {"X-CSRFToken": csrf_token(client, "/ledger/")}

    def count():
        return (session.scalar(select(func.count()).select_from(Repayment)),
                session.scalar(select(func.count()).select_from(JournalEntry)))

    before = count()
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    good = {"amount_fen": 1_000, "paid_on": "2026-01-05", "idempotency_key": "k-1"}
    for bad, field in [({"amount_fen": 2**63 - 1}, "amount_fen"),
                       ({"amount_fen": 10**20}, "amount_fen"),
                       ({"amount_fen": 100_000_000_001}, "amount_fen"),
                       ({"amount_fen": 10.5}, "amount_fen"), ({"amount_fen": True}, "amount_fen"),
                       ({"amount_fen": "1000"}, "amount_fen"),
                       ({"paid_on": "20260105"}, "paid_on"), ({"paid_on": "2026-W02-1"}, "paid_on"),
                       ({"paid_on": "2026-02-30"}, "paid_on"), ({"paid_on": tomorrow}, "paid_on"),
                       ({"paid_on": 20260105}, "paid_on"),
                       ({"idempotency_key": ""}, "idempotency_key"),
                       ({"idempotency_key": "   "}, "idempotency_key"),
                       ({"idempotency_key": 777}, "idempotency_key"),
                       ({"idempotency_key": "x" * 129}, "idempotency_key")]:
        r = client.post(url, json={**good, **bad}, headers=headers)
        assert r.status_code == 422, (bad, r.json)
        assert r.json["error"]["field"] == field, (bad, r.json)
    assert client.post(url, json={k: v for k, v in good.items() if k != "idempotency_key"},
                       headers=headers).status_code == 422
    assert count() == before
    # the header alone is enough; "777" and 777 are not one key (777 is refused above)
    body = {"amount_fen": 1_000, "paid_on": "2026-01-05"}
    first = client.post(url, json=body, headers={**headers, "Idempotency-Key": "777"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    replay = client.post(url, json=body, headers={**headers, "Idempotency-Key": "777"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == first.json
    same_in_body = client.post(url, json={**body, "idempotency_key": "777"}, headers=headers)
    assert same_in_body.status_code == 200 and same_in_body.json == first.json
    other = client.post(url, json={**body, "amount_fen": 2_000},
                        headers={**headers, "Idempotency-Key": "777"})
    assert other.status_code == 409
    differ = client.post(url, json={**body, "idempotency_key": "a"},
                         headers={**headers, "Idempotency-Key": "b"})
    assert differ.status_code == 422
    assert count() == (before[0] + 1, before[1] + 1)
