"""Receivable financing of a voucher part, on the ledger's products, prices and loans.

A holder pledges a held fragment: Trellis advances the product's advance rate of the
fragment's amount until the voucher matures (plus the product's grace days), and the
anchor's settlement of that fragment repays the loan (:mod:`trellis.vouchers.settlement`).
The claim behind the loan is the anchor's confirmed payable, so the request is decided
automatically: the holder is scored (``trellis.scoring.service.score_firm``, consent
respected) and declined with the reasons when it cannot be scored, carries a fraud flag,
or its grade is one the product does not lend to; otherwise an offer is priced exactly as
the ledger prices one (:mod:`trellis.ledger.pricing`, :func:`trellis.ledger.apr.quote`,
the legal cap). Accepting the offer creates the ledger loan (pending disbursement by the
ledger's job) and marks the fragment ``financed``, which the database and
:func:`services.held_fragment` then refuse to split, transfer or finance again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from sqlmodel import Session, select

from trellis.accounts.models import User, utcnow
from trellis.errors import PermissionDenied, ValidationError
from trellis.vouchers import services
from trellis.vouchers.errors import NotLive, VoucherNotFound
from trellis.vouchers.models import EventKind, FragmentStatus, Voucher, VoucherFragment

logger = logging.getLogger(__name__)
PRODUCT_CODE = "RF-STD"


def quote(*, session: Session, holder_id: int, fragment_id: int, user: User | None = None,
          as_of: date | None = None, product_code: str = PRODUCT_CODE,
          scorer: Callable | None = None):
    """File an application to finance a held fragment; returns ``(application, offer)``
    where the offer is None when the application was declined (see its
    ``decline_reasons``)."""
    from trellis.ledger import pricing, status
    from trellis.ledger.apr import fee_for, rate_micro
    from trellis.ledger.apr import quote as price_quote
    from trellis.ledger.errors import OfferAboveCap
    from trellis.ledger.models import Application, ApplicationStatus, Decision, Offer
    from trellis.ledger.origination import first_loan, product_by_code

    as_of = as_of or date.today()
    fragment = services.held_fragment(session=session, fragment_id=fragment_id,
                                      holder_id=holder_id)
    voucher = session.get(Voucher, fragment.voucher_id)
    if as_of >= voucher.maturity_date:
        raise NotLive(f"Voucher {voucher.code} has matured; it is settled, not financed.")
    product = product_by_code(session, product_code)
    amount = fragment.amount_fen * product.advance_rate_bps // 10_000
    if amount < product.min_amount_fen:
        raise ValidationError(f"This part is too small to finance: the smallest advance is "
                              f"{product.min_amount_fen // 100} yuan.", field="fragment_id")
    amount = min(amount, product.max_amount_fen)
    if scorer is None:
        from trellis.scoring.service import score_firm as scorer
    result = scorer(session=session, firm_id=holder_id, as_of=as_of, applied_on=as_of)
    app = Application(firm_id=holder_id, product_id=product.id, requested_fen=amount,
                      eligible_fen=amount, invoice_ids=[], order_ids=[], anchor_confirmed=True,
                      as_of=as_of, applied_by_id=user.id if user else None,
                      score=result.score, grade=result.grade, pd=result.pd,
                      insufficient=bool(result.insufficient),
                      flags=[{"code": f.code, "en": f.en, "zh": f.zh} for f in result.flags],
                      reasons=[{"code": r.code, "en": r.en, "zh": r.zh,
                                "points_lost": r.points_lost} for r in result.reasons],
                      scorecard_version=result.scorecard_version or "")
    session.add(app)
    session.flush()
    fragment.application_id = app.id
    session.add(fragment)

    def decline(reasons: list[str]):
        session.add(Decision(application_id=app.id, action="auto_decline", reasons=reasons))
        status.move_application(app, ApplicationStatus.DECLINED)
        app.decline_reasons, app.decided_at = reasons, utcnow()
        session.flush()
        return app, None

    if result.insufficient or result.grade is None:
        return decline(["Not enough data to score your firm: "
                        + "; ".join(result.insufficient_reasons or ["no grade"])])
    if result.flags:
        return decline([f"Flag: {f.en}" for f in result.flags])
    if result.grade not in (product.spreads_bps or {}):
        return decline([f"Grade {result.grade} is below what {product.name} lends to."])
    rate = pricing.contract_rate(session=session, grade=result.grade, anchor_confirmed=True,
                                 spreads_bps=product.spreads_bps,
                                 confirmed_discount_bps=product.confirmed_discount_bps,
                                 as_of=as_of)
    due = voucher.maturity_date + timedelta(days=product.grace_days)
    fee = fee_for(amount, product.fee_bps, product.fee_min_fen)
    q = price_quote(amount_fen=amount, rate=rate, fee_fen=fee, start=as_of, due=due,
                    day_count=product.day_count)
    cap = pricing.legal_cap(session=session, as_of=as_of)
    if q.apr > cap:
        return decline([OfferAboveCap(f"No offer: the annualised rate including fees, "
                                      f"{q.apr * 100:.2f} %, would exceed the legal cap of "
                                      f"{cap * 100:.2f} %.").message])
    micro = rate_micro(rate)
    is_first = first_loan(session, holder_id)
    offer = Offer(application_id=app.id, amount_fen=amount, rate=rate, rate_micro=micro,
                  penalty_rate_micro=pricing.penalty_within_cap(
                      rate_micro_=micro, penalty_bps=product.penalty_rate_bps, cap=cap),
                  apr=q.apr, cap=cap, fee_fen=fee, interest_fen=q.interest_fen,
                  total_cost_fen=q.total_cost_fen, start_date=as_of, due_date=due,
                  tenor_days=q.tenor_days, schedule=list(q.schedule),
                  cooling_off_days=product.cooling_off_days if is_first else 0,
                  first_loan=is_first,
                  expires_on=min(as_of + timedelta(days=product.offer_valid_days),
                                 voucher.maturity_date - timedelta(days=1)))
    session.add(offer)
    session.add(Decision(application_id=app.id, action="auto_approve",
                         reasons=[f"Voucher {voucher.code} part #{fragment.id}: the anchor's "
                                  f"confirmed payable; grade {result.grade}, no flags."]))
    status.move_application(app, ApplicationStatus.APPROVED)
    app.decided_at = utcnow()
    session.flush()
    return app, offer


def fragment_for_application(*, session: Session, application_id: int
                             ) -> VoucherFragment | None:
    return session.exec(select(VoucherFragment).where(
        VoucherFragment.application_id == application_id)).first()


def accept(*, session: Session, holder_id: int, offer_id: int, user: User | None = None,
           as_of: date | None = None):
    """Sign the offer on a voucher part: the ledger loan (pending disbursement) is created
    and the part is pledged (``financed``). Returns the loan."""
    from trellis.ledger import status
    from trellis.ledger.errors import CannotAccept, OfferExpired, OfferNotFound
    from trellis.ledger.models import Application, ApplicationStatus, Loan, Offer, OfferStatus
    from trellis.ledger.models import Product as LoanProduct
    from trellis.ledger.origination import first_loan

    as_of = as_of or date.today()
    offer = session.get(Offer, offer_id)
    app = session.get(Application, offer.application_id) if offer else None
    if offer is None or app is None or app.firm_id != holder_id:
        raise OfferNotFound("That offer does not exist.")
    if user is not None and user.firm_id != holder_id:
        raise PermissionDenied("Only the applicant firm can accept its offer.")
    fragment = fragment_for_application(session=session, application_id=app.id)
    if fragment is None:
        raise VoucherNotFound("That offer is not for a voucher part.")
    if offer.status != OfferStatus.OPEN:
        raise CannotAccept(f"This offer was already {offer.status}; nothing changed.")
    if as_of > offer.expires_on:
        raise OfferExpired(f"The offer expired on {offer.expires_on}; apply again.")
    fragment = services.held_fragment(session=session, fragment_id=fragment.id,
                                      holder_id=holder_id)
    product = session.get(LoanProduct, app.product_id)
    status.move_application(app, ApplicationStatus.ACCEPTED)
    offer.status, offer.accepted_at = OfferStatus.ACCEPTED, utcnow()
    offer.accepted_by_id = user.id if user else None
    loan = Loan(firm_id=holder_id, product_id=product.id, currency=product.currency,
                amount_fen=offer.amount_fen, rate_micro=offer.rate_micro,
                penalty_rate_micro=offer.penalty_rate_micro, day_count=product.day_count,
                fee_fen=offer.fee_fen, tenor_days=offer.tenor_days or product.tenor_days,
                grace_days=product.grace_days, cooling_off_days=offer.cooling_off_days,
                first_loan=first_loan(session, holder_id), waterfall=list(product.waterfall),
                due_date=offer.due_date, application_id=app.id, offer_id=offer.id)
    session.add(loan)
    session.flush()
    fragment.status = FragmentStatus.FINANCED
    fragment.loan_id = loan.id
    session.add(fragment)
    session.flush()
    voucher = session.get(Voucher, fragment.voucher_id)
    services.record_event(session=session, voucher=voucher, kind=EventKind.FINANCE,
                          fragment=fragment, user=user, loan_id=loan.id,
                          advance_fen=loan.amount_fen)
    logger.info("voucher %s part %s financed by loan %s", voucher.code, fragment.id, loan.id)
    return loan
