"""Issue 15 (F29): the settlement account vendors repay into is changed under four eyes:
one administrator proposes, a different one approves; both are recorded and shown; the
number is checked and the demo's is a realistic-looking demo account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tests.platform.conftest import csrf_token, login
from trellis import clock
from trellis.errors import PermissionDenied
from trellis.ledger.catalogue import catalogue
from trellis.protection import settlement
from trellis.protection.bank import normalise_account
from trellis.protection.errors import BadAccount, SettlementChangeRefused
from trellis.protection.models import SettlementAccountChange
from trellis.protection.warnings import policy

GOOD = {"account": "7559 1862 0410 902", "account_name": "Trellis 供应链金融结算专户",
        "bank_name": "招商银行深圳分行营业部"}


@pytest.mark.parametrize("number, ok", [
    ("6217 0000 0000 0000 888", False),     # the old demo placeholder
    ("1234567890123456", False), ("9876543210", False), ("12ab3456789", False),
    ("1234567", False), ("1109 0328 6910 602", True), ("7559-1862-0410-902", True),
])
def test_account_number_format(number, ok):
    if ok:
        assert settlement.check_account(number) == normalise_account(number)
    else:
        with pytest.raises(BadAccount):
            settlement.check_account(number)


def test_proposer_cannot_approve_a_second_admin_can(session, make_user):
    alice, bob = make_user("admin"), make_user("admin")
    before = policy(session=session).settlement_account
    change = settlement.propose(session=session, user=alice, **GOOD)
    assert policy(session=session).settlement_account == before     # nothing in force yet
    with pytest.raises(SettlementChangeRefused, match="different administrator"):
        settlement.approve(session=session, user=alice, change_id=change.id)
    with pytest.raises(SettlementChangeRefused, match="already waiting"):
        settlement.propose(session=session, user=bob, **GOOD)
    settlement.approve(session=session, user=bob, change_id=change.id)
    rules = policy(session=session)
    assert (rules.settlement_account, rules.settlement_bank, rules.settlement_change_id) == (
        "7559 1862 0410 902", GOOD["bank_name"], change.id)
    assert settlement.in_force(session=session).decided_by_id == bob.id
    with pytest.raises(SettlementChangeRefused):
        settlement.approve(session=session, user=bob, change_id=change.id)


def test_only_admins_propose(session, make_user):
    with pytest.raises(PermissionDenied):
        settlement.propose(session=session, user=make_user("rm"), **GOOD)


def test_withdrawn_proposal_changes_nothing(session, make_user):
    alice = make_user("admin")
    before = policy(session=session).settlement_account
    change = settlement.propose(session=session, user=alice, **GOOD)
    settlement.reject(session=session, user=alice, change_id=change.id)
    assert change.status == "rejected" and change.decided_by_id is None
    assert policy(session=session).settlement_account == before


def test_the_database_refuses_a_self_approval(session, make_user):
    alice = make_user("admin")
    row = SettlementAccountChange(proposed_by_id=alice.id, decided_by_id=alice.id,
                                  status="approved", **GOOD)
    session.add(row)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def test_the_demo_account_is_realistic_and_labelled(session):
    rules = policy(session=session)
    assert rules.settlement_account == "1109 0328 6910 602"
    assert "演示" in rules.settlement_account_name and "演示" in rules.settlement_bank
    settlement.check_account(rules.settlement_account)   # passes the format check


def test_the_pages_show_both_admins(client, session, make_user):
    alice = make_user("admin", name="管理员甲")
    bob = make_user("admin", name="管理员乙")
    login(client, alice)
    url = "/admin/settlement-account"
    assert client.post(url, data={"csrf_token": csrf_token(client, url),
                                  **GOOD, "account": "6217000000000000888"}).status_code == 422
    assert client.post(url, data={"csrf_token": csrf_token(client, url), **GOOD}
                       ).status_code == 303
    change = settlement.open_proposal(session=session)
    page = client.get(url).get_data(as_text=True)
    assert "管理员甲" in page and "7559 1862 0410 902" in page
    assert f"/settlement-account/{change.id}/approve" not in page   # no button for the maker
    token = csrf_token(client, url)
    client.post(f"{url}/{change.id}/approve", data={"csrf_token": token})
    assert settlement.open_proposal(session=session) is not None   # refused
    client.post("/logout", data={"csrf_token": token})
    login(client, bob)
    response = client.post(f"{url}/{change.id}/approve",
                           data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 303
    page = re.sub(r"\s+", " ", client.get(url).get_data(as_text=True))
    assert policy(session=session).settlement_account == "7559 1862 0410 902"
    found = re.search(r'id="settlement-approvals">([^<]*)<', page).group(1)
    assert "管理员甲" in found and "管理员乙" in found


@pytest.mark.parametrize("role", ["rm", "vendor", "auditor"])
def test_only_admins_open_the_money_pages(client, logged_in, role):
    logged_in(role)
    assert client.get("/admin/settlement-account").status_code == 403
    assert client.get("/admin/products").status_code == 403


def test_products_page_lists_rates_from_the_cores(client, session, logged_in):
    cat = catalogue(session=session, as_of=clock.today())
    rf = next(t for t in cat.products if t.product.code == "RF-STD")
    assert cat.lpr <= rf.lowest <= rf.highest <= cat.cap
    logged_in("admin")
    page = client.get("/admin/products").get_data(as_text=True)
    assert "RF-STD" in page and 'id="products"' in page


# --- settle13: what the outside drill attack13 found -------------------------------------

@pytest.mark.parametrize("typed", ["7559１８６２０４１０９０２",
                                   "７５５９ １８６２ ０４１０ ９０２"])
def test_full_width_digits_are_stored_as_ascii(session, make_user, typed):
    change = settlement.propose(session=session, user=make_user("admin"),
                                **{**GOOD, "account": typed})
    assert change.account == "7559 1862 0410 902"


@pytest.mark.parametrize("typed", ["٧٥٥٩١٨٦٢٠٤١٠٩٠٢", "7559१८६२०४१०९०२"])
def test_digits_of_other_scripts_are_refused(session, make_user, typed):
    with pytest.raises(BadAccount, match="digits 0 to 9"):
        settlement.propose(session=session, user=make_user("admin"),
                           **{**GOOD, "account": typed})
    assert settlement.open_proposal(session=session) is None


def test_the_database_keeps_one_proposal_waiting(session, make_user):
    alice = make_user("admin")
    session.add(SettlementAccountChange(proposed_by_id=alice.id, **GOOD))
    session.flush()
    session.add(SettlementAccountChange(proposed_by_id=alice.id, **{**GOOD, "account": "1"}))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def test_a_proposal_that_raced_past_the_check_is_refused_naming_the_waiting_one(
        session, make_user, monkeypatch):
    alice, bob = make_user("admin", name="管理员甲"), make_user("admin")
    first = settlement.propose(session=session, user=alice, **GOOD)
    # the second request checked before the first was committed: it saw nothing waiting
    real, calls = settlement.open_proposal, []

    def first_sees_none(*, session):
        calls.append(1)
        return None if len(calls) == 1 else real(session=session)
    monkeypatch.setattr(settlement, "open_proposal", first_sees_none)
    with pytest.raises(SettlementChangeRefused, match="already waiting") as refused:
        settlement.propose(session=session, user=bob, **{**GOOD, "account": "6222021202009183746"})
    assert refused.value.params["id"] == first.id and refused.value.params["by"] == "管理员甲"
    assert refused.value.params["account"] == "7559 1862 0410 902"
    assert len(calls) == 2   # the check saw nothing; the refusal looked again
    assert [c.id for c in settlement.history(session=session)] == [first.id]


def test_an_approval_that_lost_the_race_changes_nothing(session, make_user):
    alice, bob, carol = (make_user("admin", name=n) for n in ("甲", "乙", "丙"))
    change = settlement.propose(session=session, user=alice, **GOOD)
    before = policy(session=session).settlement_account
    # bob's approval committed after carol's request read the proposal as waiting
    session.execute(text("update settlement_account_changes set status = 'approved', "
                         "decided_by_id = :b, decided_at = proposed_at where id = :i"),
                    {"b": bob.id, "i": change.id})
    with pytest.raises(SettlementChangeRefused, match="already approved") as refused:
        settlement.approve(session=session, user=carol, change_id=change.id)
    assert refused.value.params["by"] == "乙"
    assert (change.status, change.decided_by_id) == ("approved", bob.id)
    assert policy(session=session).settlement_account == before   # the loser put nothing in
    with pytest.raises(SettlementChangeRefused, match="already approved"):
        settlement.reject(session=session, user=alice, change_id=change.id)


def test_a_withdrawal_that_lost_the_race_says_so(session, make_user):
    alice, bob = make_user("admin"), make_user("admin")
    change = settlement.propose(session=session, user=alice, **GOOD)
    session.execute(text("update settlement_account_changes set status = 'rejected', "
                         "decided_at = proposed_at where id = :i"), {"i": change.id})
    with pytest.raises(SettlementChangeRefused, match="withdrawn by its proposer"):
        settlement.approve(session=session, user=bob, change_id=change.id)


def _made_by(make_user, creator):
    return make_user("admin", created_by_id=creator.id)


@pytest.mark.parametrize("link", ["made-by-proposer", "made-by-proposers-account",
                                  "made-the-proposer", "made-after-the-proposal"])
def test_an_approver_tied_to_the_proposer_is_refused(session, make_user, link):
    other, independent = make_user("admin"), make_user("admin")
    alice = _made_by(make_user, other) if link == "made-the-proposer" else make_user("admin")
    if link == "made-by-proposer":
        approver = _made_by(make_user, alice)
    elif link == "made-by-proposers-account":
        approver = _made_by(make_user, _made_by(make_user, alice))
    elif link == "made-the-proposer":
        approver = other
    change = settlement.propose(session=session, user=alice, **GOOD)
    if link == "made-after-the-proposal":
        approver = _made_by(make_user, other)
        approver.created_at = change.proposed_at + timedelta(seconds=1)
    before = policy(session=session).settlement_account
    with pytest.raises(SettlementChangeRefused):
        settlement.approve(session=session, user=approver, change_id=change.id)
    assert settlement.approval_refusal(session=session, user=approver, change=change)
    assert change.status == "proposed"
    assert policy(session=session).settlement_account == before
    session.expire_all()   # the times as stored (naive) beside the ones just made (aware)
    settlement.approve(session=session, user=independent, change_id=change.id)
    assert change.decided_by_id == independent.id


def test_the_page_offers_no_approve_button_to_a_puppet(client, session, make_user):
    alice = make_user("admin")
    puppet = _made_by(make_user, alice)
    settlement.propose(session=session, user=alice, **GOOD)
    login(client, puppet)
    page = client.get("/admin/settlement-account").get_data(as_text=True)
    assert "/approve" not in page and 'id="settlement-refusal"' in page
    assert "创建关系" in page


def test_admin_users_page_records_who_created_the_user(client, session, make_user):
    from trellis.accounts.models import User

    alice = make_user("admin")
    login(client, alice)
    made = client.post("/admin/users", data={
        "csrf_token": csrf_token(client, "/admin/users"), "email": "made-s13@example.cn",
        "name": "新管理员", "role": "admin", "firm_uscc": "", "password": "Tq7#mVx29pLk-s13"})
    assert made.status_code in (302, 303)
    user = session.exec(select(User).where(User.email == "made-s13@example.cn")).one()
    assert user.created_by_id == alice.id
