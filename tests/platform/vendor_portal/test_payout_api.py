"""Issue 15: the vendor's payout account through the API (/api/v1/firms/<id>/payout-account
and /api/v1/loans/<id>/payout-account), on the page's core with the page's refusals; only
that vendor's users, never another firm's token, never anonymous."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from tests.platform.conftest import PASSWORD as USER_PASSWORD
from tests.platform.conftest import csrf_token, login
from tests.platform.vendor_portal.test_finance import apply_for, confirmed_invoice
from tests.platform.vendor_portal.test_payout_account_pages import demo  # noqa: F401
from trellis.accounts import services as accounts
from trellis.accounts.models import AuditEvent
from trellis.demo.seed import PASSWORD
from trellis.ledger.models import Loan
from trellis.protection import payout
from trellis.trade.models import Firm

NAME = "江北小河五金有限公司"


@pytest.fixture
def newcomer(session, make_firm, make_user):
    firm = make_firm(name=NAME, bank_account=None, payout_account=False)
    accounts.grant_consent(session=session, firm_id=firm.id, purpose="bank_account")
    return firm, make_user("vendor", firm=firm)


def body(**kw):
    return {"bank_name": "招商银行江北支行", "account_number": "6214 8302 0123 4567",
            "holder_name": NAME, "consent": True, "password": USER_PASSWORD, **kw}


def post(client, url, data, **headers):
    token = csrf_token(client, "/vendor/bank-account")
    return client.post(url, json=data, headers={"X-CSRFToken": token, **headers})


def actions(session, firm_id) -> list[str]:
    return list(session.exec(select(AuditEvent.action).where(
        AuditEvent.record_type == "firm", AuditEvent.record_id == str(firm_id))
        .order_by(col(AuditEvent.id))))


def test_a_vendor_declares_and_reads_its_account_through_the_api(client, session, newcomer):
    firm, user = newcomer
    url = f"/api/v1/firms/{firm.id}/payout-account"
    login(client, user)
    assert client.get(url).get_json()["account"] is None
    for bad, code, field in [({"consent": False}, "payout_consent_missing", "consent"),
                             ({"holder_name": "王小河"}, "payout_holder_mismatch",
                              "account_name"),
                             ({"account_number": "12-34"}, "bad_account", "new_account")]:
        refused = post(client, url, body(**bad))
        assert refused.status_code == 422, refused.get_json()
        assert refused.get_json()["error"]["code"] == code
        assert refused.get_json()["error"]["field"] == field
        assert payout.current(session=session, firm_id=firm.id) is None
    wrong = post(client, url, body(password="not my password"))
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == \
        "reauthentication_failed"
    assert "密码" in wrong.get_json()["error"]["message"]   # in the reader's language
    assert actions(session, firm.id) == ["bank_account.reauth_failed"]
    done = post(client, url, body())
    assert done.status_code == 201, done.get_json()
    said = done.get_json()
    assert said["outcome"] == "in_force" and said["pending_change"] is None
    assert said["account"]["account_number"] == "····4567"
    assert said["account"]["label"] == "招商银行江北支行 ····4567"
    assert "6214830201234567" not in done.get_data(as_text=True)
    account = payout.current(session=session, firm_id=firm.id)
    assert (account.consented_by_id, account.account_number) == (user.id, "6214830201234567")
    read = client.get(url).get_json()
    assert read["account"]["id"] == account.id and read["account_on_file"] == "····4567"
    # another account: not at once, after the delay, the firm's others told
    later = post(client, url, body(account_number="6222020000000000001"))
    assert later.status_code == 202 and later.get_json()["outcome"] == "change_requested"
    change = later.get_json()["pending_change"]
    assert change["account_number"] == "····0001" and change["consented"] is True
    assert payout.current(session=session, firm_id=firm.id).id == account.id
    assert actions(session, firm.id)[1:] == ["payout_account.consent",
                                             "bank_account.change_requested"]


def test_only_that_vendors_users_reach_its_account(client, session, newcomer, make_firm,
                                                   make_user):
    firm, user = newcomer
    url = f"/api/v1/firms/{firm.id}/payout-account"
    assert client.get(url).status_code == 401           # nobody signed in
    assert client.post(url, json=body()).status_code == 401
    _t, own = accounts.issue_api_token(session=session, firm_id=firm.id, name="books")
    other_vendor = make_firm()
    _t, other = accounts.issue_api_token(session=session, firm_id=other_vendor.id, name="x")
    _t, anchor = accounts.issue_api_token(session=session, firm_id=make_firm(role="anchor").id,
                                          name="erp")
    session.commit()
    for secret, status in ((own, 200), (other, 403), (anchor, 403)):
        got = client.get(url, headers={"Authorization": f"Bearer {secret}"})
        assert got.status_code == status, (secret[:8], got.get_json())
    # declaring is a person's act (password, consent): the firm's own token cannot
    as_token = client.post(url, json=body(), headers={"Authorization": f"Bearer {own}"})
    assert as_token.status_code == 403 and payout.current(session=session,
                                                          firm_id=firm.id) is None
    login(client, make_user("vendor", firm=other_vendor))
    assert client.get(url).status_code == 403
    assert post(client, url, body()).status_code == 403
    assert payout.current(session=session, firm_id=firm.id) is None
    assert actions(session, firm.id) == []


def test_a_loan_accepted_before_the_change_is_consented_to_through_the_api(client, session,
                                                                           demo):  # noqa: F811
    vendor = demo["vendor"]
    login(client, vendor, PASSWORD)
    account = payout.current(session=session, firm_id=vendor.firm_id)
    response = apply_for(client, [confirmed_invoice(session, vendor.firm_id).id])
    accepted = client.post(response.location + "/accept", data={
        "csrf_token": csrf_token(client, response.location), "read": "y",
        "payout_account_id": str(account.id)})
    assert accepted.status_code == 303
    loan = session.exec(select(Loan).where(Loan.firm_id == vendor.firm_id)
                        .order_by(col(Loan.id).desc())).first()
    firm = session.get(Firm, vendor.firm_id)
    changed = payout.install(session=session, firm_id=firm.id, bank_name="招商银行",
                             account_number="6214830201234567", holder_name=firm.name,
                             consented_by_id=vendor.id)
    session.commit()
    url = f"/api/v1/loans/{loan.id}/payout-account"
    stale = post(client, url, {"payout_account_id": account.id})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == \
        "payout_account_changed"
    _t, own = accounts.issue_api_token(session=session, firm_id=firm.id, name="books")
    session.commit()
    assert client.post(url, json={"payout_account_id": changed.id},
                       headers={"Authorization": f"Bearer {own}"}).status_code == 403
    session.refresh(loan)
    assert loan.payout_account_id == account.id
    done = post(client, url, {"payout_account_id": changed.id})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["account"]["label"] == "招商银行 ····4567"
    session.refresh(loan)
    assert loan.payout_account_id == changed.id
    assert post(client, "/api/v1/loans/999999/payout-account",
                {"payout_account_id": changed.id}).status_code == 404
