"""One live claim on a document: an invoice, an order or a voucher part is asked for by at
most one open application, and financed by at most one open loan.

Two browser tabs once filed two applications on one voucher part, an RM approved both and
two offers stood open on it; two acceptances of offers on one invoice made at the same
moment both became loans, and both were paid out (the chain registry takes a fingerprint
this database already recorded for the same invoice as its own). The rule now lives here
and is checked, under a lock, at every step that moves money closer:

* filing (:func:`refuse_if_claimed` from ``origination.apply``): no other live application
  (submitted, in review, approved with an offer still open) and no open loan on any of the
  documents;
* an RM's approval: the same, against applications filed *earlier* (the first filed wins;
  the later one is to be declined);
* accepting an offer: no open loan on the documents (``origination.accept_offer``);
* paying out (:func:`refuse_if_paid_out_elsewhere` from ``lifecycle.disburse``): no other
  loan on the documents already paid out and open.

The lock is the applicant firm's row (``SELECT ... FOR UPDATE``, the lock
``origination.first_loan`` takes as well): every document financed belongs to the
applicant (the invoice's or order's seller, the part's holder), so two claims on one
document always queue on one row. On SQLite every writing transaction begins IMMEDIATE
(``trellis.db``), which serialises them the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from trellis.chain import registry as chain_registry
from trellis.db import id_of
from trellis.ledger import status
from trellis.ledger.errors import IneligibleDocument
from trellis.ledger.financed import parts as financed_parts
from trellis.ledger.models import (
    Application,
    ApplicationStatus,
    Loan,
    LoanDocument,
    LoanFragment,
    LoanStatus,
    Offer,
    OfferStatus,
)
from trellis.messages import N_, Message, msg
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder

#: applications that still claim their documents (an approved one while its offer is open)
LIVE_APPLICATIONS = (ApplicationStatus.SUBMITTED, ApplicationStatus.REVIEW,
                     ApplicationStatus.SECOND_APPROVAL, ApplicationStatus.APPROVED)


class DocumentClaimed(IneligibleDocument):
    """Raised when a document asked for is already claimed by another live application,
    or financed by another loan that was paid out."""

    code = "document_claimed"


def lock_firm(session: Session, firm_id: int) -> None:
    """Lock the applicant firm's row for this transaction (PostgreSQL; SQLite writers are
    serialised already): claims on the firm's documents are checked one after another."""
    session.execute(select(col(Firm.id)).where(col(Firm.id) == firm_id).with_for_update())


def name(session: Session, kind: str, ident: int) -> Message:
    """A document as people name it: an invoice or an order by its number, a voucher
    part by its voucher, holder and amount (the parts' owner words it)."""
    if kind == "invoice":
        inv = session.get(Invoice, ident)
        return msg(N_("invoice %(number)s"), number=inv.number if inv else ident)
    if kind == "order":
        order = session.get(PurchaseOrder, ident)
        return msg(N_("order %(number)s"), number=order.number if order else ident)
    return financed_parts().name(session, ident)


def _wanted(invoice_ids: Sequence[int], order_ids: Sequence[int],
            fragment_ids: Sequence[int]) -> set[tuple[str, int]]:
    return ({("invoice", i) for i in invoice_ids} | {("order", i) for i in order_ids}
            | {("voucher part", i) for i in fragment_ids})


def _documents_of(app: Application) -> set[tuple[str, int]]:
    return _wanted(app.invoice_ids or (), app.order_ids or (), app.fragment_ids or ())


def live_applications(session: Session, *, firm_id: int, invoice_ids: Sequence[int] = (),
                      order_ids: Sequence[int] = (), fragment_ids: Sequence[int] = (),
                      without: int | None = None, before: int | None = None,
                      as_of: date) -> list[tuple[tuple[str, int], Application]]:
    """The firm's live applications (other than *without*; only those filed before
    application *before* when given) asking for any of these documents, with the first
    document each shares, oldest application first. An approved application counts
    while its offer is open and not past its validity on *as_of*."""
    wanted = _wanted(invoice_ids, order_ids, fragment_ids)
    if not wanted:
        return []
    return [(sorted(_documents_of(app) & wanted)[0], app)
            for app in _live(session, firm_id=firm_id, without=without, before=before,
                             as_of=as_of, wanted=wanted)]


def _live(session: Session, *, firm_id: int, without: int | None = None,
          before: int | None = None, as_of: date,
          wanted: set[tuple[str, int]] | None = None) -> list[Application]:
    """The firm's live applications (see :func:`live_applications`), oldest first; only
    those asking for one of *wanted* when given (their offers are then the only ones
    read)."""
    query = select(Application).where(
        col(Application.firm_id) == firm_id,
        col(Application.status).in_([s.value for s in LIVE_APPLICATIONS]))
    if without is not None:
        query = query.where(col(Application.id) != without)
    if before is not None:
        query = query.where(col(Application.id) < before)
    live = [app for app in session.scalars(query.order_by(col(Application.id)))
            if wanted is None or _documents_of(app) & wanted]
    approved = [app.id for app in live if app.status == ApplicationStatus.APPROVED]
    standing = _open_offers(session, approved, as_of) if approved else set()
    return [app for app in live
            if app.status != ApplicationStatus.APPROVED or app.id in standing]


def _open_offers(session: Session, application_ids: list[int | None], as_of: date
                 ) -> set[int]:
    """Those of *application_ids* whose latest offer is open and not past its validity
    on *as_of* (one statement, however many applications)."""
    latest = (select(func.max(col(Offer.id))).where(col(Offer.application_id)
                                                    .in_(application_ids))
              .group_by(col(Offer.application_id)))
    return set(session.scalars(select(col(Offer.application_id)).where(
        col(Offer.id).in_(latest), col(Offer.status) == OfferStatus.OPEN.value,
        col(Offer.expires_on) >= as_of)))


def claimed_documents(session: Session, *, firm_id: int, as_of: date
                      ) -> dict[tuple[str, int], Application]:
    """Every document of the firm a live application asks for (``("invoice", id)``,
    ``("order", id)``, ``("voucher part", id)``) -> the oldest such application: what
    :func:`refuse_if_claimed` would refuse in a new application, for a page to mark."""
    out: dict[tuple[str, int], Application] = {}
    for app in _live(session, firm_id=firm_id, as_of=as_of):
        for doc in _documents_of(app):
            out.setdefault(doc, app)
    return out


@dataclass(frozen=True)
class Rival:
    """Another claim on one of an application's documents: a live application
    (``kind`` ``"application"``) or an open loan (``"loan"``), by id, with the document
    they share named as people read it and the claim's status as words."""

    kind: str
    id: int
    document: Message
    status: Message


#: loans that still hold their documents: not yet paid out, or paid out and not closed
OPEN_LOANS = (LoanStatus.PENDING.value, LoanStatus.ACTIVE.value, LoanStatus.OVERDUE.value)


def rivals(session: Session, app: Application, *, as_of: date) -> list[Rival]:
    """The other live applications and the open loans on any of *app*'s documents (one
    document, one live application, one open loan: what an RM deciding *app* must see),
    applications first, oldest first."""
    mine = _documents_of(app)
    if not mine:
        return []
    out = [Rival("application", id_of(other),
                 name(session, *sorted(_documents_of(other) & mine)[0]),
                 msg(status.APPLICATION_WORDS[ApplicationStatus(other.status)]))
           for other in _live(session, firm_id=app.firm_id, without=app.id, as_of=as_of)
           if _documents_of(other) & mine]
    seen: set[int] = set()
    for model, column, label, ids in (
            (LoanDocument, col(LoanDocument.invoice_id), "invoice", app.invoice_ids),
            (LoanDocument, col(LoanDocument.order_id), "order", app.order_ids),
            (LoanFragment, col(LoanFragment.fragment_id), "voucher part", app.fragment_ids)):
        if not ids:
            continue
        rows = session.execute(
            select(column, col(Loan.id), col(Loan.status))
            .join(Loan, col(Loan.id) == model.loan_id)
            .where(column.in_(list(ids)), col(Loan.status).in_(OPEN_LOANS),
                   col(Loan.application_id).is_distinct_from(app.id))
            .order_by(col(Loan.id))).all()
        for ident, loan_id, loan_status in rows:
            if loan_id not in seen:
                seen.add(loan_id)
                out.append(Rival("loan", loan_id, name(session, label, ident),
                                 msg(status.LABELS[LoanStatus(loan_status)])))
    return out


def refuse_if_claimed(session: Session, *, firm_id: int, invoice_ids: Sequence[int] = (),
                      order_ids: Sequence[int] = (), fragment_ids: Sequence[int] = (),
                      without: int | None = None, before: int | None = None,
                      as_of: date) -> None:
    """Raise :class:`DocumentClaimed` naming the document and the open application when
    another live application claims one of the documents (see
    :func:`live_applications`). The caller holds :func:`lock_firm`."""
    found = live_applications(session, firm_id=firm_id, invoice_ids=invoice_ids,
                              order_ids=order_ids, fragment_ids=fragment_ids,
                              without=without, before=before, as_of=as_of)
    if not found:
        return
    (kind, ident), app = found[0]
    raise DocumentClaimed(msg(
        N_("%(document)s is already in application %(application)s (%(status)s): one "
           "document, one application. Wait until that application is decided or its "
           "offer lapses, or ask your relationship manager to decline it."),
        document=name(session, kind, ident), application=app.id,
        status=msg(status.APPLICATION_WORDS[ApplicationStatus(app.status)])),
        field="fragment_ids" if kind == "voucher part" else
        "invoice_ids" if kind == "invoice" else "order_ids")


def refuse_if_paid_out_elsewhere(session: Session, loan: Loan) -> None:
    """Raise :class:`DocumentClaimed` when another loan on one of *loan*'s documents was
    paid out and is still open (the payout's re-check; the caller holds
    :func:`lock_firm` for the loan's firm)."""
    paid_out = [LoanStatus.ACTIVE.value, LoanStatus.OVERDUE.value]
    for model, column, label in (
            (LoanDocument, col(LoanDocument.invoice_id), "invoice"),
            (LoanDocument, col(LoanDocument.order_id), "order"),
            (LoanFragment, col(LoanFragment.fragment_id), "voucher part")):
        mine = select(column).where(col(model.loan_id) == loan.id, column.is_not(None))
        row = session.execute(
            select(column, col(Loan.id)).join(Loan, col(Loan.id) == model.loan_id)
            .where(column.in_(mine), col(Loan.id) != loan.id,
                   col(Loan.status).in_(paid_out))
            .order_by(column)).first()
        if row is not None:
            raise DocumentClaimed(msg(
                N_("%(document)s is already financed by loan %(other)s, which was paid "
                   "out; loan %(loan)s is not paid out."),
                document=name(session, label, row[0]), other=row[1], loan=loan.id))


# --- one trade: an order and the invoice it became -----------------------------------------
#
# Order financing is repaid from the invoice the order becomes (DOMAIN.md), and an invoice
# issued as a voucher is paid to the voucher's holders. So an order and each invoice
# linked to it (``Invoice.order_id``) are one trade, and one trade backs one claim: an
# order whose invoice is financed, asked for, or issued as a voucher cannot be financed,
# nor an invoice (or its voucher) whose order is. A loan or application on one of them
# claims the other as well. An order and an invoice that are *not* linked are left to the
# coarse near-duplicate screen (:mod:`trellis.chain.near_duplicates`), which refers them.
#
# A claim holds the trade until it is settled. A loan repaid in full (or cooled off) or
# cancelled before payout, an application decided or lapsed, no longer does: the invoice
# of an order whose loan was repaid can be financed. A loan written off still does: a
# write-off is the bank's accounting, the debt stands, and the invoice is what repays it.

#: what a claim on the other document of a trade is (see :func:`trade_claims`)
TRADE_HOW = ("voucher", "loan", "application")

#: loans that hold the other document of their trade: not yet settled
_OPEN_LOANS = (LoanStatus.PENDING.value, LoanStatus.ACTIVE.value, LoanStatus.OVERDUE.value,
               LoanStatus.WRITTEN_OFF.value)


def trade_partners(session: Session, *, invoice_ids: Sequence[int] = (),
                   order_ids: Sequence[int] = ()) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """(asked document, the other document of its trade) for each invoice asked for that
    an order became, and each order asked for that became an invoice."""
    out: list[tuple[tuple[str, int], tuple[str, int]]] = []
    if order_ids:
        for inv_id, order_id in session.execute(
                select(col(Invoice.id), col(Invoice.order_id))
                .where(col(Invoice.order_id).in_(list(order_ids))).order_by(col(Invoice.id))):
            out.append((("order", order_id), ("invoice", inv_id)))
    if invoice_ids:
        for inv_id, order_id in session.execute(
                select(col(Invoice.id), col(Invoice.order_id))
                .where(col(Invoice.id).in_(list(invoice_ids)),
                       col(Invoice.order_id).is_not(None)).order_by(col(Invoice.id))):
            out.append((("invoice", inv_id), ("order", order_id)))
    return out


def trade_claims(session: Session, *, firm_id: int, invoice_ids: Sequence[int] = (),
                 order_ids: Sequence[int] = (), before: int | None = None,
                 without: int | None = None, as_of: date
                 ) -> list[tuple[tuple[str, int], tuple[str, int], str, object]]:
    """Claims on the other document of each asked document's trade, as (asked, other,
    how, what): *how* is ``voucher`` (the invoice was issued as a voucher; *what* is
    None), ``loan`` (a loan not yet settled finances it: pending, paid out and owed, or
    written off; *what* is the loan id; a repaid or cancelled loan is not a claim) or
    ``application`` (a live application asks for it, see :func:`live_applications`;
    *what* is the application). *before*/*without* as for :func:`live_applications`."""
    pairs = trade_partners(session, invoice_ids=invoice_ids, order_ids=order_ids)
    if not pairs:
        return []
    others = {other for _, other in pairs}
    other_invoices = sorted(i for k, i in others if k == "invoice")
    other_orders = sorted(i for k, i in others if k == "order")
    found: dict[tuple[str, int], tuple[str, object]] = {}
    for ident in sorted(financed_parts().covered_invoices(session, other_invoices)):
        found[("invoice", ident)] = ("voucher", None)
    for column, kind, ids in ((col(LoanDocument.invoice_id), "invoice", other_invoices),
                              (col(LoanDocument.order_id), "order", other_orders)):
        if not ids:
            continue
        for ident, loan_id in session.execute(
                select(column, col(Loan.id)).join(Loan, col(Loan.id) == LoanDocument.loan_id)
                .where(column.in_(ids), col(Loan.status).in_(list(_OPEN_LOANS)))
                .order_by(col(Loan.id))):
            found.setdefault((kind, ident), ("loan", loan_id))
    for (kind, ident), app in live_applications(
            session, firm_id=firm_id, invoice_ids=other_invoices, order_ids=other_orders,
            without=without, before=before, as_of=as_of):
        found.setdefault((kind, ident), ("application", app))
    # an application asking for both documents of one trade claims them once, not twice
    return [(asked, other, *found[other]) for asked, other in pairs
            if other in found and not (found[other][0] == "application"
                                       and _asks(found[other][1], asked))]


def _asks(app: object, document: tuple[str, int]) -> bool:
    return isinstance(app, Application) and document in _documents_of(app)


def trade_message(session: Session, asked: tuple[str, int], other: tuple[str, int],
                  how: str, what: object) -> Message:
    """Why *asked* cannot be financed, naming the other document of its trade."""
    doc, partner = name(session, *asked), name(session, *other)
    if how == "voucher":
        return msg(N_("%(document)s: the invoice it became, %(other)s, was issued as a "
                      "digital payable voucher; the order is repaid from that invoice, so it "
                      "cannot be financed as well."), document=doc, other=partner)
    if how == "loan":
        template = (N_("%(document)s: the invoice it became, %(other)s, is already financed "
                       "by loan %(loan)s; one trade is financed once.")
                    if asked[0] == "order" else
                    N_("%(document)s: the order it came from, %(other)s, is already financed "
                       "by loan %(loan)s and is repaid from this invoice; one trade is "
                       "financed once."))
        return msg(template, document=doc, other=partner, loan=what)
    app = what if isinstance(what, Application) else None
    template = (N_("%(document)s: the invoice it became, %(other)s, is already in "
                   "application %(application)s; one trade is financed once.")
                if asked[0] == "order" else
                N_("%(document)s: the order it came from, %(other)s, is already in "
                   "application %(application)s; one trade is financed once."))
    return msg(template, document=doc, other=partner, application=app.id if app else "")


def refuse_if_trade_claimed(session: Session, *, firm_id: int, invoice_ids: Sequence[int] = (),
                            order_ids: Sequence[int] = (), before: int | None = None,
                            without: int | None = None, as_of: date) -> None:
    """Raise :class:`DocumentClaimed` when the other document of an asked document's trade
    is issued as a voucher, financed by a loan not yet settled or asked for by a live
    application (:func:`trade_claims`); a repaid loan no longer holds the trade. The
    caller holds :func:`lock_firm` (an order and its invoice have one seller, so one
    lock)."""
    found = trade_claims(session, firm_id=firm_id, invoice_ids=invoice_ids,
                         order_ids=order_ids, before=before, without=without, as_of=as_of)
    if found:
        asked, other, how, what = found[0]
        raise DocumentClaimed(trade_message(session, asked, other, how, what),
                              field="order_ids" if asked[0] == "order" else "invoice_ids")


#: a short mark for a list: the other document of the trade is ...
TRADE_MARKS = {
    ("order", "voucher"): N_("Its invoice was turned into a voucher"),
    ("order", "loan"): N_("Its invoice is financed"),
    ("order", "application"): N_("Its invoice is in an application"),
    ("invoice", "loan"): N_("Its order is financed"),
    ("invoice", "application"): N_("Its order is in an application"),
}


def trade_marks(session: Session, *, firm_id: int, invoice_ids: Sequence[int] = (),
                order_ids: Sequence[int] = (), as_of: date) -> dict[tuple[str, int], Message]:
    """For a list: each listed document whose trade is claimed through its other
    document, with a short mark ("its invoice was turned into a voucher") saying why it
    cannot be financed (the first claim found)."""
    out: dict[tuple[str, int], Message] = {}
    for asked, _other, how, _what in trade_claims(session, firm_id=firm_id,
                                                 invoice_ids=invoice_ids,
                                                 order_ids=order_ids, as_of=as_of):
        template = TRADE_MARKS.get((asked[0], how))
        if template and asked not in out:
            out[asked] = msg(template)
    return out


# --- a document registered once is never financed again ----------------------------------
#
# Before a loan is paid out its invoices and orders are registered in the double-financing
# registry (trellis.chain.registry), under a claim naming that loan. The registry keeps a
# registration for ever: the contract has no release, and other financiers rely on the
# first registration winning. So an invoice whose loan was repaid (in the cooling-off
# period, say) is still held by that loan's claim, and a second loan on it would be
# refused at pay-out, after the vendor had signed. It is refused here instead, before an
# application is filed, approved or signed, naming the platform's own earlier loan.

def earlier_loan(session: Session, kind: str, ident: int, *,
                 without: int | None = None) -> int | None:
    """The latest loan of this platform on invoice or order *ident* (*kind* ``"invoice"``
    or ``"order"``) that was paid out, other than *without*; None if there is none."""
    column = col(LoanDocument.invoice_id) if kind == "invoice" else col(LoanDocument.order_id)
    query = (select(col(Loan.id)).join(LoanDocument, col(LoanDocument.loan_id) == col(Loan.id))
             .where(column == ident, col(Loan.disbursed_on).is_not(None)))
    if without is not None:
        query = query.where(col(Loan.id) != without)
    return session.scalars(query.order_by(col(Loan.id).desc())).first()


def registered_documents(session: Session, *, invoice_ids: Sequence[int] = (),
                         order_ids: Sequence[int] = (), without: int | None = None
                         ) -> list[tuple[tuple[str, int], int | None]]:
    """Those of these invoices and orders this platform already registered for financing
    (``trellis.chain.registry.registered``), each with its earlier paid-out loan (other
    than *without*; None when the loan is not found), in document order."""
    found = chain_registry.registered(session, invoice_ids=invoice_ids, order_ids=order_ids)
    return [(doc, earlier_loan(session, *doc, without=without)) for doc in sorted(found)]


def registered_message(session: Session, document: tuple[str, int],
                       loan_id: int | None) -> Message:
    """Why *document* cannot be financed again: this platform's own earlier financing
    holds it in the registry (not another financier)."""
    if loan_id is None:
        return msg(N_("%(document)s was financed on this platform before and is recorded in "
                      "the double-financing registry, which holds each document once, also "
                      "after the loan is repaid: it cannot be financed again."),
                   document=name(session, *document))
    return msg(N_("%(document)s was financed on this platform before, by loan %(loan)s, and "
                  "is recorded in the double-financing registry, which holds each document "
                  "once, also after the loan is repaid: it cannot be financed again."),
               document=name(session, *document), loan=loan_id)


def refuse_if_registered(session: Session, *, invoice_ids: Sequence[int] = (),
                         order_ids: Sequence[int] = ()) -> None:
    """Raise :class:`DocumentClaimed` (:func:`registered_message`) when one of these
    invoices or orders is already registered for financing by this platform."""
    found = registered_documents(session, invoice_ids=invoice_ids, order_ids=order_ids)
    if found:
        document, loan_id = found[0]
        raise DocumentClaimed(registered_message(session, document, loan_id),
                              field="invoice_ids" if document[0] == "invoice" else "order_ids")


# --- an order that has become an invoice is financed as the invoice -----------------------
#
# Order financing bridges the time between a confirmed order and its invoice, and is repaid
# from that invoice (DOMAIN.md). Once the invoice is issued (and not rejected by the buyer)
# the invoice is the thing to finance, as a receivable; an order whose invoice the buyer has
# even paid leaves nothing to repay an order loan from.

def invoiced_order_ids() -> Any:
    """A select of the ids of orders that an invoice not rejected by the buyer was issued
    from, for a list to leave out."""
    return select(col(Invoice.order_id)).where(col(Invoice.order_id).is_not(None),
                                               col(Invoice.status) != DocStatus.REJECTED.value)


def invoices_of_orders(session: Session, order_ids: Sequence[int]
                       ) -> dict[int, Invoice]:
    """Order id -> the first invoice (not rejected) issued from it, for these orders."""
    if not order_ids:
        return {}
    out: dict[int, Invoice] = {}
    for inv in session.scalars(select(Invoice).where(
            col(Invoice.order_id).in_(list(order_ids)),
            col(Invoice.status) != DocStatus.REJECTED.value).order_by(col(Invoice.id))):
        if inv.order_id is not None:
            out.setdefault(inv.order_id, inv)
    return out


def refused_invoice_notes(session: Session, order_ids: Sequence[int]) -> dict[int, Message]:
    """Order id -> what the buyer said when it rejected an invoice issued from the order
    (the latest such invoice), for the orders of *order_ids* that have one: financing the
    order stays possible (the order is confirmed and not invoiced), but the applicant and
    the decider see that the buyer refused the delivery's invoice (reader 12, G30)."""
    if not order_ids:
        return {}
    out: dict[int, Message] = {}
    for inv in session.scalars(select(Invoice).where(
            col(Invoice.order_id).in_(list(order_ids)),
            col(Invoice.status) == DocStatus.REJECTED.value).order_by(col(Invoice.id))):
        if inv.order_id is None:
            continue
        order = name(session, "order", inv.order_id)
        out[inv.order_id] = (
            msg(N_("The buyer rejected invoice %(invoice)s issued from %(order)s, saying: "
                   "%(reason)s. Check with the buyer before financing the order."),
                invoice=inv.number, order=order, reason=inv.reject_reason)
            if inv.reject_reason else
            msg(N_("The buyer rejected invoice %(invoice)s issued from %(order)s. Check with "
                   "the buyer before financing the order."), invoice=inv.number, order=order))
    return out


def invoiced_message(session: Session, order_id: int, invoice: Invoice) -> Message:
    """Why order *order_id* cannot be financed: it became *invoice* (paid, or to be
    financed itself)."""
    order = name(session, "order", order_id)
    if invoice.amount_fen - (invoice.paid_fen or 0) <= 0:
        return msg(N_("%(order)s has already been invoiced (invoice %(invoice)s) and the "
                      "buyer has paid that invoice: there is nothing left to finance."),
                   order=order, invoice=invoice.number)
    return msg(N_("%(order)s has already been invoiced (invoice %(invoice)s): an order is "
                  "financed only until its invoice is issued. Finance the invoice instead, "
                  "with receivable financing, once the buyer has confirmed it."),
               order=order, invoice=invoice.number)


def refuse_if_invoiced(session: Session, order_ids: Sequence[int]) -> None:
    """Raise :class:`~trellis.ledger.errors.IneligibleDocument`
    (:func:`invoiced_message`) when one of these orders has become an invoice."""
    found = invoices_of_orders(session, order_ids)
    for order_id in order_ids:
        if order_id in found:
            raise IneligibleDocument(invoiced_message(session, order_id, found[order_id]),
                                     field="order_ids")


def unfinanceable(session: Session, app: Application) -> list[Message]:
    """Why *app*'s documents can no longer be financed at all, for the decider: orders
    that have become invoices, documents this platform registered for financing before
    (each message names the invoice or the earlier loan); empty when there is none."""
    order_ids = list(app.order_ids or ())
    found = invoices_of_orders(session, order_ids)
    out = [invoiced_message(session, o, found[o]) for o in order_ids if o in found]
    out += [registered_message(session, doc, loan_id) for doc, loan_id in registered_documents(
        session, invoice_ids=app.invoice_ids or (), order_ids=order_ids)]
    return out
