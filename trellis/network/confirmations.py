"""The anchor's confirmation queue (确权): its vendors' invoices and orders to confirm or
reject with a reason, one by one or in bulk. Pages and the ERP API call it.

An invoice is the anchor's when the anchor is its buyer; an order when the anchor placed
it (its buyer). A decision moves ``pending`` to ``confirmed`` or ``rejected`` once; the
same decision again changes nothing (a double-submitted form or a retried API call), the
opposite decision is a conflict. Every id of a request is checked before anything changes:
one id that is not the anchor's makes the whole request fail with "not found".
Confirmed documents are committed to the chain by the chain's collector job.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from trellis.accounts.models import User
from trellis.clock import utcnow
from trellis.db import id_of, is_postgres
from trellis.errors import Conflict, NotFound, ValidationError
from trellis.messages import N_, Message, msg
from trellis.network import evidence
from trellis.network.build import bump_data_version
from trellis.network.evidence import days_overdue
from trellis.paging import Page, paginate
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder

Model = type[Invoice] | type[PurchaseOrder]
MODELS: dict[str, Model] = {"invoice": Invoice, "order": PurchaseOrder}
MAX_BULK = 500
MAX_REASON = 300


class Decision(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


TARGET = {Decision.CONFIRM: DocStatus.CONFIRMED, Decision.REJECT: DocStatus.REJECTED}


@dataclass(frozen=True)
class Outcome:
    kind: str
    id: int
    number: str
    status: str
    changed: bool

    def as_dict(self) -> dict[str, Any]:
        """The outcome as JSON data (kind, id, number, new status, whether it changed)."""
        return {"kind": self.kind, "id": self.id, "number": self.number,
                "status": self.status, "changed": self.changed}


@dataclass(frozen=True)
class Row:
    """One document in the queue, with its seller's name."""

    kind: str
    id: int
    number: str
    seller_id: int
    seller_name: str
    seller_uscc: str
    amount_fen: int
    doc_date: date
    due_date: date | None
    status: str
    reject_reason: str | None
    paid_fen: int | None = None   # an invoice's paid amount (an order: None)
    #: why confirming it needs its own tick (:func:`evidence.invoice_cautions`)
    cautions: tuple[str, ...] = ()
    #: the numbers of the invoices it looks like a copy of (:func:`evidence.duplicate_numbers`)
    duplicates: tuple[str, ...] = ()

    def overdue_days(self, as_of: date) -> int:
        """Days a pending invoice is past its due date on *as_of* (0: not due, decided,
        or an order): the queue marks those, the oldest of which waited over a year."""
        if self.status != DocStatus.PENDING:
            return 0
        return days_overdue(self.due_date, as_of)

    @property
    def paid_in_full(self) -> bool:
        """An invoice the anchor has already paid (in the queue: paid, never confirmed)."""
        return self.paid_fen is not None and self.paid_fen >= self.amount_fen

    def as_dict(self) -> dict[str, Any]:
        """The document as JSON data: amount in fen, dates as ISO text."""
        return {"kind": self.kind, "id": self.id, "number": self.number,
                "seller_uscc": self.seller_uscc, "seller_name": self.seller_name,
                "amount_fen": self.amount_fen, "date": self.doc_date.isoformat(),
                "due_date": self.due_date.isoformat() if self.due_date else None,
                "status": self.status, "reject_reason": self.reject_reason}


def model_for(kind: str) -> Model:
    """The table class of document *kind* ("invoice" or "order"); raises NotFound for another."""
    try:
        return MODELS[kind]
    except KeyError:
        raise NotFound(msg(N_("Unknown document kind %(kind)s: use invoice or order."),
                           kind=repr(kind))) from None


Column = Mapped[Any]


def _listing(kind: str, anchor_id: int, status: str | None
             ) -> tuple[Model, Column, Column | None, sa.Select[Any]]:
    """(model, date column, due column or None, query) of the anchor's documents of
    *kind*, optionally of one *status*: the one listing :func:`documents` and
    :func:`queue_page` order and page."""
    model = model_for(kind)
    day: Column = col(Invoice.issue_date) if model is Invoice else col(PurchaseOrder.order_date)
    due: Column | None = col(Invoice.due_date) if model is Invoice else None
    query = (sa.select(col(model.id), col(model.number), col(model.seller_id), col(Firm.name),
                       col(Firm.uscc), col(model.amount_fen), day, col(model.status),
                       col(model.reject_reason),
                       *([due, col(Invoice.paid_fen)] if due is not None else []))
             .join(Firm, col(Firm.id) == col(model.seller_id))
             .where(col(model.buyer_id) == anchor_id))
    if status:
        query = query.where(col(model.status) == status)
    return model, day, due, query


def _row(kind: str, r: sa.Row[Any], has_due: bool) -> Row:
    return Row(kind, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[9] if has_due else None,
               r[7], r[8], int(r[10]) if has_due else None)


def documents(*, session: Session, anchor_id: int, kind: str, status: str | None = "pending",
              limit: int = 200, offset: int = 0) -> list[Row]:
    """The anchor's documents of *kind* (oldest first), optionally of one *status*."""
    model, day, due, query = _listing(kind, anchor_id, status)
    query = query.order_by(day, col(model.id)).offset(offset).limit(limit)
    return [_row(kind, r, due is not None) for r in session.execute(query).all()]


def queue_page(*, session: Session, anchor_id: int, kind: str, status: str | None = "pending",
               page: int | str = 1, per_page: int | str = 50, q: str = "", sort: str = "",
               desc: bool | str = False) -> Page:
    """One page of the anchor's documents of *kind* (a :class:`trellis.paging.Page` of
    :class:`Row`): searched by number or seller name or USCC, sorted by default by what
    needs the anchor first ("attention": unpaid invoices before those paid in full, each
    newest first), or by date, amount, seller or number; with the total count."""
    model, day, due, query = _listing(kind, anchor_id, status)
    # the default, first key: what needs the anchor first (reader 12, G26: the queue
    # opened on pages of 2025 invoices already paid): unpaid invoices before those paid
    # in full, newest first
    attention: tuple[tuple[Any, bool], ...] = ((day, True),)
    if model is Invoice:
        # outstanding (1) first, written as ix_invoices_buyer_status_open_due keeps it:
        # SQLite then reads the pending invoices in that key's order and sorts only within
        # it; the CASE expression it replaced sorted every pending invoice of the anchor
        # for each page (15,882 on the 10,003-firm cluster: 25 -> 8 ms CPU for page 1)
        outstanding = col(Invoice.amount_fen) > col(Invoice.paid_fen)
        attention = ((outstanding, True), (day, True))
    sorts: dict[str, Any] = {"attention": attention, "date": day,
                             "amount": col(model.amount_fen), "vendor": col(Firm.name),
                             "number": col(model.number)}
    if due is not None:
        sorts["due"] = due
    # Unsearched, the count needs no seller names: every document has its seller (a
    # foreign key that is never null), so the buyer-and-status index counts the same rows.
    count = select(func.count()).select_from(model).where(col(model.buyer_id) == anchor_id)
    if status:
        count = count.where(col(model.status) == status)
    found = paginate(session, query, sort_columns=sorts,
                     search_columns=(col(model.number), col(Firm.name), col(Firm.uscc)),
                     page=page, per_page=per_page, q=q, sort=sort, desc=desc,
                     tiebreak=col(model.id), count_query=count)
    rows = [_row(kind, r, due is not None) for r in found.items]
    if kind == "invoice":
        ids = [r.id for r in rows]
        cautions = evidence.invoice_cautions(session=session, invoice_ids=ids)
        twins = evidence.duplicate_numbers(session=session, invoice_ids=ids) \
            if any(evidence.DUPLICATE in c for c in cautions.values()) else {}
        rows = [replace(r, cautions=cautions.get(r.id, ()), duplicates=twins.get(r.id, ()))
                for r in rows]
    found.items = rows
    return found


def pending_counts(*, session: Session, anchor_id: int) -> dict[str, int]:
    """How many invoices and orders wait for the anchor's confirmation, by kind."""
    counts = {}
    for kind, model in MODELS.items():
        counts[kind] = int(session.exec(select(func.count()).select_from(model).where(
            col(model.buyer_id) == anchor_id, col(model.status) == DocStatus.PENDING)).one())
    return counts


def get_document(*, session: Session, anchor_id: int, kind: str, doc_id: int
                 ) -> Invoice | PurchaseOrder:
    """The anchor's document, or :class:`NotFound` (another firm's reads as missing)."""
    model = model_for(kind)
    doc = cast("Invoice | PurchaseOrder | None", session.get(model, doc_id))
    if doc is None or doc.buyer_id != anchor_id:
        raise NotFound(msg(_NOT_AWAITING[kind], id=str(doc_id)))
    return doc


MAX_ID = 2**63 - 1  # the database's largest id

#: what a reader is told, one whole sentence per kind (and status): a translator sees
#: each as it reads, never an English word pasted into a Chinese one
_NOT_AWAITING = {
    "invoice": N_("No invoice %(id)s awaits your firm's decision."),
    "order": N_("No order %(id)s awaits your firm's decision."),
}
_NONE_CHANGED = {
    "invoice": N_("No invoice with id %(id)s awaits your firm's decision; nothing was "
                  "changed."),
    "order": N_("No order with id %(id)s awaits your firm's decision; nothing was changed."),
}
_ALREADY = {
    ("invoice", "confirmed"): N_("Invoice %(number)s was already confirmed; nothing was "
                                 "changed."),
    ("invoice", "rejected"): N_("Invoice %(number)s was already rejected; nothing was "
                                "changed."),
    ("order", "confirmed"): N_("Order %(number)s was already confirmed; nothing was changed."),
    ("order", "rejected"): N_("Order %(number)s was already rejected; nothing was changed."),
}


def _not_an_id(raw: object) -> Message:
    return msg(N_("%(value)s is not a document id."), value=repr(str(raw)[:30]))


def _clean_ids(ids: Iterable[object] | None) -> list[int]:
    out: list[int] = []
    for raw in ids or ():
        # Whole numbers only (from JSON) or their digits (from a form): 1.9 is refused,
        # not truncated to 1, and 1e20 is refused before it reaches the database.
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, float) and raw.is_integer() and abs(raw) <= MAX_ID:
            value = int(raw)  # JSON's 12.0 is the whole number 12
        elif isinstance(raw, str) and raw.strip().isdigit():
            value = int(raw.strip())
        else:
            raise ValidationError(_not_an_id(raw), field="ids")
        if value <= 0 or value > MAX_ID:
            raise ValidationError(_not_an_id(raw), field="ids")
        if value not in out:
            out.append(value)
    if not out:
        raise ValidationError(N_("Choose at least one document."), field="ids")
    if len(out) > MAX_BULK:
        raise ValidationError(msg(N_("Decide at most %(n)s documents at once."), n=MAX_BULK),
                              field="ids")
    return out


def clean_reason(decision: Decision, reason: str | None) -> str | None:
    """The rejection reason trimmed (required to reject, at most MAX_REASON characters); None for a
    confirmation."""
    reason = (reason or "").strip()
    if decision == Decision.REJECT:
        if not reason:
            raise ValidationError(N_("Give a reason for the rejection: the vendor will see it."),
                                  field="reason")
        if len(reason) > MAX_REASON:
            raise ValidationError(msg(N_("Keep the reason under %(n)s characters."), n=MAX_REASON),
                                  field="reason")
        return reason
    return None


#: one whole sentence per caution, for the first invoice confirmed without its own tick
_UNACKNOWLEDGED = {
    evidence.NO_ORDER: N_("Invoice %(number)s names no purchase order of your firm. Check it, "
                          "tick its own box “Checked, confirm anyway”, or leave it out; "
                          "nothing was confirmed (%(n)s document(s) need their own tick)."),
    evidence.NO_DELIVERY: N_("No delivery is recorded against the order of invoice "
                             "%(number)s. Check it, tick its own box “Checked, confirm "
                             "anyway”, or leave it out; nothing was confirmed (%(n)s "
                             "document(s) need their own tick)."),
    evidence.PAID: N_("Invoice %(number)s is already paid in full: confirming it tells the "
                      "bank your firm still owes it. Check it, tick its own box “Checked, "
                      "confirm anyway”, or leave it out; nothing was confirmed (%(n)s "
                      "document(s) need their own tick)."),
    evidence.DUPLICATE: N_("Invoice %(number)s looks like a copy of invoice %(twins)s (same "
                           "seller, amount and issue date): confirm both only if both sales "
                           "are real. Check it, tick its own box “Checked, confirm anyway”, "
                           "or leave it out; nothing was confirmed (%(n)s document(s) need "
                           "their own tick)."),
}


#: the same for a caller with no rows to tick (the ERP API): it names the duplicate and
#: the request field that accepts it (:data:`ACCEPT_FIELD`)
_UNACCEPTED_DUPLICATE = N_("Invoice %(number)s looks like a copy of invoice %(twins)s (same "
                           "seller, amount and issue date): confirm both only if both sales "
                           "are real. Check it, then list its id in %(field)s to "
                           "confirm it anyway, or leave it out; nothing was confirmed "
                           "(%(n)s invoice(s) need it).")

#: The request field of the API that accepts possible duplicates one by one (their ids).
ACCEPT_FIELD = "accept_duplicates"


def _check_acknowledged(session: Session, ids: list[int],
                        found: dict[int, Invoice | PurchaseOrder],
                        acknowledged: Iterable[object] | None,
                        accepted_duplicates: Iterable[object] | None) -> None:
    """Raise for the invoices of *ids* with cautions that were not acknowledged one by one.

    With *acknowledged* (a person's row ticks) every caution needs its row's id among
    them. Without (the ERP API, whose attestation covers order and delivery for the whole
    request), a possible duplicate still needs its id among *accepted_duplicates*: a
    copy is never confirmed by a batch's word alone, whoever asks (attack 13, finding 5:
    the API confirmed the copy the page refused)."""
    per_row = acknowledged is not None
    given = acknowledged if acknowledged is not None else accepted_duplicates
    ticked = {str(a).strip() for a in given or ()}
    cautions = evidence.invoice_cautions(session=session, invoice_ids=ids) if per_row else \
        {i: (evidence.DUPLICATE,) for i in evidence.duplicate_numbers(session=session,
                                                                      invoice_ids=ids)}
    lacking = [i for i in ids if cautions.get(i) and str(i) not in ticked]
    if lacking:
        first = lacking[0]
        twins = evidence.duplicate_numbers(session=session, invoice_ids=[first]).get(first, ())
        # a possible duplicate first: the reason that matters most (reader 12b, H8)
        said = evidence.DUPLICATE if evidence.DUPLICATE in cautions[first] \
            else cautions[first][0]
        text, named = (_UNACKNOWLEDGED[said], {}) if per_row else \
            (_UNACCEPTED_DUPLICATE, {"field": ACCEPT_FIELD})
        raise ValidationError(msg(text, number=found[first].number, n=len(lacking),
                                  twins=list(twins), **named),
                              field="ids" if per_row else ACCEPT_FIELD)


#: How a buyer decides (``decided_via``): on its pages, or from its ERP through the API.
VIAS = ("web", "api")

#: The field that attests the check, as the API names it (the web form ticks a box).
CHECKED_FIELD = "checked_order_and_delivery"


def check_attested(decision: Decision, checked: object) -> None:
    """A confirmation (确权) goes on chain and cannot be withdrawn: whoever confirms says
    that the order and the delivery were checked (*checked* exactly True, not a truthy
    string), on the web by a tick and in the API by :data:`CHECKED_FIELD`; else raise
    :class:`ValidationError` and nothing is confirmed. A rejection needs none."""
    if decision == Decision.CONFIRM and checked is not True:
        raise ValidationError(N_("Confirm only after checking the order and the delivery, "
                                 "and say so: a confirmation goes on chain and cannot be "
                                 "withdrawn. Nothing was confirmed."), field=CHECKED_FIELD)


def decide(*, session: Session, anchor_id: int, kind: str, ids: Iterable[object] | None,
           decision: str, reason: str | None = None, user: User | None = None,
           checked: object = False,
           acknowledged: Iterable[object] | None = None,
           accepted_duplicates: Iterable[object] | None = None,
           via: str = "web") -> list[Outcome]:
    """Confirm or reject the anchor's documents *ids* of *kind*; all or nothing. *checked*:
    the caller attests that the order and the delivery were checked (:func:`check_attested`:
    a confirmation needs it).

    With *acknowledged* (a person's pages), an invoice with cautions
    (:func:`evidence.invoice_cautions`: no order, no delivery, already paid, a possible
    duplicate) is confirmed
    only if its id is among them: the clerk ticked that row, not just the whole batch.
    Without *acknowledged* (the ERP API, a script), a possible duplicate is still
    confirmed only if its id is among *accepted_duplicates* (the API's
    :data:`ACCEPT_FIELD`); the whole request is refused otherwise.
    *via* ("web" or "api": the buyer's system) is kept with each decided document
    (``decided_via``), so the seller is told who decided.

    Raises :class:`NotFound` if any id is not the anchor's, :class:`Conflict` if any was
    already decided the other way, :class:`ValidationError` for a missing reason or
    attestation, bad ids or an unacknowledged caution. Flushes; the caller commits and
    writes the audit trail.
    """
    model = model_for(kind)
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}, not {via!r}")
    try:
        chosen = Decision(decision)
    except ValueError:
        raise ValidationError(N_("The decision must be confirm or reject."),
                              field="decision") from None
    check_attested(chosen, checked)
    reason = clean_reason(chosen, reason)
    wanted = _clean_ids(ids)
    query = sa.select(model).where(col(model.id).in_(wanted)).order_by(col(model.id))
    if is_postgres(session):
        query = query.with_for_update()
    docs = cast("Sequence[Invoice | PurchaseOrder]", session.scalars(query).all())
    found = {id_of(d): d for d in docs}
    missing = [i for i in wanted if i not in found or found[i].buyer_id != anchor_id]
    if missing:
        raise NotFound(msg(_NONE_CHANGED[kind], id=str(missing[0])))
    target = TARGET[chosen]
    for i in wanted:
        doc = found[i]
        if doc.status not in (DocStatus.PENDING, target):
            raise Conflict(msg(_ALREADY[(kind, str(doc.status))], number=doc.number))
    if chosen == Decision.CONFIRM and model is Invoice:
        _check_acknowledged(session, [i for i in wanted if found[i].status != target],
                            found, acknowledged, accepted_duplicates)
    now = utcnow()
    outcomes: list[Outcome] = []
    for i in wanted:
        doc = found[i]
        if doc.status == target:
            outcomes.append(Outcome(kind, i, doc.number, doc.status, False))
            continue
        doc.status = target
        doc.confirmed_at = now
        doc.confirmed_by_id = user.id if user else None
        doc.decided_via = via
        doc.reject_reason = reason
        session.add(doc)
        outcomes.append(Outcome(kind, i, doc.number, doc.status, True))
    session.flush()
    changed = [found[o.id].seller_id for o in outcomes if o.changed]
    if changed:  # the cluster graph's confirmed volumes changed
        clusters = session.scalars(select(col(Firm.cluster_id)).where(
            col(Firm.id).in_(set(changed) | {anchor_id}), col(Firm.cluster_id).is_not(None))).all()
        for cluster_id in sorted(set(clusters)):
            bump_data_version(session=session, cluster_id=cluster_id)
    return outcomes
