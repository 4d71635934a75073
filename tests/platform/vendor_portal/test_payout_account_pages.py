"""Issue 15 (F24) on the vendor's pages: the offer and the loan say which account the
money goes to (e.g. 招商银行 ····1234); the vendor declares its account and consents; a
change after acceptance is confirmed on the loan's page before the pay-out."""

from __future__ import annotations

import re

import pytest
from sqlmodel import col, select

from tests.platform.conftest import PASSWORD as USER_PASSWORD
from tests.platform.conftest import csrf_token, login
from tests.platform.vendor_portal.test_finance import apply_for, confirmed_invoice, demo, english
from trellis.accounts import services as accounts
from trellis.demo.seed import PASSWORD
from trellis.ledger import lifecycle
from trellis.ledger.models import Loan
from trellis.protection import payout
from trellis.protection.models import PayoutAccount
from trellis.trade.models import Firm

__all__ = ["demo"]   # the fixture, imported for these tests


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_demo_vendors_have_a_consented_account_in_their_own_name(session, demo):
    firm = session.get(Firm, demo["vendor"].firm_id)
    account = payout.current(session=session, firm_id=firm.id)
    assert account.holder_name == firm.name and account.source == "seed"
    vendors = session.exec(select(col(Firm.id)).where(Firm.cluster_id == firm.cluster_id,
                                                      Firm.role == "vendor")).all()
    accounts_ = session.exec(select(col(PayoutAccount.firm_id)).where(
        col(PayoutAccount.replaced_at).is_(None))).all()
    assert set(vendors) <= set(accounts_)


def test_offer_and_loan_name_the_account_and_a_change_needs_consent(client, session, demo):
    vendor = demo["vendor"]
    login(client, vendor, PASSWORD)
    english(client)
    account = payout.current(session=session, firm_id=vendor.firm_id)
    label = payout.label(account)
    assert re.fullmatch(r"\S+ ····\d{4}", label)
    response = apply_for(client, [confirmed_invoice(session, vendor.firm_id).id])
    offer_page = client.get(response.location).get_data(as_text=True)
    assert label in text(offer_page) and f'value="{account.id}"' in offer_page
    accepted = client.post(response.location + "/accept", data={
        "csrf_token": csrf_token(client, response.location), "read": "y",
        "payout_account_id": str(account.id)})
    assert accepted.status_code == 303
    loan = session.exec(select(Loan).where(Loan.firm_id == vendor.firm_id)
                        .order_by(col(Loan.id).desc())).first()
    assert loan.payout_account_id == account.id
    loan_page = text(client.get(f"/vendor/loans/{loan.id}").get_data(as_text=True))
    assert f"To be paid into {label}" in loan_page and "Pay this loan into" not in loan_page
    # the account changes after the offer: the pay-out waits for the vendor's consent
    firm = session.get(Firm, vendor.firm_id)
    changed = payout.install(session=session, firm_id=firm.id, bank_name="招商银行",
                             account_number="6214830201234567", holder_name=firm.name,
                             consented_by_id=vendor.id)
    session.flush()
    loan_page = text(client.get(f"/vendor/loans/{loan.id}").get_data(as_text=True))
    assert "Pay this loan into 招商银行 ····4567" in loan_page
    staff = text(client.get(f"/ledger/loans/{loan.id}").get_data(as_text=True))
    assert "waiting for the vendor to confirm 招商银行 ····4567" in staff
    url = f"/vendor/loans/{loan.id}"
    done = client.post(f"{url}/payout-account", data={
        "csrf_token": csrf_token(client, url), "payout_account_id": str(changed.id)})
    assert done.status_code == 303
    session.refresh(loan)
    assert loan.payout_account_id == changed.id
    lifecycle.disburse(session=session, settings=None, loan_id=loan.id,
                       as_of=loan.created_at.date(), register_financing=lambda **_kw: None)
    paid = text(client.get(url).get_data(as_text=True))
    assert "Paid into 招商银行 ····4567" in paid


def test_an_offer_without_account_sends_the_vendor_to_declare_one(client, session, demo):
    vendor = demo["vendor"]
    payout.retire(session=session, firm_id=vendor.firm_id)
    session.flush()
    login(client, vendor, PASSWORD)
    english(client)
    response = apply_for(client, [confirmed_invoice(session, vendor.firm_id).id])
    page = client.get(response.location).get_data(as_text=True)
    assert 'id="no-payout-account"' in page and "Accept this offer" not in page
    refused = client.post(response.location + "/accept", data={
        "csrf_token": csrf_token(client, response.location), "read": "y"})
    assert refused.status_code == 409
    assert session.exec(select(Loan).where(Loan.firm_id == vendor.firm_id)).all() == []


@pytest.fixture
def newcomer(client, session, make_firm, make_user):
    firm = make_firm(name="江北小河五金有限公司", bank_account=None, payout_account=False)
    accounts.grant_consent(session=session, firm_id=firm.id, purpose="bank_account")
    user = make_user("vendor", firm=firm)
    login(client, user)
    english(client)
    return firm, user


def declare_form(client, **kw):
    return {"csrf_token": csrf_token(client, "/vendor/bank-account"),
            "bank_name": "招商银行江北支行", "new_account": "6214 8302 0123 4567",
            "account_name": "江北小河五金有限公司", "consent": "y", "password": USER_PASSWORD,
            **kw}


def test_a_vendor_declares_its_account_and_consents(client, session, newcomer):
    firm, user = newcomer
    page = client.get("/vendor/bank-account").get_data(as_text=True)
    assert "None yet" in page and 'value="江北小河五金有限公司"' in page
    # no consent ticked, or another holder: nothing recorded
    for bad, field in (({"consent": ""}, "consent"), ({"account_name": "王小河"}, "account_name")):
        response = client.post("/vendor/bank-account", data=declare_form(client, **bad))
        assert response.status_code == 422 and f'id="{field}-error"' in response.get_data(
            as_text=True)
        assert payout.current(session=session, firm_id=firm.id) is None
    response = client.post("/vendor/bank-account", data=declare_form(client))
    assert response.status_code == 303
    account = payout.current(session=session, firm_id=firm.id)
    assert (account.consented_by_id, account.account_number) == (user.id, "6214830201234567")
    page = text(client.get("/vendor/bank-account").get_data(as_text=True))
    assert "Loans are paid into 招商银行江北支行 ····4567" in page and "you consented on" in page


def test_the_profile_and_the_bank_page_agree_on_the_demo_bank_data_consent(client, session,
                                                                           demo):
    """Reader 13, J10: /vendor/profile said the bank-data use was 未授权 while
    /vendor/bank-account showed the consented account the loan was paid into and asked for
    that consent first. The demo records the consent a declared account rests on, and both
    pages say it in the same words."""
    firm = session.get(Firm, demo["vendor"].firm_id)
    assert accounts.has_consent(session=session, firm_id=firm.id, purpose="bank_account")
    login(client, demo["vendor"], PASSWORD)
    profile = client.get("/vendor/profile").get_data(as_text=True)
    said = text(profile.split('data-consent="bank_account">', 1)[1].split("</p>", 1)[0])
    assert "未授权" not in said and "演示数据：同意由演示初始化记录" in said, said
    bank = client.get("/vendor/bank-account").get_data(as_text=True)
    assert "演示数据：同意由演示初始化记录" in bank
    assert "请先同意使用贵公司的银行账户信息" not in bank
