"""Changing the payout account: password again, a delay, notifications, cancellation;
repayments only to the platform's account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from trellis.clock import utcnow
from trellis.protection import bank, notifications
from trellis.protection.errors import (
    BadAccount,
    ChangePending,
    NotPlatformAccount,
    ReauthenticationFailed,
)
from trellis.protection.models import Notification
from trellis.protection.warnings import policy

PASSWORD = "correct horse battery"


@pytest.fixture
def firm_users(make_firm, make_user):
    firm = make_firm(bank_account="6222020000000000001")
    return firm, make_user("vendor", firm=firm), make_user("vendor", firm=firm)


def test_change_waits_for_the_delay_and_notifies_the_others(session, firm_users):
    firm, alice, bob = firm_users
    now = utcnow()
    change = bank.request_change(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                                 new_account="6222 0200 0000 0000 999", now=now)
    assert change.effective_at == now + timedelta(hours=policy(session=session)
                                                  .bank_change_delay_hours)
    assert firm.bank_account == "6222020000000000001"  # unchanged during the wait
    assert bank.apply_due(session=session, now=now + timedelta(hours=23)) == 0
    notes = session.exec(select(Notification).where(Notification.firm_id == firm.id)).all()
    assert [n.user_id for n in notes] == [bob.id]
    assert "····0999" in notes[0].message_en and "····0999" in notes[0].message_zh
    assert bank.apply_due(session=session, now=now + timedelta(hours=24, seconds=1)) == 1
    session.refresh(firm)
    assert firm.bank_account == "6222020000000000999"
    assert notifications.unread(session=session, user_id=alice.id) == 1  # "now in effect"


def test_configurable_delay(session, firm_users):
    firm, alice, _bob = firm_users
    rules = policy(session=session)
    rules.bank_change_delay_hours = 72
    session.add(rules)
    now = utcnow()
    change = bank.request_change(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                                 new_account="6222020000000000777", now=now)
    assert change.effective_at - now == timedelta(hours=72)


@pytest.mark.parametrize("password, account, error", [
    ("wrong password!", "6222020000000000999", ReauthenticationFailed),
    ("", "6222020000000000999", ReauthenticationFailed),
    (PASSWORD, "12345", BadAccount),
    (PASSWORD, "6222abcd00000000", BadAccount),
    (PASSWORD, "6222 0200 0000 0000 001", BadAccount),  # the account already in use
])
def test_bad_requests_change_nothing(session, firm_users, password, account, error):
    firm, alice, bob = firm_users
    with pytest.raises(error):
        bank.request_change(session=session, firm_id=firm.id, user=alice, password=password,
                            new_account=account)
    assert bank.pending_for(session=session, firm_id=firm.id) is None
    assert notifications.unread(session=session, user_id=bob.id) == 0


def test_one_change_at_a_time_and_cancel(session, firm_users):
    firm, alice, bob = firm_users
    change = bank.request_change(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                                 new_account="6222020000000000999")
    with pytest.raises(ChangePending):
        bank.request_change(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                            new_account="6222020000000000888")
    bank.cancel_change(session=session, firm_id=firm.id, change_id=change.id, user=bob)
    assert bank.apply_due(session=session, now=utcnow() + timedelta(days=3)) == 0
    session.refresh(firm)
    assert firm.bank_account == "6222020000000000001"
    assert notifications.unread(session=session, user_id=alice.id) == 1  # bob cancelled
    with pytest.raises(ChangePending):
        bank.cancel_change(session=session, firm_id=firm.id, change_id=change.id, user=bob)


@pytest.mark.parametrize("account, ok", [
    ("", True), (None, True), ("1109 0328 6910 602", True), ("110903286910602", True),
    ("6217 0000 0000 0000 888", False),   # the placeholder the demo had before issue 15
    ("6222020000000000999", False), ("1", False)])
def test_repayments_only_to_the_platform_account(session, account, ok):
    if ok:
        bank.check_repayment_account(session=session, account=account)
    else:
        with pytest.raises(NotPlatformAccount):
            bank.check_repayment_account(session=session, account=account)


@pytest.mark.parametrize("raw, masked", [("6222020000000000001", "····0001"),
                                         ("6222 0200 0000 0000 999", "····0999"),
                                         (None, "—"), ("", "—"), ("123", "····")])
def test_one_masking_of_an_account_number(raw, masked):
    """Reader 13, H11: one masking (``payout.masked``) on every page and notice."""
    from trellis.protection import payout

    assert payout.masked(raw) == masked
    assert payout.shown("招商银行", raw) == (f"招商银行 {masked}" if raw else "—")


# --- account numbers: ASCII digits only, one rule for every form (settle13) -------------

@pytest.mark.parametrize("typed, stored", [
    ("6222０２００００００００００９９９", "6222020000000000999"),   # full-width, as an IME types
    ("６２２２－０２００－００００－００００－９９９", "6222020000000000999"),
    ("6222\u30000200 0000 0000 999", "6222020000000000999"),     # an ideographic space
])
def test_full_width_digits_are_stored_as_ascii(session, firm_users, typed, stored):
    firm, alice, _bob = firm_users
    change = bank.request_change(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                                 new_account=typed)
    assert change.new_account == stored


@pytest.mark.parametrize("typed, digit", [
    ("٦٢٢٢٠٢٠٠٠٠٠٠٠٠٠٠٩٩٩", "٦"),             # Arabic-Indic
    ("6222۰۲۰۰۰۰۰۰۰۰۰۰۹۹۹", "۰"),              # Extended Arabic-Indic, after ASCII
    ("६२२२०२००००००००००९९९", "६"),              # Devanagari
])
def test_digits_of_other_scripts_are_refused_by_name(session, firm_users, typed, digit):
    firm, alice, bob = firm_users
    with pytest.raises(BadAccount, match="digits 0 to 9") as refused:
        bank.request_change(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                            new_account=typed)
    assert refused.value.params["digit"] == digit and refused.value.field == "new_account"
    assert bank.pending_for(session=session, firm_id=firm.id) is None
    assert notifications.unread(session=session, user_id=bob.id) == 0


def test_the_vendor_declaration_refuses_them_too(session, make_firm, make_user):
    from trellis.accounts.services import grant_consent

    firm = make_firm(payout_account=False)
    alice = make_user("vendor", firm=firm)
    grant_consent(session=session, firm_id=firm.id, purpose="bank_account", user=alice)
    with pytest.raises(BadAccount, match="digits 0 to 9"):
        bank.declare(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                     bank_name="招商银行", account_number="٦٢٢٢٠٢٠٠٠٠٠٠٠٠٠٠٩٩٩",
                     holder_name=firm.name, consent=True)
    row = bank.declare(session=session, firm_id=firm.id, user=alice, password=PASSWORD,
                       bank_name="招商银行",
                       account_number="６２２２０２００００００００００９９９",
                       holder_name=firm.name, consent=True)
    assert row.account_number == "6222020000000000999"
    assert firm.bank_account == "6222020000000000999"
