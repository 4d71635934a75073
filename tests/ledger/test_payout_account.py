"""Issue 15 (F24): a loan is paid out only to a payout account the vendor declared in the
firm's own name and consented to; a change of account after the offer needs the
vendor's consent again, for that loan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.ledger.conftest import AS_OF
from tests.platform.conftest import PASSWORD
from trellis.accounts import services as accounts
from trellis.errors import PermissionDenied
from trellis.ledger import jobs, lifecycle, origination, payouts
from trellis.ledger.models import JournalEntry, Loan, Offer
from trellis.protection import bank, payout
from trellis.protection.errors import (
    ConsentMissing,
    HolderMismatch,
    NoPayoutAccount,
    NotOwnPayoutAccount,
    PayoutAccountChanged,
)
from trellis.protection.models import BankAccountChange, PayoutAccount


def never_registered(**_kw):
    raise AssertionError("nothing may be registered on chain before the account is checked")


def offer_for(session, world) -> Offer:
    inv = world.invoice(10_000_000)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    return session.scalars(select(Offer).where(Offer.application_id == app.id)).one()


def accepted_loan(session, world, user=None, seen=None, offer=None) -> Loan:
    offer = offer or offer_for(session, world)
    return origination.accept_offer(session=session, offer_id=offer.id, as_of=AS_OF,
                                    user_id=user.id if user else None, payout_account_id=seen)


def entries(session) -> int:
    return session.scalar(select(func.count()).select_from(JournalEntry))


def new_account(session, firm, number="6228480402564890018", bank_name="中国农业银行"):
    return payout.install(session=session, firm_id=firm.id, bank_name=bank_name,
                          account_number=number, holder_name=firm.name, consented_by_id=None)


def test_no_consented_account_no_payout(session, make_loan, make_firm):
    firm = make_firm(payout_account=False)
    loan = make_loan(firm=firm, disburse=None)
    before = entries(session)
    with pytest.raises(NoPayoutAccount, match="not declared and consented"):
        lifecycle.disburse(session=session, settings=None, loan_id=loan.id, as_of=AS_OF,
                           register_financing=never_registered)
    session.refresh(loan)
    assert (loan.status, loan.disbursed_on, entries(session)) == ("pending", None, before)
    account = new_account(session, firm)
    lifecycle.disburse(session=session, settings=None, loan_id=loan.id, as_of=AS_OF)
    assert (loan.status, loan.payout_account_id) == ("active", account.id)


def test_acceptance_binds_the_account_shown_and_refuses_without_one(session, world, make_user):
    user = make_user("vendor", firm=world.vendor)
    offer = offer_for(session, world)
    payout.retire(session=session, firm_id=world.vendor.id)
    with pytest.raises(NoPayoutAccount):
        accepted_loan(session, world, user, offer=offer)
    assert offer.status == "open"
    shown = new_account(session, world.vendor)
    loan = accepted_loan(session, world, user, seen=shown.id, offer=offer)
    assert loan.payout_account_id == shown.id


def test_acceptance_refuses_an_account_changed_since_the_page(session, world):
    shown = payout.current(session=session, firm_id=world.vendor.id)
    new_account(session, world.vendor)
    with pytest.raises(PayoutAccountChanged, match="····0018"):
        accepted_loan(session, world, seen=shown.id)


def test_a_change_after_the_offer_needs_consent_again(session, world, make_user, make_firm):
    user = make_user("vendor", firm=world.vendor)
    loan = accepted_loan(session, world, user)
    first = loan.payout_account_id
    changed = new_account(session, world.vendor)
    with pytest.raises(PayoutAccountChanged, match="confirm the new account"):
        lifecycle.disburse(session=session, settings=None, loan_id=loan.id, as_of=AS_OF,
                           register_financing=never_registered)
    assert loan.status == "pending" and loan.payout_account_id == first
    stranger = make_user("vendor", firm=make_firm())
    with pytest.raises(PermissionDenied):
        lifecycle.confirm_payout_account(session=session, loan_id=loan.id, user_id=stranger.id,
                                         payout_account_id=changed.id)
    with pytest.raises(PayoutAccountChanged):   # the page showed the old one
        lifecycle.confirm_payout_account(session=session, loan_id=loan.id, user_id=user.id,
                                         payout_account_id=first)
    lifecycle.confirm_payout_account(session=session, loan_id=loan.id, user_id=user.id,
                                     payout_account_id=changed.id)
    lifecycle.disburse(session=session, settings=None, loan_id=loan.id, as_of=AS_OF,
                       register_financing=lambda **_kw: None)
    assert (loan.status, loan.payout_account_id) == ("active", changed.id)


def test_the_job_leaves_a_loan_without_account_waiting(session, session_factory, settings,
                                                       make_loan, make_firm):
    loan = make_loan(firm=make_firm(payout_account=False), disburse=None)
    out = jobs.disburse_approved(session_factory=session_factory, settings=settings,
                                 as_of=AS_OF)
    assert "paid out 0" in out and "1 wait for the vendor's consent to a payout account" in out
    row = session.scalars(select(Loan).where(Loan.id == loan.id)
                          .execution_options(populate_existing=True)).one()
    assert row.status == "pending" and not row.cancel_reason


def test_surplus_goes_only_to_a_consented_account(session, make_loan, make_firm):
    firm = make_firm()
    make_loan(firm=firm, amount_fen=100_000, due_date=AS_OF + timedelta(days=30))
    payout.retire(session=session, firm_id=firm.id)
    with pytest.raises(NoPayoutAccount):
        payouts.pay_out_surplus(session=session, firm_id=firm.id, paid_on=AS_OF,
                                idempotency_key="surplus-no-account")


# --- declaring the account -------------------------------------------------------------

@pytest.fixture
def vendor(session, make_firm, make_user):
    firm = make_firm(name="小河五金（江北）有限公司", bank_account="6222020000000000001",
                     payout_account=False)
    accounts.grant_consent(session=session, firm_id=firm.id, purpose="bank_account")
    return firm, make_user("vendor", firm=firm, password=PASSWORD)


def declare(session, firm, user, **kw):
    values = {"bank_name": "招商银行江北支行", "account_number": "6222 0200 0000 0000 001",
              "holder_name": "小河五金(江北)有限公司", "consent": True, "password": PASSWORD}
    return bank.declare(session=session, firm_id=firm.id, user=user, **{**values, **kw})


@pytest.mark.parametrize("kw, error", [
    ({"consent": False}, ConsentMissing),
    ({"holder_name": "王小河"}, HolderMismatch),           # a person's own account
    ({"holder_name": "小河五金贸易有限公司"}, HolderMismatch),
])
def test_declaration_needs_consent_and_the_firms_own_name(session, vendor, kw, error):
    firm, user = vendor
    with pytest.raises(error):
        declare(session, firm, user, **kw)
    assert payout.current(session=session, firm_id=firm.id) is None


def test_declaring_the_account_on_file_is_in_force_at_once(session, vendor):
    firm, user = vendor
    row = declare(session, firm, user)
    assert isinstance(row, PayoutAccount)
    assert payout.current(session=session, firm_id=firm.id) == row
    assert (row.consented_by_id, row.holder_name, row.source) == (user.id, firm.name, "vendor")
    assert payout.label(row) == "招商银行江北支行 ····0001"


def test_another_account_waits_and_then_is_the_consented_one(session, vendor):
    firm, user = vendor
    change = declare(session, firm, user, account_number="6222020000000000999")
    assert isinstance(change, BankAccountChange) and change.consented
    assert payout.current(session=session, firm_id=firm.id) is None
    bank.apply_due(session=session, now=change.effective_at + timedelta(minutes=1))
    row = payout.current(session=session, firm_id=firm.id)
    assert (row.account_number, row.consented_by_id, row.change_id) == (
        "6222020000000000999", user.id, change.id)


def test_a_change_without_consent_leaves_no_account_in_force(session, vendor):
    firm, user = vendor
    declare(session, firm, user)
    change = bank.request_change(session=session, firm_id=firm.id, user=user,
                                 password=PASSWORD, new_account="6222020000000000777")
    bank.apply_due(session=session, now=change.effective_at + timedelta(minutes=1))
    assert payout.current(session=session, firm_id=firm.id) is None


@pytest.mark.parametrize("holder, firm_name, same", [
    ("小河五金(江北)有限公司", "小河五金（江北）有限公司", True),
    (" 小河五金 ", "小河五金", True),
    ("", "", False),
    ("小河五金", "大河五金", False),
])
def test_same_holder(holder, firm_name, same):
    assert payout.same_holder(holder, firm_name) is same


def test_withdrawing_the_bank_data_consent_ends_the_payout_account(session, vendor):
    firm, user = vendor
    declare(session, firm, user)
    assert bank.withdraw_consent(session=session, firm_id=firm.id, purpose="bank_account") == 1
    assert payout.current(session=session, firm_id=firm.id) is None


def test_another_firms_account_is_refused_without_naming_it(session, world, make_user,
                                                            make_firm):
    """Attack 13, finding 6: accepting with another firm's payout_account_id was refused,
    but the message showed that firm's bank and last four digits as the account "the
    borrower consented to for this loan". Refused now (409, nothing accepted or changed)
    saying only that it is not one of this firm's consented accounts; the same when the
    vendor consents again for a pending loan, and for an id that does not exist."""
    user = make_user("vendor", firm=world.vendor)
    other = make_firm()
    theirs = new_account(session, other, number="6222600170009876543", bank_name="交通银行")
    offer = offer_for(session, world)
    for forged in (theirs.id, theirs.id + 10_000):
        with pytest.raises(NotOwnPayoutAccount) as refused:
            accepted_loan(session, world, user, seen=forged, offer=offer)
        said = str(refused.value)
        assert "6543" not in said and "交通银行" not in said, said
        assert "not one of this firm's consented payout accounts" in said
        assert refused.value.status == 409
        assert offer.status == "open"
    loan = accepted_loan(session, world, user, offer=offer)
    bound = loan.payout_account_id
    new_account(session, world.vendor)
    with pytest.raises(NotOwnPayoutAccount) as refused:
        lifecycle.confirm_payout_account(session=session, loan_id=loan.id, user_id=user.id,
                                         payout_account_id=theirs.id)
    assert "6543" not in str(refused.value) and "交通银行" not in str(refused.value)
    assert loan.payout_account_id == bound
