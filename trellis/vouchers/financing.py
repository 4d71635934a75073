"""Receivable financing of a voucher part, through the ledger's own origination.

A holder pledges a held fragment: :func:`quote` files a ledger application
(:func:`trellis.ledger.origination.apply` with ``fragment_ids``) on the receivable product,
so the part goes through the same scoring and decision path as an invoice (automatic
approval within the product's rules, otherwise RM review and, above the product's second
approval amount, maker-checker). The advance is the product's advance rate of the part's
amount, due at the voucher's maturity plus the product's grace days. Accepting the offer
(:func:`accept`, or the ledger's ``accept_offer`` directly) creates the ledger loan
(pending disbursement by the ledger's job) and calls :func:`pledge`, which marks the part
``financed`` (the database and :func:`services.held_fragment` then refuse to split,
transfer or finance it again) and anchors a ``finance`` event. The ledger registers the
part's fingerprints with the chain's double-financing registry before paying out, and the
anchor's settlement of the part repays the loan (:mod:`trellis.vouchers.settlement`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from trellis import clock
from trellis.accounts.models import User
from trellis.db import id_of
from trellis.errors import PermissionDenied, ValidationError
from trellis.ledger import quoting
from trellis.ledger.errors import OfferNotFound
from trellis.ledger.models import Application, Offer, Product
from trellis.ledger.origination import accept_offer, apply, open_offer, product_by_code
from trellis.messages import N_, Money, Percent, msg
from trellis.vouchers import services
from trellis.vouchers.errors import NotLive, VoucherNotFound
from trellis.vouchers.models import EventKind, FragmentStatus, Voucher, VoucherFragment

logger = logging.getLogger(__name__)
PRODUCT_CODE = "RF-STD"


def advance_for(*, session: Session, fragment: VoucherFragment,
                product_code: str = PRODUCT_CODE) -> int:
    """The most a part can be financed for (fen): the product's advance rate of its amount,
    within the product's maximum (what an application asks for by default)."""
    product = product_by_code(session, product_code)
    return quoting.advance_fen(product, fragment.amount_fen)


def quote(*, session: Session, holder_id: int, fragment_id: int, user: User | None = None,
          as_of: date | None = None, product_code: str = PRODUCT_CODE,
          scorer: Callable | None = None, limiter: Callable | None = None,
          amount_fen: int | None = None):
    """File an application to finance a held fragment; returns ``(application, offer)``.
    *amount_fen* is the amount asked for (default: the most the part allows, see
    :func:`advance_for`).

    The offer is None unless the application was approved automatically: a declined one
    says why in ``decline_reasons``, one under review (``status`` ``review``) waits for
    an RM (``review_reasons``) and gets its offer from the RM's approval.
    """
    as_of = as_of or clock.today()
    fragment = services.held_fragment(session=session, fragment_id=fragment_id,
                                      holder_id=holder_id)
    voucher = session.get_one(Voucher, fragment.voucher_id)
    if as_of >= voucher.maturity_date:
        raise NotLive(msg(N_("Voucher %(code)s has matured; it is settled, not financed."),
                          code=voucher.code))
    product = product_by_code(session, product_code)
    advance = quoting.advance_fen(product, fragment.amount_fen)
    if advance < product.min_amount_fen:
        raise ValidationError(N_("This part of %(part)s is too small to finance: at %(rate)s "
                                 "of it the advance would be %(advance)s, and the smallest "
                                 "advance is %(minimum)s. A part of %(smallest)s or more can "
                                 "be financed."),
                              params={"part": Money(fragment.amount_fen),
                                      "rate": Percent(Decimal(product.advance_rate_bps)
                                                      / 10_000),
                                      "advance": Money(advance),
                                      "minimum": Money(product.min_amount_fen),
                                      "smallest": Money(smallest_part(product))},
                              field="fragment_id")
    app = apply(session=session, firm_id=holder_id, product_code=product_code,
                fragment_ids=[id_of(fragment)], applied_by=user.id if user else None,
                amount_fen=amount_fen,
                as_of=as_of, scorer=scorer, limiter=limiter)
    fragment.application_id = app.id
    session.add(fragment)
    session.flush()
    offer = open_offer(session, id_of(app)) if app.status == "approved" else None
    logger.info("voucher %s part %s: application %s is %s", voucher.code, fragment.id,
                app.id, app.status)
    return app, offer


def smallest_part(product: Product) -> int:
    """The smallest part, in fen, whose advance (the product's advance rate of it, rounded
    down to the fen as :func:`quote` does) reaches the product's smallest loan."""
    if product.advance_rate_bps <= 0:
        raise ValueError(f"product {product.code} advances nothing")
    return -(-product.min_amount_fen * 10_000 // product.advance_rate_bps)


def fragment_for_application(*, session: Session, application_id: int
                             ) -> VoucherFragment | None:
    """The voucher part financed by application *application_id*, or None."""
    return session.exec(select(VoucherFragment).where(
        VoucherFragment.application_id == application_id)).first()


def accept(*, session: Session, holder_id: int, offer_id: int, user: User | None = None,
           as_of: date | None = None, payout_account_id: int | None = None):
    """Sign the offer on a voucher part: the ledger loan (pending disbursement) is created
    by :func:`trellis.ledger.origination.accept_offer` (bound to the firm's payout account;
    *payout_account_id*: the one the page showed) and the part is pledged (``financed``).
    Returns the loan."""
    offer = session.get(Offer, offer_id)
    app = session.get(Application, offer.application_id) if offer else None
    if offer is None or app is None or app.firm_id != holder_id:
        raise OfferNotFound(N_("That offer does not exist."))
    if user is not None and user.firm_id != holder_id:
        raise PermissionDenied(N_("Only the applicant firm can accept its offer."))
    if not app.fragment_ids:
        raise VoucherNotFound(N_("That offer is not for a voucher part."))
    return accept_offer(session=session, offer_id=id_of(offer), user_id=user.id if user else None,
                        as_of=as_of or clock.today(), payout_account_id=payout_account_id)


def pledge(*, session: Session, loan, fragment_ids: Sequence[int], user_id: int | None = None
           ) -> list[VoucherFragment]:
    """Mark the parts behind a newly accepted *loan* ``financed`` (pointing at the loan)
    and anchor a ``finance`` event for each. Raises :class:`NotLive` or
    :class:`VoucherNotFound` when a part is no longer held by the loan's firm (called by
    the ledger's ``accept_offer``; the caller rolls back)."""
    user = session.get(User, user_id) if user_id is not None else None
    out = []
    for fragment_id in fragment_ids:
        fragment = services.held_fragment(session=session, fragment_id=fragment_id,
                                          holder_id=loan.firm_id)
        fragment.status = FragmentStatus.FINANCED
        fragment.loan_id = loan.id
        session.add(fragment)
        session.flush()
        voucher = session.get_one(Voucher, fragment.voucher_id)
        services.record_event(session=session, voucher=voucher, kind=EventKind.FINANCE,
                              fragment=fragment, user=user, loan_id=loan.id,
                              advance_fen=loan.amount_fen)
        logger.info("voucher %s part %s financed by loan %s", voucher.code, fragment.id,
                    loan.id)
        out.append(fragment)
    return out


def release(*, session: Session, loan) -> list[VoucherFragment]:
    """A loan on voucher parts was cancelled before pay-out (e.g. the registry found the
    part financed elsewhere): detach the parts from it, so that settlement pays the holder
    instead of repaying a loan that never paid out. The parts stay ``financed`` (a status
    never goes back to ``held``): a claim found pledged elsewhere is not passed on."""
    frags = list(session.exec(select(VoucherFragment).where(
        VoucherFragment.loan_id == loan.id)))
    for fragment in frags:
        fragment.loan_id = None
        session.add(fragment)
    session.flush()
    return frags
