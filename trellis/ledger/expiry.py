"""Offers past their validity date: marked expired, with their applications.

An offer is valid up to and including ``expires_on`` (:func:`~trellis.ledger.origination.
accept_offer` refuses it the day after). :func:`expire_offers` moves, in two set-based
UPDATEs, every open offer whose validity ended before *as_of* to ``expired`` and every
approved application left without an open offer to ``expired``. The WHERE clauses take
their "from" states from the transition tables in :mod:`trellis.ledger.status`
(``OFFER_MOVES`` and ``APPLICATION_MOVES``), the same tables :func:`expire_offer` applies
one offer at a time through :func:`~trellis.ledger.status.move_offer` (which raises
:class:`~trellis.ledger.status.CannotExpire` for an illegal move).

Concurrency: a vendor accepting an offer holds its row lock; on PostgreSQL the UPDATE waits
for it and re-checks ``status = 'open'`` on the committed row, so an offer is either
accepted or expired, never both. Like every domain service these only flush.

:func:`void_first_loan_offers` ends offers early, for a reason rather than the calendar: an
offer priced as the firm's first loan promises that loan's cooling-off
(:attr:`~trellis.ledger.models.Offer.first_loan`), and once another loan of the firm has
been paid out it can never be signed (``origination._new_loan`` refuses it). Left open it
kept promising the cooling-off, showed an accept button and held its invoices until its
validity ended (reader 13, J2). It becomes ``superseded`` (void), its application
``expired``, and so its documents are free for a new application at today's terms (the
domain guide makes the cooling-off a first loan's right, not a term that survives one; a
new offer prices the loan as it now is). The vendor is told by
``trellis.notifications.events``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, select, update
from sqlmodel import Session, col

from trellis.db import id_of
from trellis.ledger import status
from trellis.ledger.errors import OfferNotFound
from trellis.ledger.models import (
    Application,
    ApplicationStatus,
    Offer,
    OfferStatus,
    Product,
    ProductKind,
)
from trellis.messages import N_, msg

logger = logging.getLogger(__name__)


def _offer_sources() -> list[str]:
    return [s.value for s in status.OFFER_MOVES[OfferStatus.EXPIRED][0]]


def _application_sources() -> list[str]:
    return [s.value for s in status.APPLICATION_MOVES[ApplicationStatus.EXPIRED]]


def _expire_orphaned_applications(session: Session,
                                  application_ids: Iterable[int] | None = None,
                                  ended: OfferStatus = OfferStatus.EXPIRED) -> int:
    """Approved applications with an offer *ended* (expired, or superseded) and no open
    one become expired."""
    expired_offer = exists(select(col(Offer.id)).where(
        and_(col(Offer.application_id) == col(Application.id),
             col(Offer.status) == ended)))
    open_offer = exists(select(col(Offer.id)).where(
        and_(col(Offer.application_id) == col(Application.id),
             col(Offer.status) == OfferStatus.OPEN)))
    stmt = (update(Application)
            .where(col(Application.status).in_(_application_sources()), expired_offer, ~open_offer)
            .values(status=ApplicationStatus.EXPIRED.value)
            .execution_options(synchronize_session="fetch"))
    if application_ids is not None:
        stmt = stmt.where(col(Application.id).in_(list(application_ids)))
    return cast(CursorResult[Any], session.execute(stmt)).rowcount or 0


def expire_offers(*, session: Session, as_of: date) -> int:
    """Mark every open offer whose validity ended before *as_of* expired (and approved
    applications left without an open offer); returns the number of offers expired."""
    offers = cast(CursorResult[Any], session.execute(
        update(Offer)
        .where(col(Offer.status).in_(_offer_sources()), col(Offer.expires_on) < as_of)
        .values(status=OfferStatus.EXPIRED.value)
        .execution_options(synchronize_session="fetch"))).rowcount or 0
    apps = _expire_orphaned_applications(session) if offers else 0
    session.flush()
    logger.info("expired %s offer(s) and %s application(s) as of %s", offers, apps, as_of)
    return offers


def expire_offer(*, session: Session, offer_id: int, as_of: date) -> Offer:
    """Expire one offer (and its application) now that its validity has ended.

    Raises :class:`~trellis.ledger.status.CannotExpire` for an offer that is not open or
    is still valid on *as_of*, :class:`~trellis.ledger.errors.OfferNotFound` otherwise.
    """
    offer = session.scalars(select(Offer).where(col(Offer.id) == offer_id).with_for_update()
                            .execution_options(populate_existing=True)).first()
    if offer is None:
        raise OfferNotFound(msg(N_("Offer %(offer_id)s does not exist."), offer_id=offer_id))
    if offer.status == OfferStatus.OPEN and as_of <= offer.expires_on:
        raise status.CannotExpire(msg(N_("Offer %(offer)s is valid until %(expires_on)s; it "
                                         "cannot expire before then."),
                                      offer=offer.id, expires_on=offer.expires_on))
    status.move_offer(offer, OfferStatus.EXPIRED)
    session.flush()
    app = session.get(Application, offer.application_id)
    if app is not None and app.status in _application_sources():
        _expire_orphaned_applications(session, [id_of(app)])
    session.flush()
    return offer


def void_first_loan_offers(*, session: Session, firm_id: int) -> list[int]:
    """Void every open offer of firm *firm_id* that promised a first loan's cooling-off,
    now that a loan of the firm has been paid out (``lifecycle.disburse`` calls this):
    each becomes ``superseded`` and its application ``expired``, which frees its
    documents. Offers of a revolving product are left open: signing one opens a line,
    and each draw's cooling-off is decided when it is drawn. Returns the ids of the
    offers voided. The caller holds the firm's lock (``claims.lock_firm``), as
    ``accept_offer`` does, so an offer is either signed first or voided, never both."""
    mine = (select(col(Application.id))
            .join(Product, col(Product.id) == col(Application.product_id))
            .where(col(Application.firm_id) == firm_id,
                   col(Product.kind) != ProductKind.REVOLVING.value))
    sources = [s.value for s in status.OFFER_MOVES[OfferStatus.SUPERSEDED][0]]
    found = session.execute(select(col(Offer.id), col(Offer.application_id)).where(
        col(Offer.status).in_(sources), col(Offer.first_loan).is_(True),
        col(Offer.application_id).in_(mine)).order_by(col(Offer.id))).all()
    if not found:
        return []
    voided = [offer_id for offer_id, _ in found]
    session.execute(update(Offer).where(col(Offer.id).in_(voided),
                                        col(Offer.status).in_(sources))
                    .values(status=OfferStatus.SUPERSEDED.value)
                    .execution_options(synchronize_session="fetch"))
    apps = {app_id for _, app_id in found}
    _expire_orphaned_applications(session, apps, ended=OfferStatus.SUPERSEDED)
    session.flush()
    logger.info("firm %s: offer(s) %s void, a loan having been paid out", firm_id, voided)
    return voided


__all__ = ["expire_offer", "expire_offers", "void_first_loan_offers"]
