"""Issue, split, transfer and settle vouchers (multi-tier digital payables).

An anchor issues a voucher against an invoice it owes and has confirmed; the invoice's
seller (tier 1) holds the whole. A holder may split a fragment into parts (which it still
holds), transfer a fragment to one of its own suppliers (tier 2, tier 3, ...), or pledge
it for receivable financing (:mod:`trellis.vouchers.financing`). At maturity the anchor
pays every live fragment's holder (:func:`settle`).

Every step appends a :class:`VoucherEvent` and commits it to the chain as a
``voucher_event`` document. Amounts are integer fen; the parts of a fragment always sum
to it (checked here with a clear message, and enforced by the database's triggers).
All functions take ``session`` as a keyword argument and only flush.
"""

from __future__ import annotations

import calendar
import logging
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from trellis import clock
from trellis.accounts.models import User
from trellis.chain import near_duplicates
from trellis.chain.commitments import enqueue
from trellis.clock import utcnow
from trellis.db import id_of, is_postgres
from trellis.ledger import claims
from trellis.messages import N_, Money, msg
from trellis.notifications.events import notify
from trellis.notifications.models import Kind
from trellis.trade.models import Firm, Invoice, Relationship
from trellis.vouchers import issuable
from trellis.vouchers.errors import (
    BadSplit,
    InApplication,
    NotASupplier,
    NotLive,
    TenorTooLong,
    VoucherNotFound,
)
from trellis.vouchers.models import (
    ABSOLUTE_MAX_TENOR_DAYS,
    ABSOLUTE_MAX_TENOR_MONTHS,
    LIVE,
    EventKind,
    FragmentStatus,
    Voucher,
    VoucherEvent,
    VoucherFragment,
    VoucherPolicy,
    VoucherStatus,
    fragment_word,
)
from trellis.vouchers.naming import part_name

logger = logging.getLogger(__name__)

MAX_PARTS = 20


# --- policy -------------------------------------------------------------------------------

def policy(*, session: Session) -> VoucherPolicy:
    """The voucher policy row (created with the defaults if the seed is missing)."""
    row = session.get(VoucherPolicy, 1)
    if row is None:
        row = VoucherPolicy(id=1)
        session.add(row)
        session.flush()
    return row


def set_max_tenor(*, session: Session, months: int, user: User | None = None) -> VoucherPolicy:
    """Set the longest voucher tenor in months (1 to 12)."""
    if not isinstance(months, int) or not 1 <= months <= ABSOLUTE_MAX_TENOR_MONTHS:
        raise TenorTooLong(msg(N_("The longest tenor must be between 1 and "
                                  "%(months)s months."),
                               months=ABSOLUTE_MAX_TENOR_MONTHS),
                               field="max_tenor_months")
    row = policy(session=session)
    row.max_tenor_months = months
    row.updated_at = utcnow()
    row.updated_by_id = user.id if user else None
    session.add(row)
    session.flush()
    return row


def add_months(day: date, months: int) -> date:
    """*day* plus *months* calendar months (the last day of a shorter month if needed)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_maturity(*, session: Session, issued_on: date) -> date:
    """The latest maturity the policy allows for a voucher issued on *issued_on*."""
    months = policy(session=session).max_tenor_months
    latest = add_months(issued_on, months)
    return min(latest, date.fromordinal(issued_on.toordinal() + ABSOLUTE_MAX_TENOR_DAYS))


# --- reading ------------------------------------------------------------------------------

def get_voucher(*, session: Session, voucher_id: int, firm_id: int | None = None) -> Voucher:
    """A voucher visible to *firm_id* (its issuer, or a firm that holds or held a part of
    it); ``firm_id=None`` for bank staff. Raises :class:`VoucherNotFound` otherwise."""
    voucher = session.get(Voucher, voucher_id)
    if voucher is None:
        raise VoucherNotFound(N_("That voucher does not exist."))
    if firm_id is not None and voucher.issuer_id != firm_id:
        involved = session.exec(select(VoucherFragment.id).where(
            VoucherFragment.voucher_id == voucher_id,
            VoucherFragment.holder_id == firm_id)).first()
        if involved is None:
            raise VoucherNotFound(N_("That voucher does not exist."))
    return voucher


def fragments(*, session: Session, voucher_id: int) -> list[VoucherFragment]:
    """Every part of voucher *voucher_id*, oldest first (the root part first)."""
    return list(session.exec(select(VoucherFragment).where(
        col(VoucherFragment.voucher_id) == voucher_id).order_by(col(VoucherFragment.id))))


def live_total(*, session: Session, voucher_id: int) -> int:
    """The sum of the voucher's live (held or financed) fragments, in fen."""
    return int(session.exec(select(func.coalesce(func.sum(VoucherFragment.amount_fen), 0))
                            .where(VoucherFragment.voucher_id == voucher_id,
                                   col(VoucherFragment.status).in_(list(LIVE)))).one())


def holdings(*, session: Session, firm_id: int) -> list[tuple[VoucherFragment, Voucher]]:
    """The live fragments *firm_id* holds, with their vouchers, soonest maturity first."""
    rows = session.exec(select(VoucherFragment, Voucher)
                        .join(Voucher, col(Voucher.id) == col(VoucherFragment.voucher_id))
                        .where(VoucherFragment.holder_id == firm_id,
                               col(VoucherFragment.status).in_(list(LIVE)))
                        .order_by(col(Voucher.maturity_date), col(VoucherFragment.id))).all()
    return [(f, v) for f, v in rows]


def issued_by(*, session: Session, anchor_id: int) -> list[Voucher]:
    """The vouchers anchor *anchor_id* issued, latest maturity first."""
    return list(session.exec(select(Voucher).where(Voucher.issuer_id == anchor_id)
                             .order_by(col(Voucher.maturity_date).desc(), col(Voucher.id).desc())))


def events(*, session: Session, voucher_id: int) -> list[VoucherEvent]:
    """The voucher's events (issue, split, transfer, pledge, settle...) in
    the order they happened."""
    return list(session.exec(select(VoucherEvent).where(VoucherEvent.voucher_id == voucher_id)
                             .order_by(col(VoucherEvent.id))))


def held_fragment(*, session: Session, fragment_id: int, holder_id: int,
                  lock: bool = True) -> VoucherFragment:
    """The live fragment *fragment_id* of *holder_id* (row-locked on PostgreSQL).

    Raises :class:`VoucherNotFound` when it is not the holder's (another firm's id reads
    as missing) and :class:`NotLive` when it was already used.
    """
    query = select(VoucherFragment).where(VoucherFragment.id == fragment_id)
    if lock and is_postgres(session):
        # populate_existing: a part read earlier in this transaction (a page's lookup)
        # must not hide what the transaction we waited for did to it
        query = query.with_for_update().execution_options(populate_existing=True)
    fragment = session.exec(query).first()
    if fragment is None or fragment.holder_id != holder_id:
        raise VoucherNotFound(N_("That voucher part does not exist or is not yours."))
    if fragment.status == FragmentStatus.TRANSFERRED:
        # e.g. a second tab passing on what the first already passed: say to whom
        child = session.exec(select(VoucherFragment).where(
            VoucherFragment.parent_id == fragment.id)).first()
        to = session.get(Firm, child.holder_id) if child is not None else None
        raise NotLive(msg(N_("This voucher part (%(amount)s) was already passed on to "
                             "%(firm)s; nothing was changed. Reload the page to see what "
                             "you hold now."),
                          amount=Money(fragment.amount_fen),
                          firm=to.name if to is not None else msg(N_("another firm"))))
    if fragment.status != FragmentStatus.HELD:
        raise NotLive(msg(N_("This voucher part is already %(status)s; reload the page."),
                          status=fragment_word(fragment.status)))
    return fragment


# --- events and the chain -----------------------------------------------------------------

def _uscc(session: Session, firm_id: int) -> str:
    return session.get_one(Firm, firm_id).uscc


def _record(session: Session, voucher: Voucher, kind: EventKind, fragment: VoucherFragment,
            user: User | None, **detail) -> VoucherEvent:
    event = VoucherEvent(voucher_id=id_of(voucher), kind=kind, fragment_id=id_of(fragment),
                         detail=detail, actor_id=user.id if user else None)
    session.add(event)
    session.flush()
    payload = {"event": str(kind), "voucher": voucher.code,
               "issuer_uscc": _uscc(session, voucher.issuer_id),
               "maturity_date": voucher.maturity_date, "fragment_id": fragment.id,
               "holder_uscc": _uscc(session, fragment.holder_id),
               "amount_fen": fragment.amount_fen, "at": event.at, **detail}
    doc = enqueue(session=session, doc_type="voucher_event", doc_id=str(event.id),
                  payload=payload)
    event.document_id = doc.id
    session.add(event)
    session.flush()
    return event


def _part(fragment: VoucherFragment, session: Session) -> dict:
    return {"fragment_id": fragment.id, "holder_uscc": _uscc(session, fragment.holder_id),
            "amount_fen": fragment.amount_fen}


# --- issue --------------------------------------------------------------------------------

def issue(*, session: Session, anchor_id: int, invoice_id: int, maturity_date: date | None,
          issued_on: date | None = None, user: User | None = None) -> Voucher:
    """Issue the confirmed payable *invoice_id* (owed by *anchor_id*) as a voucher.

    *maturity_date* None: the invoice's own due date (the day the buyer owes it anyway),
    never silently the longest tenor allowed.

    The face value is what is still unpaid on the invoice; the seller holds it all.
    The invoice must meet :mod:`trellis.vouchers.issuable`'s rule (the one the issue list
    is drawn by); each failed condition raises its error: :class:`VoucherNotFound` (not
    the anchor's invoice), :class:`NotConfirmed`, :class:`AlreadyIssued` (issued or paid),
    :class:`TenorTooLong` (overdue, or a maturity out of bounds), :class:`AlreadyFinanced`.
    """
    issued_on = issued_on or clock.today()
    invoice = session.get(Invoice, invoice_id)
    if invoice is not None and invoice.buyer_id == anchor_id:
        # The seller's row is the lock every claim on its documents takes (ledger.claims):
        # an offer on this invoice accepted at this moment queues behind the issue, or
        # before it.
        claims.lock_firm(session, invoice.seller_id)
    # the rule the anchor's issue list is drawn by (vouchers.issuable), checked here
    invoice = issuable.refuse_unless_issuable(session=session, invoice_id=invoice_id,
                                              anchor_id=anchor_id, as_of=issued_on)
    # the order this invoice came from is asked for in an application: it is repaid from
    # this invoice, which cannot then be paid to a voucher's holders instead
    claims.refuse_if_trade_claimed(session, firm_id=invoice.seller_id,
                                   invoice_ids=[invoice_id], as_of=issued_on)
    face = invoice.amount_fen - (invoice.paid_fen or 0)
    if maturity_date is None:
        maturity_date = invoice.due_date   # after the issue day (issuable's rule)
    if not isinstance(maturity_date, date) or maturity_date <= issued_on:
        raise TenorTooLong(N_("The maturity date must be after the issue date."),
                           field="maturity_date")
    latest = latest_maturity(session=session, issued_on=issued_on)
    if maturity_date > latest:
        months = policy(session=session).max_tenor_months
        raise TenorTooLong(msg(N_("A voucher may run at most %(months)s months: choose a "
                                  "maturity on or before %(latest)s."),
                               months=months, latest=latest), field="maturity_date")
    voucher = Voucher(code=f"V{issued_on:%y%m%d}{invoice.id:07d}", issuer_id=anchor_id,
                      invoice_id=id_of(invoice), face_fen=face, issued_on=issued_on,
                      tenor_days=(maturity_date - issued_on).days, maturity_date=maturity_date,
                      created_by_id=user.id if user else None)
    session.add(voucher)
    session.flush()
    root = VoucherFragment(voucher_id=id_of(voucher), holder_id=invoice.seller_id, amount_fen=face)
    session.add(root)
    session.flush()
    # its print, for an order not linked to it that matches it (chain.near_duplicates)
    near_duplicates.record(session=session, invoice_ids=[id_of(invoice)])
    _record(session, voucher, EventKind.ISSUE, root, user, invoice_number=invoice.number,
            seller_uscc=_uscc(session, invoice.seller_id))
    logger.info("voucher %s issued: %s fen, matures %s", voucher.code, face, maturity_date)
    return voucher


# --- split and transfer -------------------------------------------------------------------

def _live_voucher(session: Session, fragment: VoucherFragment, as_of: date) -> Voucher:
    voucher = session.get_one(Voucher, fragment.voucher_id)
    if voucher.status != VoucherStatus.ACTIVE or as_of >= voucher.maturity_date:
        raise NotLive(msg(N_("Voucher %(code)s has matured; it can only be settled now."),
                          code=voucher.code))
    return voucher


def _refuse_if_asked_for(session: Session, fragment: VoucherFragment, as_of: date) -> None:
    """A part a live application asks for stays whole and with its holder until that
    application is decided or its offer lapses: split or passed on, the application
    would ask for a part that no longer exists, and the pieces could be asked for again
    (the same money twice). Takes the holder's claims lock, as filing does."""
    claims.lock_firm(session, fragment.holder_id)
    found = claims.live_applications(session, firm_id=fragment.holder_id,
                                     fragment_ids=[id_of(fragment)], as_of=as_of)
    if found:
        raise InApplication(msg(
            N_("%(part)s is in application %(application)s: it cannot be split or passed "
               "on until that application is decided or its offer lapses."),
            part=part_name(session, id_of(fragment), detail=False), application=found[0][1].id))


def split(*, session: Session, holder_id: int, fragment_id: int, amounts: list[int],
          user: User | None = None, as_of: date | None = None) -> list[VoucherFragment]:
    """Split a held fragment into parts (still held by *holder_id*) summing to it exactly.

    *amounts* are positive integer fen, at least 2 and at most :data:`MAX_PARTS`.
    """
    as_of = as_of or clock.today()
    fragment = held_fragment(session=session, fragment_id=fragment_id, holder_id=holder_id)
    voucher = _live_voucher(session, fragment, as_of)
    _refuse_if_asked_for(session, fragment, as_of)
    if not 2 <= len(amounts) <= MAX_PARTS:
        raise BadSplit(N_("Split into 2 to %(n)s parts."), params={"n": MAX_PARTS},
                       field="amounts")
    if any(isinstance(a, bool) or not isinstance(a, int) or a <= 0 for a in amounts):
        raise BadSplit(N_("Every part must be a positive amount."), field="amounts")
    if sum(amounts) != fragment.amount_fen:
        raise BadSplit(N_("The parts add up to %(total)s but the voucher part is %(part)s: "
                          "they must be equal."),
                       params={"total": Money(sum(amounts)), "part": Money(fragment.amount_fen)},
                       field="amounts")
    parts = [VoucherFragment(voucher_id=id_of(voucher), parent_id=fragment.id,
                             holder_id=holder_id, amount_fen=a) for a in amounts]
    for part in parts:
        session.add(part)
        session.flush()  # one at a time: the database checks each against the parent
    fragment.status = FragmentStatus.SPLIT
    fragment.closed_at = utcnow()
    session.add(fragment)
    session.flush()
    _record(session, voucher, EventKind.SPLIT, fragment, user,
            parts=[_part(p, session) for p in parts])
    return parts


def is_supplier(*, session: Session, supplier_id: int, buyer_id: int) -> bool:
    """Whether *supplier_id* is a recorded supplier of *buyer_id*."""
    return session.exec(select(Relationship.id).where(
        Relationship.supplier_id == supplier_id, Relationship.buyer_id == buyer_id)
    ).first() is not None


def suppliers_of(*, session: Session, firm_id: int) -> list[Firm]:
    """The recorded suppliers of firm *firm_id*, by name."""
    return list(session.exec(select(Firm).join(Relationship,
                                               col(Relationship.supplier_id) == col(Firm.id))
                             .where(Relationship.buyer_id == firm_id).order_by(Firm.name)))


def transfer(*, session: Session, holder_id: int, fragment_id: int, to_firm_id: int,
             user: User | None = None, as_of: date | None = None) -> VoucherFragment:
    """Transfer a whole held fragment to *to_firm_id*, one of the holder's suppliers."""
    as_of = as_of or clock.today()
    fragment = held_fragment(session=session, fragment_id=fragment_id, holder_id=holder_id)
    voucher = _live_voucher(session, fragment, as_of)
    _refuse_if_asked_for(session, fragment, as_of)
    target = session.get(Firm, to_firm_id) if isinstance(to_firm_id, int) else None
    if target is None or to_firm_id == holder_id or not is_supplier(
            session=session, supplier_id=to_firm_id, buyer_id=holder_id):
        raise NotASupplier(N_("Choose one of your own suppliers to transfer to."),
                           field="to_firm_id")
    child = VoucherFragment(voucher_id=id_of(voucher), parent_id=fragment.id,
                            holder_id=to_firm_id, amount_fen=fragment.amount_fen)
    session.add(child)
    session.flush()
    fragment.status = FragmentStatus.TRANSFERRED
    fragment.closed_at = utcnow()
    session.add(fragment)
    session.flush()
    _record(session, voucher, EventKind.TRANSFER, fragment, user,
            to=_part(child, session))
    return child


def pay_supplier(*, session: Session, holder_id: int, fragment_id: int, to_firm_id: int,
                 amount_fen: int, user: User | None = None,
                 as_of: date | None = None) -> tuple[VoucherFragment, VoucherFragment | None]:
    """Pass *amount_fen* of a held fragment to a supplier: the whole fragment, or a split
    into (amount, rest) and the first part transferred. Returns (the supplier's fragment,
    the rest the holder keeps or None)."""
    fragment = held_fragment(session=session, fragment_id=fragment_id, holder_id=holder_id)
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise BadSplit(N_("Enter a positive amount."), field="amount")
    if amount_fen > fragment.amount_fen:
        raise BadSplit(N_("You cannot pass on more than the voucher part is worth."),
                       field="amount")
    target = session.get(Firm, to_firm_id) if isinstance(to_firm_id, int) else None
    if target is None or not is_supplier(session=session, supplier_id=to_firm_id,
                                         buyer_id=holder_id):
        raise NotASupplier(N_("Choose one of your own suppliers to transfer to."),
                           field="to_firm_id")
    keep: VoucherFragment | None = None
    if amount_fen == fragment.amount_fen:
        given = transfer(session=session, holder_id=holder_id, fragment_id=fragment_id,
                         to_firm_id=to_firm_id, user=user, as_of=as_of)
    else:
        give, keep = split(session=session, holder_id=holder_id, fragment_id=fragment_id,
                           amounts=[amount_fen, fragment.amount_fen - amount_fen], user=user,
                           as_of=as_of)
        given = transfer(session=session, holder_id=holder_id, fragment_id=id_of(give),
                         to_firm_id=to_firm_id, user=user, as_of=as_of)
    _tell_both(session, given, holder_id)
    return given, keep


def _tell_both(session: Session, given: VoucherFragment, sender_id: int) -> None:
    """A message to the firm that received a part (who, how much, which voucher, when it
    is paid) and a record for the firm that passed it."""
    voucher = session.get_one(Voucher, given.voucher_id)
    sender = session.get_one(Firm, sender_id)
    receiver = session.get_one(Firm, given.holder_id)
    issuer = session.get_one(Firm, voucher.issuer_id)
    link = f"/vendor/vouchers/{voucher.id}"
    notify(session, firm_id=given.holder_id, kind=Kind.VOUCHER,
           key=f"voucher-part:{id_of(given)}:received",
           message=msg(N_("%(sender)s passed you %(amount)s of voucher %(code)s (issued by "
                          "%(issuer)s); %(issuer)s pays its holder on %(day)s. You can keep "
                          "it, pass it on to your own suppliers or finance it."),
                       sender=sender.name, amount=Money(given.amount_fen), code=voucher.code,
                       issuer=issuer.name, day=voucher.maturity_date), link=link)
    notify(session, firm_id=sender_id, kind=Kind.VOUCHER,
           key=f"voucher-part:{id_of(given)}:passed",
           message=msg(N_("You passed %(amount)s of voucher %(code)s to %(receiver)s."),
                       amount=Money(given.amount_fen), code=voucher.code,
                       receiver=receiver.name), link=link)


def record_event(*, session: Session, voucher: Voucher, kind: EventKind,
                 fragment: VoucherFragment, user: User | None = None, **detail) -> VoucherEvent:
    """Append an event and commit it to the chain (for :mod:`financing` and settlement)."""
    return _record(session, voucher, kind, fragment, user, **detail)

