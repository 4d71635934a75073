"""The bank-account change page, messages, profile edits and the warnings admin page."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.platform.conftest import PASSWORD, csrf_token, login
from trellis.accounts import services as accounts
from trellis.accounts.models import AuditEvent
from trellis.protection.models import BankAccountChange, FraudWarning, Notification


def english(client):
    with client.session_transaction() as s:
        s["locale"] = "en"


@pytest.fixture
def firm_users(client, session, make_firm, make_user):
    firm = make_firm(bank_account="6222020000000000001", name="小河五金")
    accounts.grant_consent(session=session, firm_id=firm.id, purpose="bank_account")
    alice, bob = make_user("vendor", firm=firm), make_user("vendor", firm=firm)
    login(client, alice)
    english(client)
    return firm, alice, bob


def change_form(client, **kw):
    return {"csrf_token": csrf_token(client, "/vendor/bank-account"),
            "new_account": "6222 0200 0000 0000 999", "account_name": "小河五金",
            "bank_name": "工商银行江北支行", "consent": "y", "password": PASSWORD, **kw}


def test_change_request_notifies_and_can_be_cancelled(client, session, firm_users):
    firm, alice, bob = firm_users
    page = client.get("/vendor/bank-account").get_data(as_text=True)
    assert 'data-warning="bank_change_any"' in page
    response = client.post("/vendor/bank-account", data=change_form(client))
    assert response.status_code == 303
    change = session.exec(select(BankAccountChange).where(
        BankAccountChange.firm_id == firm.id)).one()
    session.refresh(firm)
    assert firm.bank_account == "6222020000000000001"
    assert session.exec(select(Notification).where(Notification.user_id == bob.id)).one()
    page = client.get("/vendor/bank-account").get_data(as_text=True)
    assert "工商银行江北支行 ····0999" in page and "Cancel this change" in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/vendor/")})
    login(client, bob)
    english(client)
    assert "····0999" in client.get("/vendor/messages").get_data(as_text=True)
    client.post(f"/vendor/bank-account/{change.id}/cancel",
                data={"csrf_token": csrf_token(client, "/vendor/bank-account")})
    session.refresh(change)
    assert change.status == "cancelled"


def test_the_changes_say_their_own_status_words(client, session, firm_users):
    """Outside reading pages 7: a waiting account change read 待确权, the word for an
    anchor confirming an invoice. Waiting: 待生效; done: 已生效; cancelled: 已撤销."""
    from datetime import timedelta

    from trellis.protection import bank

    firm, alice, _bob = firm_users
    first = bank.request_change(session=session, firm_id=firm.id, user=alice,
                                password=PASSWORD, new_account="6222020000000000111")
    bank.cancel_change(session=session, firm_id=firm.id, change_id=first.id, user=alice)
    second = bank.request_change(session=session, firm_id=firm.id, user=alice,
                                 password=PASSWORD, new_account="6222020000000000222")
    bank.apply_due(session=session, now=second.effective_at + timedelta(minutes=1))
    bank.request_change(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                        new_account="6222020000000000333")
    session.flush()
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    page = client.get("/vendor/bank-account").get_data(as_text=True)
    earlier = page.rsplit('<ul class="plain small">', 1)[1]
    assert "待生效" in earlier and "已生效" in earlier and "已撤销" in earlier
    assert "确权" not in page.split('<footer', 1)[0]   # the footer's chain claim names 确权记录


@pytest.mark.parametrize("change, status, field", [
    ({"password": "wrong password"}, 403, "password"),
    ({"password": ""}, 422, "password"),
    ({"new_account": "12ab"}, 422, "new_account"),
    ({"new_account": "1" * 41}, 422, "new_account"),
    ({"new_account": "123"}, 422, "new_account"),
    ({"account_name": ""}, 422, "account_name"),
])
def test_bad_change_requests_change_nothing(client, session, firm_users, change, status, field):
    firm, _alice, bob = firm_users
    response = client.post("/vendor/bank-account", data=change_form(client, **change))
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body
    assert 'value="wrong password"' not in body  # a password is never echoed back
    assert session.exec(select(BankAccountChange)).all() == []
    assert session.exec(select(Notification).where(Notification.user_id == bob.id)).all() == []


def test_wrong_password_is_audited(client, session, firm_users):
    client.post("/vendor/bank-account", data=change_form(client, password="nope nope nope"))
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "bank_account.reauth_failed")).one()


def test_without_bank_consent_no_change(client, session, firm_users):
    firm, _alice, _bob = firm_users
    accounts.withdraw_consent(session=session, firm_id=firm.id, purpose="bank_account")
    response = client.post("/vendor/bank-account", data=change_form(client))
    assert response.status_code == 422
    assert session.exec(select(BankAccountChange)).all() == []


def test_another_firms_change_cannot_be_cancelled(client, session, firm_users, make_firm,
                                                  make_user):
    from trellis.protection import bank

    other = make_firm(bank_account="6222020000000000555")
    mallory = make_user("vendor", firm=other)
    change = bank.request_change(session=session, firm_id=other.id, user=mallory,
                                 password=PASSWORD, new_account="6222020000000000666")
    response = client.post(f"/vendor/bank-account/{change.id}/cancel",
                           data={"csrf_token": csrf_token(client, "/vendor/bank-account")})
    assert response.status_code in (303, 404)
    session.refresh(change)
    assert change.status == "pending"


@pytest.mark.parametrize("change, field", [({"phone": "123"}, "phone"),
                                           ({"legal_rep": ""}, "legal_rep"),
                                           ({"address": "x" * 301}, "address")])
def test_profile_validation(client, session, firm_users, change, field):
    firm = firm_users[0]
    data = {"csrf_token": csrf_token(client, "/vendor/profile"), "legal_rep": "李四",
            "phone": "13900001111", "address": "江北路1号", "industry": "manufacturing", **change}
    response = client.post("/vendor/profile", data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    session.refresh(firm)
    assert firm.legal_rep != "李四"


def test_profile_saves(client, session, firm_users):
    firm = firm_users[0]
    response = client.post("/vendor/profile", data={
        "csrf_token": csrf_token(client, "/vendor/profile"), "legal_rep": "李四",
        "phone": "13900001111", "address": "江北路1号", "industry": "construction"})
    assert response.status_code == 303
    session.refresh(firm)
    assert (firm.legal_rep, firm.phone, firm.industry) == ("李四", "13900001111", "construction")


@pytest.mark.parametrize("typed, stored", [
    ("0571-88886666", "0571-88886666"), ("057188886666", "0571-88886666"),
    ("(0571) 8888 6666", "0571-88886666"), ("0574-8888666转801", "0574-8888666-801"),
    ("010-62345678", "010-62345678"), ("+86 139 0000 1111", "13900001111")])
def test_profile_saves_a_landline(client, session, firm_users, typed, stored):
    """Outside reading pages 7: a firm's landline could not be saved (mobiles only)."""
    firm = firm_users[0]
    response = client.post("/vendor/profile", data={
        "csrf_token": csrf_token(client, "/vendor/profile"), "legal_rep": "李四",
        "phone": typed, "address": "江北路1号", "industry": "construction"})
    assert response.status_code == 303, response.get_data(as_text=True)
    session.refresh(firm)
    assert firm.phone == stored


@pytest.mark.parametrize("typed, says", [
    ("88886666", "座机号码请加区号"), ("1390000111", "手机号码为 11 位，此处为 10 位"),
    ("0571-0888666", "请填写手机号码或带区号的座机号码"), ("电话", "请只填写数字")])
def test_profile_says_what_is_wrong_with_a_phone(client, session, firm_users, typed, says):
    firm = firm_users[0]
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    response = client.post("/vendor/profile", data={
        "csrf_token": csrf_token(client, "/vendor/profile"), "legal_rep": "李四",
        "phone": typed, "address": "", "industry": "construction"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and says in page and "联系电话（手机或座机）" in page
    session.refresh(firm)
    assert firm.legal_rep != "李四"


# --- warnings admin -----------------------------------------------------------------------

def test_admin_edits_a_warning_and_vendors_see_it(client, session, logged_in, make_firm):
    logged_in("admin")
    english(client)
    row = session.exec(select(FraudWarning).where(FraudWarning.code == "offer_no_fee")).one()
    url = f"/vendor/warnings-admin/{row.id}"
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "moment": "offer", "age_band": "any",
        "firm_age": "any", "title_zh": "放款前不收费", "body_zh": "任何先收费的都是骗子。",
        "title_en": "No fee before a loan", "body_en": "Anyone who asks first is a fraudster.",
        "sort": "1", "active": "y"})
    assert response.status_code == 303
    session.refresh(row)
    assert row.title_en == "No fee before a loan"
    bad = client.post(url, data={"csrf_token": csrf_token(client, url), "moment": "offer",
                                 "age_band": "any", "firm_age": "any", "title_zh": "",
                                 "body_zh": "x", "title_en": "t", "body_en": "b"})
    assert bad.status_code == 422 and 'id="title_zh-error"' in bad.get_data(as_text=True)


def test_admin_policy_bounds(client, session, logged_in):
    logged_in("admin")
    english(client)
    data = {"csrf_token": csrf_token(client, "/vendor/warnings-admin"),
            "bank_change_delay_hours": "48", "young_below_age": "35", "senior_from_age": "60",
            "new_firm_months": "24", "settlement_account": "6217000000000000888",
            "settlement_account_name": "Trellis", "max_tenor_months": "13"}
    response = client.post("/vendor/warnings-admin/policy", data=data)
    assert response.status_code == 422
    from trellis.vouchers.services import policy

    assert policy(session=session).max_tenor_months == 6
    ok = client.post("/vendor/warnings-admin/policy", data={**data, "max_tenor_months": "12"})
    assert ok.status_code == 303
    assert policy(session=session).max_tenor_months == 12


@pytest.mark.parametrize("role", ["vendor", "anchor", "rm", "auditor"])
def test_only_admins_edit_warnings(client, logged_in, role):
    logged_in(role)
    assert client.get("/vendor/warnings-admin").status_code == 403


def test_the_profile_names_the_new_account_and_when_it_takes_effect(client, session,
                                                                     firm_users):
    """Outside reader round 8 (R27): "8101 **** 9067 变更待生效，至 … 变更" read as
    "change pending, until … change"; it now names the new account, its date and a link
    to view or cancel it."""
    from trellis.protection import bank

    firm, alice, _bob = firm_users
    bank.request_change(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                        new_account="6222020000000000607")
    session.flush()
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    page = client.get("/vendor/profile").get_data(as_text=True)
    line = page.split('id="pending-account"')[1].split("</dd>")[0]
    assert "新账户 ····0607 将于" in line and "生效" in line
    assert 'href="/vendor/bank-account"' in line and "查看/撤销" in line
