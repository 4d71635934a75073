"""Application -> score -> decision -> offer -> acceptance -> disbursement, with the real
scoring service, the real pricing tables and the embedded chain registry."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.ledger.conftest import AS_OF, set_product
from tests.pgschema import pg_factory  # noqa: F401
from trellis.chain.errors import DoubleFinancing
from trellis.errors import PermissionDenied, ValidationError
from trellis.ledger import accrual, lifecycle, origination, reports
from trellis.ledger.apr import xirr
from trellis.ledger.chart import Acct
from trellis.ledger.errors import (
    CannotAccept,
    CannotDecide,
    IneligibleDocument,
    LimitExceeded,
    OfferAboveCap,
    OfferExpired,
    SameApprover,
)
from trellis.ledger.models import (
    CreditLine,
    Decision,
    Loan,
    LoanDocument,
    LoanStatus,
    Offer,
)
from trellis.messages import texts


def offer_of(session, app) -> Offer:
    return session.scalars(select(Offer).where(Offer.application_id == app.id)).one()


def decisions(session, app) -> list[str]:
    return [d.action for d in session.scalars(
        select(Decision).where(Decision.application_id == app.id).order_by(Decision.id))]


def test_a_good_vendor_is_approved_automatically_and_offered(session, world):
    inv = world.invoice(10_000_000)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    assert (app.status, app.grade, app.flags) == ("approved", "A", [])
    assert decisions(session, app) == ["auto_approve"]
    offer = offer_of(session, app)
    assert offer.amount_fen == 8_000_000            # 80 % advance rate
    assert offer.rate == Decimal("0.0400")           # LPR 3 % + 150 bp - 50 bp confirmed
    due = inv.due_date + timedelta(days=3)           # grace
    days = (due - AS_OF).days
    assert offer.due_date == due and offer.tenor_days == days
    daily = (8_000_000 * 4 + 50) // 100 // 360      # 888.9 fen, half up
    assert daily == 888 or daily == 889
    assert offer.interest_fen == days * 889
    assert offer.fee_fen == 24_000                   # 30 bp
    assert offer.total_cost_fen == offer.interest_fen + 24_000
    expected = xirr([(AS_OF, -8_000_000), (due, 8_000_000 + offer.total_cost_fen)])
    assert abs(Decimal(offer.apr) - expected) < Decimal("1e-8")
    assert Decimal(offer.apr) > offer.rate
    assert Decimal(offer.cap) == Decimal("0.12")     # min(24 %, 4 x LPR)
    assert offer.cooling_off_days == 7 and offer.first_loan
    assert offer.expires_on == AS_OF + timedelta(days=7)


@pytest.mark.parametrize("product, invoice_fen, expected_reason", [
    ({"auto_approve_grades": ["B"]}, 10_000_000, "Grade A is not approved automatically"),
    ({"auto_approve_max_fen": 1_000_000}, 10_000_000, "above the automatic approval limit"),
    ({"auto_approve_max_fen": 400_000_000}, 300_000_000, "above the firm's credit limit"),
])
def test_what_cannot_be_approved_automatically_goes_to_an_rm(session, world, product,
                                                              invoice_fen, expected_reason):
    set_product(session, "RF-STD", **product)
    inv = world.invoice(invoice_fen)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    assert app.status == "review"
    assert any(expected_reason in r for r in texts(app.review_reasons)), app.review_reasons
    assert decisions(session, app) == ["refer"]
    assert session.scalars(select(Offer).where(Offer.application_id == app.id)).first() is None


def test_a_grade_the_product_does_not_lend_to_is_declined_with_reasons(session, world):
    set_product(session, "RF-STD", spreads_bps={"B": 300})
    inv = world.invoice(10_000_000)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    assert app.status == "declined"
    assert texts(app.decline_reasons)[0].startswith("Grade A is below")
    assert decisions(session, app) == ["auto_decline"]


@pytest.mark.parametrize("product, reason", [
    ({"spreads_bps": {"A": 2000}}, "legal cap"),                        # rate 22.5 %
    ({"spreads_bps": {"A": 700}, "fee_bps": 300}, "including fees"),    # APR ~ 34 %
])
def test_no_offer_above_the_legal_cap(session, world, product, reason):
    """Reader 11, F8: an application no offer could be made on is refused before it is
    filed (it was filed, then declined), saying the rate it would need and the cap."""
    from trellis.ledger.models import Application

    set_product(session, "RF-STD", **product)
    inv = world.invoice(10_000_000)
    with pytest.raises(OfferAboveCap) as refused:
        origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                          invoice_ids=[inv.id], as_of=AS_OF)
    assert reason in refused.value.message and "12.00" in refused.value.message
    assert session.scalars(select(Application).where(
        Application.firm_id == world.vendor.id)).first() is None


def test_the_refusal_the_page_and_the_offer_price_alike(session, world):
    """Reader 11, F8: the apply page marked an invoice at one annualised rate (the best
    grade's) and the application for it was declined at another (the firm's grade). Both
    now price with ``quoting``: at the firm's grade the page's figure is the refusal's,
    and a priceable invoice's page figure is its offer's."""
    from trellis.ledger import quoting
    from trellis.ledger.models import Product

    # a fee that a 23-day loan cannot carry under the cap and a 153-day one can
    set_product(session, "RF-STD", spreads_bps={"A": 500}, fee_bps=60)
    product = session.scalars(select(Product).where(Product.code == "RF-STD")).one()
    short = world.invoice(10_000_000, due=AS_OF + timedelta(days=20))
    page = quoting.invoice_terms(session=session, product=product, grade="A",
                                 open_fen=short.amount_fen, due_date=short.due_date,
                                 as_of=AS_OF)
    assert not isinstance(page, quoting.Priced)
    with pytest.raises(OfferAboveCap) as refused:
        origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                          invoice_ids=[short.id], as_of=AS_OF)
    assert page.params["apr"] == refused.value.params["apr"]
    assert refused.value.params["grade"] == "A"
    assert "Choose invoices due later" in refused.value.message
    later = world.invoice(16_000_000, due=AS_OF + timedelta(days=150))
    shown = quoting.invoice_terms(session=session, product=product, grade="A",
                                  open_fen=later.amount_fen, due_date=later.due_date,
                                  as_of=AS_OF)
    assert isinstance(shown, quoting.Priced)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[later.id], as_of=AS_OF)
    assert app.status == "approved", app.review_reasons
    offer = offer_of(session, app)
    assert (offer.amount_fen, offer.fee_fen, offer.total_cost_fen, Decimal(offer.apr)) == (
        shown.amount_fen, shown.fee_fen, shown.cost_fen, shown.quote.apr)


def test_penalty_rate_is_cut_to_stay_within_the_cap(session, world):
    set_product(session, "RF-STD", spreads_bps={"A": 800}, penalty_rate_bps=600, fee_bps=0)
    inv = world.invoice(10_000_000)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    offer = offer_of(session, app)
    assert offer.rate_micro == 105_000                    # 3 + 8 - 0.5 %
    assert offer.rate_micro + offer.penalty_rate_micro == 120_000


def test_maker_checker_above_the_second_approval_amount(session, world, make_user):
    set_product(session, "RF-STD", auto_approve_grades=[], second_approval_above_fen=5_000_000)
    rm1, rm2 = make_user("rm"), make_user("rm")
    vendor_user = make_user("vendor", firm=world.vendor)
    inv = world.invoice(10_000_000)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    assert app.status == "review"
    with pytest.raises(PermissionDenied):
        origination.decide(session=session, application_id=app.id, user_id=vendor_user.id,
                           approve=True)
    origination.decide(session=session, application_id=app.id, user_id=rm1.id, approve=True)
    assert app.status == "second_approval"
    with pytest.raises(SameApprover):
        origination.decide(session=session, application_id=app.id, user_id=rm1.id,
                           approve=True)
    origination.decide(session=session, application_id=app.id, user_id=rm2.id, approve=True,
                       reasons=["Checked the anchor's confirmation."])
    assert app.status == "approved"
    assert decisions(session, app) == ["refer", "approve", "approve"]
    assert offer_of(session, app).amount_fen == 8_000_000
    with pytest.raises(CannotDecide):
        origination.decide(session=session, application_id=app.id, user_id=rm1.id,
                           approve=False, reasons=["too late"])


def test_approvals_never_take_the_firm_past_its_credit_limit(session, world, make_user):
    """Two applications each under the limit, together above it: the checker's approval
    of the second is refused, naming the exposure and the limit in yuan."""
    set_product(session, "RF-STD", auto_approve_grades=[], second_approval_above_fen=5_000_000)
    rm1, rm2 = make_user("rm"), make_user("rm")
    apps = []
    for _ in range(2):
        inv = world.invoice(10_000_000)
        apps.append(origination.apply(session=session, firm_id=world.vendor.id,
                                      product_code="RF-STD", invoice_ids=[inv.id],
                                      as_of=AS_OF))
    for app in apps:
        app.limit_fen = 12_000_000      # each 8,000,000 fits; both (16,000,000) do not
    session.flush()
    assert origination.exposure_fen(session, world.vendor.id) == 0
    for app in apps:
        origination.decide(session=session, application_id=app.id, user_id=rm1.id,
                           approve=True, reasons=["Maker: documents checked."])
    origination.decide(session=session, application_id=apps[0].id, user_id=rm2.id,
                       approve=True, reasons=["Checker: limit leaves room."])
    assert apps[0].status == "approved"
    assert origination.exposure_fen(session, world.vendor.id) == 8_000_000
    with pytest.raises(LimitExceeded) as info:
        origination.decide(session=session, application_id=apps[1].id, user_id=rm2.id,
                           approve=True, reasons=["Checker: fine."])
    assert "¥160,000.00" in str(info.value) and "¥120,000.00" in str(info.value)
    assert apps[1].status == "second_approval"


def test_small_amounts_need_one_approver_and_declines_need_reasons(session, world,
                                                                   make_user):
    set_product(session, "RF-STD", auto_approve_grades=[])
    rm = make_user("rm")
    # two clearly different invoices (1 fen apart would be a near-duplicate: review)
    apps = [origination.apply(session=session, firm_id=world.vendor.id,
                              product_code="RF-STD",
                              invoice_ids=[world.invoice(1_000_000 * (n + 1)).id],
                              as_of=AS_OF) for n in range(2)]
    origination.decide(session=session, application_id=apps[0].id, user_id=rm.id,
                       approve=True)
    assert apps[0].status == "approved"
    with pytest.raises(ValidationError, match="reason"):
        origination.decide(session=session, application_id=apps[1].id, user_id=rm.id,
                           approve=False, reasons=["  "])
    origination.decide(session=session, application_id=apps[1].id, user_id=rm.id,
                       approve=False, reasons=["Buyer disputes the goods."])
    assert apps[1].status == "declined"
    assert texts(apps[1].decline_reasons) == ["Buyer disputes the goods."]


def _ineligible_cases():
    return {
        "another firm's invoice": lambda w: dict(invoice_ids=[w.invoice(1_000_000,
                                                                         seller=w.other).id]),
        "unconfirmed invoice": lambda w: dict(invoice_ids=[w.invoice(1_000_000,
                                                                      confirmed=False).id]),
        "invoice already due": lambda w: dict(invoice_ids=[w.invoice(
            1_000_000, issued=date(2025, 11, 1), due=date(2026, 1, 10)).id]),
        "order for receivable financing": lambda w: dict(order_ids=[w.order(1_000_000).id]),
        "no documents": lambda w: dict(),
    }


@pytest.mark.parametrize("case", list(_ineligible_cases()))
def test_ineligible_documents_are_refused(session, world, case):
    kwargs = _ineligible_cases()[case](world)
    with pytest.raises(IneligibleDocument):
        origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                          as_of=AS_OF, **kwargs)


@pytest.mark.parametrize("amount, message", [(9_000_000, "at most ¥80,000.00"),
                                             (50_000, "smallest amount"),
                                             (0, "positive")])
def test_amount_must_fit_the_documents_and_product(session, world, amount, message):
    inv = world.invoice(10_000_000)
    with pytest.raises(ValidationError, match=message):
        origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                          invoice_ids=[inv.id], amount_fen=amount, as_of=AS_OF)


def approved_loan(session, world, invoice_fen=10_000_000, user=None):
    inv = world.invoice(invoice_fen)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    offer = offer_of(session, app)
    loan = origination.accept_offer(session=session, offer_id=offer.id,
                                    user_id=user.id if user else None, as_of=AS_OF)
    return inv, app, offer, loan


def test_acceptance_creates_a_pending_loan_on_the_invoice(session, world, make_user):
    vendor_user, stranger = make_user("vendor", firm=world.vendor), make_user(
        "vendor", firm=world.other)
    inv = world.invoice(10_000_000)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    offer = offer_of(session, app)
    with pytest.raises(PermissionDenied):
        origination.accept_offer(session=session, offer_id=offer.id, user_id=stranger.id,
                                 as_of=AS_OF)
    with pytest.raises(OfferExpired):
        origination.accept_offer(session=session, offer_id=offer.id, user_id=vendor_user.id,
                                 as_of=AS_OF + timedelta(days=8))
    loan = origination.accept_offer(session=session, offer_id=offer.id,
                                    user_id=vendor_user.id, as_of=AS_OF)
    assert (loan.status, loan.amount_fen, loan.first_loan) == ("pending", 8_000_000, True)
    assert loan.due_date == offer.due_date and loan.fee_fen == offer.fee_fen
    docs = session.scalars(select(LoanDocument).where(LoanDocument.loan_id == loan.id)).all()
    assert [d.invoice_id for d in docs] == [inv.id]
    assert app.status == "accepted"
    with pytest.raises(CannotAccept):
        origination.accept_offer(session=session, offer_id=offer.id, user_id=vendor_user.id,
                                 as_of=AS_OF)
    with pytest.raises(IneligibleDocument, match="Already financed"):
        origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                          invoice_ids=[inv.id], as_of=AS_OF)


def test_disbursement_registers_the_invoice_and_the_anchor_sweeps_it(
        session, world, embedded_chain, chain_settings):
    inv, _app, offer, loan = approved_loan(session, world)
    lifecycle.disburse(session=session, settings=chain_settings, loan_id=loan.id, as_of=AS_OF)
    assert loan.status == "active" and loan.principal_fen == 8_000_000
    from trellis.chain.models import Fingerprint

    prints = session.scalars(select(Fingerprint).where(Fingerprint.subject_id == inv.id)).all()
    assert prints and all(embedded_chain.registrant_of(p.fingerprint) for p in prints)
    accrual.accrue(session=session, as_of=inv.due_date)
    rep = lifecycle.anchor_payment(session=session, invoice_id=inv.id,
                                   amount_fen=inv.amount_fen, paid_on=inv.due_date,
                                   idempotency_key=f"anchor-{inv.id}")
    loan = session.get(Loan, loan.id)
    assert rep.source == "anchor" and loan.status == LoanStatus.REPAID
    days = (inv.due_date - AS_OF).days
    owed = 8_000_000 + offer.fee_fen + days * 889
    b = reports.balances(session=session, loan_id=loan.id)
    assert -b[Acct.VENDOR_PAYABLE.value] == inv.amount_fen - owed
    # reader 11, F28: the vendor is told how the buyer's money was split
    from trellis.notifications import events, render
    from trellis.notifications.models import NotificationEvent

    events.collect(session=session, as_of=inv.due_date)
    told = session.scalars(select(NotificationEvent).where(
        NotificationEvent.key == f"buyer-paid:{rep.id}")).one()
    text = render.text(told.message, "zh_CN")
    assert told.firm_id == loan.firm_id and f"贷款 {loan.id}" in text
    assert f"余款 ¥{(inv.amount_fen - owed) // 100:,}.{(inv.amount_fen - owed) % 100:02d}" \
        in text, text
    # a second loan would need another document; the invoice is paid
    assert lifecycle.anchor_payment(session=session, invoice_id=inv.id, amount_fen=1,
                                    paid_on=inv.due_date, idempotency_key="again") is None


def test_an_invoice_financed_elsewhere_is_refused_at_disbursement(
        session, world, embedded_chain, chain_settings):
    from trellis.chain import registry

    inv, _app, _offer, loan = approved_loan(session, world)
    # another financier registered the same receivable under a changed number
    twin = world.invoice(inv.amount_fen, issued=inv.issue_date)
    registry.register_financing(session=session, settings=chain_settings,
                                invoice_ids=[twin.id], financed_by="other-bank")
    with pytest.raises(DoubleFinancing):
        lifecycle.disburse(session=session, settings=chain_settings, loan_id=loan.id,
                           as_of=AS_OF)
    assert session.get(Loan, loan.id).principal_fen == 0
    assert reports.balances(session=session, loan_id=loan.id)[Acct.LOANS.value] == 0


def test_order_financing_is_repaid_from_the_invoice_the_order_becomes(
        session, world, embedded_chain, chain_settings):
    po = world.order(20_000_000)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                            order_ids=[po.id], as_of=AS_OF)
    assert app.status == "review"   # 12,000,000 fen is above OF's automatic limit
    rm = __import__("trellis.accounts.services", fromlist=["x"]).create_user(
        session=session, email="rm-of@example.cn", password="correct horse battery",
        role="rm")
    origination.decide(session=session, application_id=app.id, user_id=rm.id, approve=True)
    offer = offer_of(session, app)
    assert offer.amount_fen == 12_000_000                 # 60 % of the order
    assert offer.due_date == AS_OF + timedelta(days=93)   # tenor 90 + grace 3
    loan = origination.accept_offer(session=session, offer_id=offer.id, as_of=AS_OF)
    lifecycle.disburse(session=session, settings=chain_settings, loan_id=loan.id, as_of=AS_OF)
    inv = world.invoice(20_000_000, issued=date(2026, 2, 1), order=po)
    accrual.accrue(session=session, as_of=date(2026, 3, 1))
    lifecycle.anchor_payment(session=session, invoice_id=inv.id, amount_fen=20_000_000,
                             paid_on=date(2026, 3, 1), idempotency_key="of-sweep")
    assert session.get(Loan, loan.id).status == LoanStatus.REPAID


def test_revolving_line_draws_within_its_limit(session, world, embedded_chain,
                                               chain_settings):
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RL-STD",
                            amount_fen=5_000_000, as_of=AS_OF)
    assert app.status == "approved", app.review_reasons
    line = origination.accept_offer(session=session, offer_id=offer_of(session, app).id,
                                    as_of=AS_OF)
    assert isinstance(line, CreditLine) and line.limit_fen == 5_000_000
    first = origination.draw(session=session, line_id=line.id, amount_fen=2_000_000,
                             as_of=AS_OF)
    with pytest.raises(LimitExceeded):
        origination.draw(session=session, line_id=line.id, amount_fen=3_500_000, as_of=AS_OF)
    lifecycle.disburse(session=session, settings=chain_settings, loan_id=first.id,
                       as_of=AS_OF)
    assert first.due_date == AS_OF + timedelta(days=60) and first.first_loan
    second = origination.draw(session=session, line_id=line.id, amount_fen=3_000_000,
                              as_of=AS_OF)
    assert not second.first_loan
    lifecycle.repay(session=session, loan_id=first.id, amount_fen=2_000_000 + 4_000,
                    paid_on=AS_OF + timedelta(days=2), idempotency_key="rl-1")
    # the first draw was repaid in its cooling-off window: the line is free again
    assert session.get(Loan, first.id).status == LoanStatus.COOLED_OFF
    with pytest.raises(LimitExceeded):
        origination.draw(session=session, line_id=line.id, amount_fen=2_000_001,
                         as_of=AS_OF)
    origination.draw(session=session, line_id=line.id, amount_fen=2_000_000, as_of=AS_OF)


# --- issue 11, defect 6: one first loan per firm -------------------------------------

def test_an_offer_promising_a_first_loan_is_refused_once_another_loan_exists(
        session, world):
    from trellis.ledger.errors import OfferOutdated
    from trellis.ledger.models import Loan

    # two clearly different invoices (1 fen apart would be a near-duplicate: review)
    apps = [origination.apply(session=session, firm_id=world.vendor.id,
                              product_code="RF-STD",
                              invoice_ids=[world.invoice(1_000_000 * (n + 1)).id],
                              as_of=AS_OF) for n in range(2)]
    assert [a.status for a in apps] == ["approved", "approved"], [a.review_reasons
                                                                  for a in apps]
    first_offer, second_offer = (offer_of(session, a) for a in apps)
    assert first_offer.first_loan and second_offer.first_loan
    loan = origination.accept_offer(session=session, offer_id=first_offer.id, as_of=AS_OF)
    assert loan.first_loan and loan.cooling_off_days == first_offer.cooling_off_days
    with pytest.raises(OfferOutdated):
        origination.accept_offer(session=session, offer_id=second_offer.id, as_of=AS_OF)
    firsts = session.scalars(select(Loan).where(Loan.firm_id == world.vendor.id,
                                                Loan.first_loan)).all()
    assert len(firsts) == 1


def test_the_database_refuses_a_second_first_loan(session, make_loan, make_firm):
    from sqlalchemy.exc import IntegrityError

    firm = make_firm()
    make_loan(firm=firm, first_loan=True, disburse=None)
    with pytest.raises(IntegrityError), session.begin_nested():
        make_loan(firm=firm, first_loan=True, disburse=None)


@pytest.mark.postgres_only
def test_two_offers_accepted_at_once_make_one_first_loan(pg_factory):  # noqa: F811
    """Defect 6: 12 trials of two offers of one firm accepted at the same moment."""
    import threading

    from tests.conftest import next_uscc
    from trellis import db
    from trellis.ledger.errors import OfferOutdated
    from trellis.ledger.models import Application, Loan, Product
    from trellis.protection import payout
    from trellis.trade.models import Firm

    for trial in range(12):
        with db.transaction(pg_factory) as s:
            product = s.scalars(select(Product).where(Product.code == "RF-STD")).one()
            firm = Firm(uscc=next_uscc(), name=f"首贷{trial}", role="vendor")
            s.add(firm)
            s.flush()
            payout.install(session=s, firm_id=firm.id, bank_name="招商银行", source="seed",
                           account_number=f"6214{firm.id:012d}", holder_name=firm.name,
                           consented_by_id=None)
            offers = []
            for _ in range(2):
                app = Application(firm_id=firm.id, product_id=product.id, status="approved",
                                  requested_fen=1_000_000, as_of=AS_OF, grade="A")
                s.add(app)
                s.flush()
                offer = Offer(application_id=app.id, amount_fen=1_000_000,
                              rate=Decimal("0.04"), rate_micro=40_000, apr=Decimal("0.05"),
                              start_date=AS_OF, due_date=AS_OF + timedelta(days=60),
                              cooling_off_days=7, first_loan=True,
                              expires_on=AS_OF + timedelta(days=7))
                s.add(offer)
                s.flush()
                offers.append(offer.id)
        barrier, outcomes = threading.Barrier(2), []

        def accept(offer_id, barrier=barrier, outcomes=outcomes):
            barrier.wait(timeout=10)
            try:
                db.run(pg_factory, lambda s: origination.accept_offer(
                    session=s, offer_id=offer_id, as_of=AS_OF).id)
                outcomes.append("loan")
            except OfferOutdated:
                outcomes.append("outdated")
            except BaseException as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=accept, args=(o,)) for o in offers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(map(str, outcomes)) == ["loan", "outdated"], outcomes
        with db.transaction(pg_factory) as s:
            loans = s.scalars(select(Loan).where(Loan.firm_id == firm.id)).all()
            assert [loan.first_loan for loan in loans] == [True]


# --- reader 13, J2: a first-loan offer once another loan has paid out ---------------------

def test_a_first_loan_offer_is_void_once_another_loan_pays_out(
        session, world, embedded_chain, chain_settings):
    from trellis.ledger import claims
    from trellis.ledger.errors import OfferOutdated

    invoices = [world.invoice(1_000_000 * (n + 1)) for n in range(2)]
    apps = [origination.apply(session=session, firm_id=world.vendor.id,
                              product_code="RF-STD", invoice_ids=[inv.id], as_of=AS_OF)
            for inv in invoices]
    assert [a.status for a in apps] == ["approved", "approved"]
    first_offer, second_offer = (offer_of(session, a) for a in apps)
    loan = origination.accept_offer(session=session, offer_id=first_offer.id, as_of=AS_OF)
    lifecycle.disburse(session=session, settings=chain_settings, loan_id=loan.id, as_of=AS_OF)
    session.refresh(second_offer)
    session.refresh(apps[1])
    assert (second_offer.status, apps[1].status) == ("superseded", "expired")
    assert (first_offer.status, apps[0].status) == ("accepted", "accepted")
    # its invoice is free for a new application, priced without the cooling-off
    assert claims.claimed_documents(session, firm_id=world.vendor.id, as_of=AS_OF) == {}
    again = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                              invoice_ids=[invoices[1].id], as_of=AS_OF)
    assert again.status == "approved"
    assert (offer_of(session, again).first_loan,
            offer_of(session, again).cooling_off_days) == (False, 0)
    with pytest.raises(OfferOutdated):
        origination.accept_offer(session=session, offer_id=second_offer.id, as_of=AS_OF)


# --- reader 13, J3: a flag on other invoices of the firm, told as such ---------------------

def test_a_duplicate_among_other_invoices_is_told_by_their_numbers(session, world):
    a = world.invoice(3_000_000, issued=date(2026, 1, 7), confirmed=False)
    b = world.invoice(3_000_000, issued=date(2026, 1, 7), confirmed=False)
    applied = world.invoice(10_000_000)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[applied.id], as_of=AS_OF)
    assert app.status == "review", app.review_reasons
    assert any(r.get("code") == "duplicate_invoice" for r in app.review_reasons)
    from trellis.notifications.render import text

    told = [text(m.to_json(), "zh_CN") for m in origination.review_topics(app)]
    assert told == [f"贵企业在 Trellis 上的部分发票疑似相互重复（{a.number}、{b.number}），"
                    "客户经理将先核对这些发票再作决定；它们未必是本申请所附的发票。"], told
    assert not any("申请所附的单据" in t for t in told)
