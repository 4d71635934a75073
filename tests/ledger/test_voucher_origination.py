"""Financing a voucher part goes through the ledger's own origination: scoring, automatic
rules, RM review and maker-checker, the ledger's offer, acceptance and pay-out (with the
part registered against double financing), and settlement at maturity repays the loan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.ledger.conftest import AS_OF, set_product
from trellis.chain import registry
from trellis.chain.errors import DoubleFinancing
from trellis.chain.models import Fingerprint
from trellis.ledger import lifecycle, origination
from trellis.ledger.errors import IneligibleDocument, SameApprover
from trellis.ledger.models import Loan, LoanFragment, LoanStatus, Offer
from trellis.messages import texts
from trellis.vouchers import financing
from trellis.vouchers import services as vs
from trellis.vouchers.errors import NotLive
from trellis.vouchers.models import VoucherFragment
from trellis.vouchers.naming import part_numbers
from trellis.vouchers.settlement import settle

MATURITY = AS_OF + timedelta(days=90)


def voucher_parts(session, world, amounts=(6_000_000, 4_000_000)):
    """The anchor issues the vendor's invoice as a voucher; the vendor splits it."""
    inv = world.invoice(sum(amounts))
    voucher = vs.issue(session=session, anchor_id=world.anchor.id, invoice_id=inv.id,
                       maturity_date=MATURITY, issued_on=AS_OF)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    parts = vs.split(session=session, holder_id=world.vendor.id, fragment_id=root.id,
                     amounts=list(amounts), as_of=AS_OF)
    return inv, voucher, parts


def accepted_part_loan(session, world, vendor_user=None):
    inv, voucher, parts = voucher_parts(session, world)
    app, offer = financing.quote(session=session, holder_id=world.vendor.id,
                                 fragment_id=parts[0].id, as_of=AS_OF)
    assert app.status == "approved", app.review_reasons
    loan = financing.accept(session=session, holder_id=world.vendor.id, offer_id=offer.id,
                            user=vendor_user, as_of=AS_OF)
    return inv, voucher, parts, offer, loan


def test_a_part_above_the_automatic_limit_needs_an_rm_and_a_second_approver(
        session, world, make_user):
    set_product(session, "RF-STD", auto_approve_max_fen=1_000_000,
                second_approval_above_fen=2_000_000)
    rm1, rm2 = make_user("rm"), make_user("rm")
    _inv, voucher, parts = voucher_parts(session, world)
    app, offer = financing.quote(session=session, holder_id=world.vendor.id,
                                 fragment_id=parts[0].id, as_of=AS_OF)
    assert (app.status, offer, app.fragment_ids) == ("review", None, [parts[0].id])
    assert any("automatic approval limit" in r for r in texts(app.review_reasons))
    assert app.requested_fen == 4_800_000                     # 80 % of the 6,000,000 part
    assert origination.open_offer(session, app.id) is None
    origination.decide(session=session, application_id=app.id, user_id=rm1.id, approve=True)
    assert app.status == "second_approval"
    with pytest.raises(SameApprover):
        origination.decide(session=session, application_id=app.id, user_id=rm1.id,
                           approve=True)
    origination.decide(session=session, application_id=app.id, user_id=rm2.id, approve=True)
    assert app.status == "approved"
    offer = origination.open_offer(session, app.id)
    assert offer.amount_fen == 4_800_000
    assert offer.due_date == voucher.maturity_date + timedelta(days=3)   # grace
    assert offer.expires_on < voucher.maturity_date
    loan = financing.accept(session=session, holder_id=world.vendor.id, offer_id=offer.id,
                            as_of=AS_OF)
    part = session.get(VoucherFragment, parts[0].id)
    assert (loan.status, loan.due_date) == ("pending", offer.due_date)
    assert (part.status, part.loan_id) == ("financed", loan.id)
    assert session.scalars(select(LoanFragment.fragment_id).where(
        LoanFragment.loan_id == loan.id)).all() == [parts[0].id]


def test_a_part_under_the_automatic_limit_is_offered_at_once_and_pledged_once(
        session, world, make_user):
    vendor_user = make_user("vendor", firm=world.vendor)
    _inv, _voucher, parts, offer, loan = accepted_part_loan(session, world, vendor_user)
    assert offer.amount_fen == 4_800_000 and loan.amount_fen == 4_800_000
    assert session.get(Offer, offer.id).accepted_by_id == vendor_user.id
    with pytest.raises(NotLive):
        financing.quote(session=session, holder_id=world.vendor.id, fragment_id=parts[0].id,
                        as_of=AS_OF)
    with pytest.raises(IneligibleDocument, match="only a part you hold"):
        origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                          fragment_ids=[parts[0].id], as_of=AS_OF)


@pytest.mark.parametrize("case, error", [
    ("other holder's part", "not held by your firm"),
    ("with an invoice", "financed on their own"),
    ("order product", "financed on their own"),
    ("matured", "has matured"),
])
def test_ineligible_parts_are_refused(session, world, case, error):
    inv, _voucher, parts = voucher_parts(session, world)
    kwargs = {"firm_id": world.vendor.id, "product_code": "RF-STD",
              "fragment_ids": [parts[0].id], "as_of": AS_OF}
    if case == "other holder's part":
        kwargs["firm_id"] = world.other.id
    elif case == "with an invoice":
        kwargs["invoice_ids"] = [world.invoice(1_000_000).id]
    elif case == "order product":
        kwargs["product_code"] = "OF-STD"
    else:
        kwargs["as_of"] = MATURITY
    with pytest.raises(IneligibleDocument, match=error):
        origination.apply(session=session, **kwargs)


def _other_financier(chain, fingerprint: str) -> str:
    """Another financier (a second chain account) registers *fingerprint* first."""
    from eth_account import Account

    from trellis.chain import client

    key = chain.w3.provider.ethereum_tester.backend.account_keys[1].to_bytes()
    other = client.Chain(chain.w3, account=Account.from_key(key), kind="embedded",
                         contract_address=chain.contract_address)
    chain.send_raw(chain.sign(chain.contract.functions.addSubmitter(other.address)).raw)
    other.send_raw(other.sign(other.contract.functions.register(
        [bytes.fromhex(fingerprint[2:])], b"\xb2" * 32)).raw)
    return other.address


@pytest.mark.parametrize("taken", ["part", "invoice"])
def test_a_part_financed_elsewhere_is_refused_at_disbursement(
        session, world, embedded_chain, chain_settings, taken):
    from trellis.trade.models import Firm

    inv, voucher, parts, _offer, loan = accepted_part_loan(session, world)
    seller, anchor = session.get(Firm, inv.seller_id), session.get(Firm, inv.buyer_id)
    if taken == "part":
        fp = registry.fragment_fingerprint(
            chain_settings.fingerprint_key, anchor_uscc=anchor.uscc, seller_uscc=seller.uscc,
            number=inv.number, path=f"{parts[0].parent_id}/{parts[0].id}",
            amount_fen=parts[0].amount_fen)
        named = f"part No. {part_numbers(session, [parts[0].id])[parts[0].id]} "
    else:
        fp = registry.fingerprints(chain_settings.fingerprint_key, kind="invoice",
                                   seller_uscc=seller.uscc, buyer_uscc=anchor.uscc,
                                   number=inv.number, amount_fen=inv.amount_fen,
                                   issued_on=inv.issue_date)["full"]
        named = inv.number
    other = _other_financier(embedded_chain, fp)
    with pytest.raises(DoubleFinancing) as err:
        lifecycle.disburse(session=session, settings=chain_settings, loan_id=loan.id,
                           as_of=AS_OF)
    assert named in err.value.message and other in err.value.message
    assert session.get(Loan, loan.id).principal_fen == 0
    lifecycle.cancel(session=session, loan_id=loan.id, reason=err.value.message)
    # settlement then pays the holder, not a loan that never paid out
    assert session.get(VoucherFragment, parts[0].id).loan_id is None
    paid = settle(session=session, voucher_id=voucher.id, paid_on=MATURITY)
    assert sorted((p.amount_fen, p.loan_id) for p in paid) == [(4_000_000, None),
                                                               (6_000_000, None)]


def test_disbursement_registers_the_part_and_settlement_repays_the_loan(
        session, world, embedded_chain, chain_settings):
    inv, voucher, parts, offer, loan = accepted_part_loan(session, world)
    lifecycle.disburse(session=session, settings=chain_settings, loan_id=loan.id, as_of=AS_OF)
    assert loan.status == "active" and loan.principal_fen == offer.amount_fen
    prints = {(p.subject_type, p.subject_id) for p in session.scalars(select(Fingerprint))}
    assert {("fragment", parts[0].id), ("voucher", voucher.id)} <= prints
    # the invoice behind the voucher can no longer be financed directly, by anyone
    with pytest.raises(DoubleFinancing, match=voucher.code):
        registry.register_financing(session=session, settings=chain_settings,
                                    invoice_ids=[inv.id], financed_by="other-bank")
    # the voucher's other part can be financed: it shares the voucher's invoice prints
    registry.register_financing(session=session, settings=chain_settings,
                                fragment_ids=[parts[1].id])
    paid = settle(session=session, voucher_id=voucher.id, paid_on=MATURITY)
    assert {p.fragment_id: p.loan_id for p in paid} == {parts[0].id: loan.id,
                                                        parts[1].id: None}
    loan = session.get(Loan, loan.id)
    assert loan.status == LoanStatus.REPAID and loan.outstanding_fen == 0
