"""Vendor registration (from an invitation and from scratch) and consent."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from tests.conftest import next_uscc
from tests.platform.conftest import csrf_token
from trellis import clock
from trellis.accounts import services as accounts
from trellis.accounts.models import AuditEvent, Consent, User
from trellis.onboarding import invitations
from trellis.trade.models import Firm

SECRET = "test-secret"


def english(client):
    with client.session_transaction() as s:
        s["locale"] = "en"


@pytest.fixture
def invited(session, chain):
    (issued,) = invitations.issue(session=session, cluster_id=chain.tier1.cluster_id,
                                  firm_ids=[chain.tier1.id], secret=SECRET)
    return issued.code


def user_fields(**kw):
    return {"name": "李小河", "email": "li@xiaohe.cn", "mobile": "13800001111",
            "birth_year": "1960", "password": "a long password", "confirm": "a long password",
            **kw}


def test_register_from_an_invitation_then_consent(client, session, chain, invited):
    english(client)
    step1 = client.post("/register/invite", data={"csrf_token": csrf_token(client, "/register/"),
                                                  "code": invited.lower()})
    page = step1.get_data(as_text=True)
    assert step1.status_code == 200 and chain.tier1.name in page
    assert 'data-warning="reg_password"' in page
    step2 = client.post("/register/invite", data={
        "csrf_token": csrf_token(client, "/register/"), "code": invited, **user_fields()})
    assert step2.status_code == 303 and "/vendor/consent" in step2.location
    user = session.exec(select(User).where(User.email == "li@xiaohe.cn")).one()
    assert (user.firm_id, user.role, user.birth_year) == (chain.tier1.id, "vendor", 1960)
    welcome = client.get(step2.location).get_data(as_text=True)
    assert 'data-warning="reg_senior_authority"' in welcome  # born 1960: fake police calls
    # consent: trade data and bank account, not the credit bureau
    response = client.post("/vendor/consent", data={
        "csrf_token": csrf_token(client, "/vendor/consent"), "trade_data": "y",
        "bank_account": "y"})
    assert response.status_code == 303
    rows = session.exec(select(Consent).where(Consent.firm_id == chain.tier1.id)).all()
    assert {(c.purpose, c.version, c.granted_by_id) for c in rows} == {
        ("trade_data", accounts.CONSENT_VERSION, user.id),
        ("bank_account", accounts.CONSENT_VERSION, user.id)}
    assert all(c.granted_at is not None for c in rows)
    # the code works once
    client.post("/logout", data={"csrf_token": csrf_token(client, "/vendor/")})
    again = client.post("/register/invite", data={"csrf_token": csrf_token(client, "/register/"),
                                                  "code": invited})
    assert again.status_code == 422 and "already been used" in again.get_data(as_text=True)


@pytest.mark.parametrize("change, field_error", [
    ({"email": ""}, "email-error"), ({"email": "not-an-email"}, "email-error"),
    ({"mobile": "12345"}, "mobile-error"), ({"birth_year": "1890"}, "birth_year-error"),
    ({"birth_year": "nineteen"}, "birth_year-error"), ({"password": "short", "confirm": "short"},
                                                       "password-error"),
    ({"confirm": "something else"}, "confirm-error"), ({"name": "x" * 121}, "name-error"),
    # reader 12, G11: registration keeps to the one password rule
    ({"password": "1111111111", "confirm": "1111111111"}, "password-error")])
def test_bad_invitation_details_keep_the_code_unused(client, session, chain, invited, change,
                                                     field_error):
    english(client)
    response = client.post("/register/invite", data={
        "csrf_token": csrf_token(client, "/register/"), "code": invited,
        **user_fields(**change)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="{field_error}"' in body
    if change.get("name"):
        assert change["name"] in body  # what was typed is kept
    inv, _firm = invitations.lookup(session=session, code=invited)
    assert inv.redeemed_at is None
    assert session.exec(select(User).where(User.firm_id == chain.tier1.id)).all() == []


@pytest.mark.parametrize("code, message", [("", "required"), ("AAAA-BBBB-CCCC", "not recognised"),
                                           ("x" * 70, "")])
def test_bad_invitation_codes(client, code, message):
    english(client)
    response = client.post("/register/invite", data={
        "csrf_token": csrf_token(client, "/register/"), "code": code})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_email_already_taken_is_shown_next_to_the_field(client, session, chain, invited,
                                                        make_user):
    make_user("vendor", firm=chain.tier2, email="li@xiaohe.cn")
    english(client)
    response = client.post("/register/invite", data={
        "csrf_token": csrf_token(client, "/register/"), "code": invited, **user_fields()})
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    inv, _ = invitations.lookup(session=session, code=invited)
    assert inv.redeemed_at is None


def scratch(chain, **kw):
    return {"uscc": next_uscc(), "firm_name": "小河五金加工厂", "legal_rep": "李小河",
            "industry": "manufacturing", "cluster_id": str(chain.tier1.cluster_id),
            "founded_on": "2025-09-01", **user_fields(**kw)}


def test_register_from_scratch(client, session, chain):
    english(client)
    data = scratch(chain, birth_year="2001")
    response = client.post("/register/new", data={"csrf_token": csrf_token(client,
                                                                            "/register/new"),
                                                  **data})
    assert response.status_code == 303
    firm = session.exec(select(Firm).where(Firm.uscc == data["uscc"])).one()
    assert (firm.role, firm.legal_rep, firm.phone, firm.cluster_id) == (
        "vendor", "李小河", "13800001111", chain.tier1.cluster_id)
    assert firm.founded_on == date(2025, 9, 1)
    welcome = client.get(response.location).get_data(as_text=True)
    assert 'data-warning="reg_young_credit_repair"' in welcome
    assert 'data-warning="reg_new_firm_deals"' in welcome
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "vendor.register")).one()
    assert event.actor_label == data["email"]   # the person who registered, not "system"


@pytest.mark.parametrize("change, field", [
    ({"uscc": "91330100MA0000001X"}, "uscc"),  # wrong check character
    ({"uscc": "123"}, "uscc"), ({"uscc": ""}, "uscc"), ({"legal_rep": ""}, "legal_rep"),
    ({"cluster_id": "0"}, "cluster_id"), ({"cluster_id": "999999"}, "cluster_id"),
    ({"cluster_id": "abc"}, "cluster_id"), ({"founded_on": "2099-01-01"}, "founded_on"),
    ({"founded_on": "yesterday"}, "founded_on"), ({"firm_name": "x" * 201}, "firm_name"),
    ({"industry": "mining"}, "industry")])
def test_bad_scratch_registration_changes_nothing(client, session, chain, change, field):
    english(client)
    data = scratch(chain, **change)
    before = len(session.exec(select(Firm)).all())
    response = client.post("/register/new", data={"csrf_token": csrf_token(client,
                                                                            "/register/new"),
                                                  **data})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert len(session.exec(select(Firm)).all()) == before
    assert session.exec(select(User).where(User.email == "li@xiaohe.cn")).first() is None


def test_a_known_firm_must_come_through_an_invitation(client, session, chain):
    english(client)
    response = client.post("/register/new", data={
        "csrf_token": csrf_token(client, "/register/new"), **scratch(chain, uscc=chain.tier2.uscc)})
    assert response.status_code == 409
    assert "invitation code" in response.get_data(as_text=True)
    assert session.exec(select(User).where(User.firm_id == chain.tier2.id)).all() == []


def test_forged_csrf_on_registration(client, session, chain):
    response = client.post("/register/new", data={"csrf_token": "nope", **scratch(chain)})
    assert response.status_code == 400
    assert session.exec(select(User).where(User.email == "li@xiaohe.cn")).first() is None


def test_withdrawn_consent_stops_new_applications(client, session, chain, logged_in):
    logged_in("vendor", firm=chain.tier1)
    english(client)
    accounts.grant_consent(session=session, firm_id=chain.tier1.id, purpose="trade_data")
    assert client.get("/vendor/apply").status_code == 200
    response = client.post("/vendor/consent/withdraw", data={
        "csrf_token": csrf_token(client, "/vendor/profile"), "purpose": "trade_data"})
    assert response.status_code == 303
    assert not accounts.has_consent(session=session, firm_id=chain.tier1.id, purpose="trade_data")
    blocked = client.get("/vendor/apply")
    assert blocked.status_code == 303 and "/vendor/consent" in blocked.location
    history = client.get("/vendor/profile").get_data(as_text=True)
    assert "withdrawn" in history


def _register_from_scratch(client, chain, **kw):
    data = scratch(chain, **kw)
    response = client.post("/register/new", data={
        "csrf_token": csrf_token(client, "/register/new"), **data})
    return response, data


def test_a_firm_registered_from_scratch_sees_no_other_firm_until_approved(
        client, session, chain, app, logged_in):
    from trellis.trade.models import ClusterManager, Invoice

    english(client)
    response, data = _register_from_scratch(client, chain)
    assert response.status_code == 303
    firm = session.exec(select(Firm).where(Firm.uscc == data["uscc"])).one()
    assert firm.registration == "pending"
    # Still logged in after registering (the session carries its generation).
    for page in ("/vendor/trade/invoices/new", "/vendor/trade/upload",
                 "/vendor/trade/template/invoices.csv"):
        body = client.get(page).get_data(as_text=True)
        for other in (chain.anchor, chain.tier1, chain.tier2, chain.outsider):
            assert other.name not in body and other.uscc not in body, (page, other.name)
    url = "/vendor/trade/invoices/new"
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "buyer": chain.anchor.name,
        "number": "F-1", "amount": "100", "issue_date": clock.today().isoformat(),
        "due_date": clock.today().isoformat(), "order_number": ""})
    assert response.status_code == 422 and "approve" in response.get_data(as_text=True)
    assert session.exec(select(Invoice).where(Invoice.seller_id == firm.id)).all() == []
    # The RM of the park approves; then the vendor may bill the park's firms.
    rm_client = app.test_client()
    from tests.platform.conftest import login

    rm = accounts.create_user(session=session, email="rm9@bank.cn", password="correct horse "
                              "battery", role="rm")
    session.add(ClusterManager(cluster_id=chain.tier1.cluster_id, user_id=rm.id))
    session.flush()
    login(rm_client, rm)
    listing = rm_client.get("/network/registrations").get_data(as_text=True)
    assert data["uscc"] in listing
    rm_client.post(f"/network/firms/{firm.id}/approve",
                   data={"csrf_token": csrf_token(rm_client, "/network/registrations")})
    session.refresh(firm)
    assert firm.registration == "approved"
    assert chain.anchor.name in client.get(url).get_data(as_text=True)


def test_an_rm_of_another_park_cannot_approve(client, session, chain, logged_in):
    english(client)
    _response, data = _register_from_scratch(client, chain)
    firm = session.exec(select(Firm).where(Firm.uscc == data["uscc"])).one()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/vendor/")})
    logged_in("rm")  # assigned to no cluster
    assert data["uscc"] not in client.get("/network/registrations").get_data(as_text=True)
    response = client.post(f"/network/firms/{firm.id}/approve",
                           data={"csrf_token": csrf_token(client, "/network/registrations")})
    assert response.status_code in (303, 404)
    session.refresh(firm)
    assert firm.registration == "pending"


def test_registration_is_rate_limited_per_address(client, session, chain):
    english(client)
    for i in range(5):
        response, _data = _register_from_scratch(client, chain, email=f"r{i}@x.cn")
        assert response.status_code == 303
        client.post("/logout", data={"csrf_token": csrf_token(client, "/vendor/")})
    response, data = _register_from_scratch(client, chain, email="r9@x.cn")
    assert response.status_code == 429
    assert session.exec(select(Firm).where(Firm.uscc == data["uscc"])).first() is None
