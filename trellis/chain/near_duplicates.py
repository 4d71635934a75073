"""Coarse fingerprints: a near-duplicate invoice or order goes to a person, not through.

The exact fingerprints of :mod:`trellis.chain.registry` are registered on chain and
REFUSE financing outright. Each catches one way of presenting a receivable twice:

- ``full`` (seller, buyer, normalised number, amount in fen, date): the same document
  again, even with its number re-typed ("INV-0042" / "inv 42");
- ``no_number`` (seller, buyer, amount in fen, date): the same receivable re-numbered;
- a voucher part's ``fragment`` print, and its voucher's invoice prints: the same
  receivable financed directly and through a voucher.

All of them are dodged by changing the amount by 1 fen or the date by a day. The coarse
fingerprint closes that gap without refusing honest business (a firm may well invoice
the same buyer similar amounts in the same week), so a match does not refuse: it sends
the application to an RM's review, naming the earlier document and how far apart the two
are. It is computed over

    near-v1|<kind>|<seller USCC>|<buyer USCC>|<amount band>|<7-day window>

where the amount band is the amount rounded down to three significant digits (at least
to whole yuan: 1,234,567 fen is band 10,000 fen x 123) and the window is the date's
7-day block. Each document records its own print; a new one looks up the prints of its
neighbouring bands and windows (one band and one window either side), so it catches
every earlier document of the same seller and buyer within one band (0.1-1 % of the
amount, at least 1 yuan) and about a week, and never anything with other parties, or
further apart than two bands and three weeks. An order also looks up the prints of
invoices, and an invoice those of orders (an order and the invoice it became carry the
same parties and amount): a pair not linked by ``Invoice.order_id`` goes to review with
its own reason (a linked pair is one trade, refused by :mod:`trellis.ledger.claims` when
the other is financed). An invoice issued as a voucher records its print then
(:func:`record`), so an order matching it is caught too. The prints are kept in Trellis's database
(:class:`~trellis.chain.models.NearFingerprint`), not on chain: an on-chain coarse print
would collide for honest neighbours, and the contract refuses any repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from trellis.chain.models import NearFingerprint
from trellis.messages import N_, Message, Money, msg
from trellis.trade import uscc as uscc_mod
from trellis.trade.models import Firm, Invoice, PurchaseOrder

WINDOW_DAYS = 7
SIGNIFICANT_DIGITS = 3
MIN_BAND_FEN = 100  # bands are never narrower than one yuan


def band_width(amount_fen: int) -> int:
    """The width in fen of *amount_fen*'s band: three significant digits, >= 1 yuan."""
    digits = len(str(abs(int(amount_fen))))
    return max(MIN_BAND_FEN, int(10 ** max(digits - SIGNIFICANT_DIGITS, 0)))


def _print(kind: str, seller: str, buyer: str, amount_fen: int, day: date) -> str:
    width = band_width(amount_fen)
    window = day.toordinal() // WINDOW_DAYS
    message = "|".join(["near-v1", kind, uscc_mod.normalise(seller), uscc_mod.normalise(buyer),
                        f"{width}x{max(amount_fen, 0) // width}", str(window)])
    return "0x" + hashlib.sha256(message.encode("utf-8")).hexdigest()


def coarse_fingerprint(*, kind: str, seller_uscc: str, buyer_uscc: str, amount_fen: int,
                       issued_on: date) -> str:
    """The print a document records (``0x`` + 64 hex digits)."""
    return _print(kind, seller_uscc, buyer_uscc, amount_fen, issued_on)


def neighbour_prints(*, kind: str, seller_uscc: str, buyer_uscc: str, amount_fen: int,
                     issued_on: date) -> set[str]:
    """The prints a document looks up: its own and those one band and one window away."""
    width = band_width(amount_fen)
    return {_print(kind, seller_uscc, buyer_uscc, a, d)
            for a in (amount_fen - width, amount_fen, amount_fen + width) if a >= 0
            for d in (issued_on - timedelta(days=WINDOW_DAYS), issued_on,
                      issued_on + timedelta(days=WINDOW_DAYS))}


@dataclass(frozen=True)
class Document:
    kind: str  # invoice, order
    id: int
    number: str
    seller_uscc: str
    buyer_uscc: str
    amount_fen: int
    day: date

    @property
    def label(self) -> str:
        """What the document is, as a reviewer reads it (amount in CNY, two decimals)."""
        return f"{self.kind} {self.number} ({self.amount_fen / 100:,.2f} CNY of {self.day})"

    @property
    def message(self) -> Message:
        """The same for a page: the amount in yuan and the words in the reader's language."""
        return label_message(self.kind, self.number, self.amount_fen, self.day)


#: a document as a reviewer reads it, one whole phrase per kind for the translator
_LABELS = {
    "invoice": N_("invoice %(number)s (%(amount)s of %(day)s)"),
    "order": N_("order %(number)s (%(amount)s of %(day)s)"),
}


def label_message(kind: str, number: str, amount_fen: int, day: date) -> Message:
    """A document named for people: its kind, number, amount in yuan and day, rendered in
    the reader's language (发票 N（¥56,017.61，2026-11-04）)."""
    return msg(_LABELS.get(kind, _LABELS["invoice"]), number=number, amount=Money(amount_fen),
               day=day)


def _other_message(session: Session, row: NearFingerprint) -> Message | str:
    """The document presented before, as :func:`label_message`; its stored English label
    when the document is gone."""
    model = Invoice if row.subject_type == "invoice" else PurchaseOrder
    number = session.scalars(select(col(model.number))
                             .where(col(model.id) == row.subject_id)).first()
    if number is None:
        return row.label
    return label_message(row.subject_type, number, row.amount_fen, row.issued_on)


def _documents(session: Session, invoice_ids: Sequence[int],
               order_ids: Sequence[int]) -> list[Document]:
    seller, buyer = aliased(Firm), aliased(Firm)
    out = []
    sources: tuple[tuple[str, type[Invoice] | type[PurchaseOrder], Sequence[int], date], ...] = (
        ("invoice", Invoice, invoice_ids, Invoice.issue_date),
        ("order", PurchaseOrder, order_ids, PurchaseOrder.order_date))
    for kind, model, ids, day in sources:
        if not ids:
            continue
        for row in session.execute(
                select(col(model.id), col(model.number), col(seller.uscc), col(buyer.uscc),
                       col(model.amount_fen), col(day))
                .join(seller, col(seller.id) == col(model.seller_id))
                .join(buyer, col(buyer.id) == col(model.buyer_id))
                .where(col(model.id).in_(list(ids))).order_by(col(model.id))):
            out.append(Document(kind, *row))
    return out


def screen(*, session: Session, invoice_ids: Sequence[int] = (), order_ids: Sequence[int] = (),
           application_id: int | None = None) -> list[dict[str, Any]]:
    """Look up near-duplicates of these invoices and orders among the documents presented
    before, then record theirs. Returns one review reason per match (empty: none), as a
    stored :class:`~trellis.messages.Message`, whose English reads e.g.
    ``"invoice INV-2 (1,000.01 CNY of 2026-03-02) is within 0.01 CNY and 1 day of invoice
    INV-1 (1,000.00 CNY of 2026-03-01), presented before: check it is not the same
    receivable financed twice."``. Flushes only."""
    reasons: list[dict[str, Any]] = []
    for doc in _documents(session, invoice_ids, order_ids):
        other_kind = "invoice" if doc.kind == "order" else "order"
        prints = neighbour_prints(kind=doc.kind, seller_uscc=doc.seller_uscc,
                                  buyer_uscc=doc.buyer_uscc, amount_fen=doc.amount_fen,
                                  issued_on=doc.day)
        prints |= neighbour_prints(kind=other_kind, seller_uscc=doc.seller_uscc,
                                   buyer_uscc=doc.buyer_uscc, amount_fen=doc.amount_fen,
                                   issued_on=doc.day)
        linked = _linked(session, doc)
        seen: set[tuple[str, int]] = set()
        for row in session.scalars(select(NearFingerprint).where(
                col(NearFingerprint.fingerprint).in_(sorted(prints)))
                .order_by(col(NearFingerprint.id))):
            other = (row.subject_type, row.subject_id)
            if other == (doc.kind, doc.id) or other in seen or other in linked:
                continue
            seen.add(other)
            fen, days = abs(doc.amount_fen - row.amount_fen), abs((doc.day - row.issued_on).days)
            template = (N_("%(doc)s is within %(gap)s and %(days)s day(s) of %(other)s, "
                           "presented before: check it is not the same receivable financed "
                           "twice.") if row.subject_type == doc.kind else
                        N_("%(doc)s is within %(gap)s and %(days)s day(s) of %(other)s, "
                           "presented before, and the two are not linked: check the order "
                           "did not become that invoice (one trade is financed once)."))
            reasons.append(msg(template, doc=doc.message, gap=Money(fen), days=days,
                               other=_other_message(session, row)).to_json())
        _record(session, doc, application_id)
    return reasons


def _linked(session: Session, doc: Document) -> set[tuple[str, int]]:
    """The documents of *doc*'s own trade: an order's invoices, an invoice's order."""
    if doc.kind == "order":
        return {("invoice", int(i)) for i in session.scalars(
            select(col(Invoice.id)).where(col(Invoice.order_id) == doc.id)) if i is not None}
    order_id = session.scalars(select(col(Invoice.order_id))
                               .where(col(Invoice.id) == doc.id)).first()
    return {("order", order_id)} if order_id is not None else set()


def record(*, session: Session, invoice_ids: Sequence[int] = (),
           order_ids: Sequence[int] = ()) -> None:
    """Record these documents' prints without looking anything up (an invoice issued as
    a voucher: its parts are financed, not it, but an order matching it must be seen)."""
    for doc in _documents(session, invoice_ids, order_ids):
        _record(session, doc, None)


def _record(session: Session, doc: Document, application_id: int | None) -> None:
    fp = coarse_fingerprint(kind=doc.kind, seller_uscc=doc.seller_uscc,
                            buyer_uscc=doc.buyer_uscc, amount_fen=doc.amount_fen,
                            issued_on=doc.day)
    known = session.scalars(select(col(NearFingerprint.id)).where(
        col(NearFingerprint.fingerprint) == fp, col(NearFingerprint.subject_type) == doc.kind,
        col(NearFingerprint.subject_id) == doc.id)).first()
    if known is None:
        session.add(NearFingerprint(fingerprint=fp, subject_type=doc.kind,
                                    subject_id=doc.id, label=doc.label[:200],
                                    amount_fen=doc.amount_fen, issued_on=doc.day,
                                    application_id=application_id))
        session.flush()  # the next document of this request sees it
