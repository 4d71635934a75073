"""What a vendor can finance now from its documents: the invoices an application may
name today and the most they would advance together.

Why: the credit limit (scoring) is a ceiling; what a vendor can actually borrow today is
bounded by its eligible confirmed invoices, and the two differ widely (reader 11, F14: a
limit of 1,107,600 yuan beside four eligible invoices). The apply page and the assistant
both give this figure from here, so they cannot disagree.

Amounts are integer fen; *as_of* is a calendar day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from trellis.chain import registry
from trellis.db import id_of
from trellis.ledger import claims, origination, quoting
from trellis.ledger.financed import NoPartsProvider
from trellis.ledger.financed import parts as financed_parts
from trellis.ledger.models import Loan, LoanDocument, Product, ProductKind
from trellis.trade.models import DocStatus, Firm, Invoice

LIVE_LOANS = ("pending", "active", "overdue")


def invoice_candidates(*, firm_id: int, as_of: date) -> Select[Invoice, Firm]:
    """A select of ``(Invoice, buyer Firm)``: the firm's confirmed invoices not yet due on
    *as_of*, not fully paid, not financed by a live loan nor ever registered for financing
    by this platform, soonest due first. (An
    invoice turned into a voucher is financed through its parts: the caller leaves those
    out, see :func:`financeable_now`.)"""
    open_loans = select(Loan.id).where(col(Loan.status).in_(LIVE_LOANS))
    financed = select(LoanDocument.invoice_id).where(
        col(LoanDocument.loan_id).in_(open_loans), col(LoanDocument.invoice_id).is_not(None))
    return (select(Invoice, Firm).join(Firm, col(Firm.id) == Invoice.buyer_id)
            .where(Invoice.seller_id == firm_id, Invoice.status == DocStatus.CONFIRMED,
                   # not yet due (trade.maturity.is_due, as a query)
                   col(Invoice.due_date) > as_of, Invoice.amount_fen > Invoice.paid_fen,
                   col(Invoice.id).not_in(financed),
                   # registered for financing before (a loan since repaid): never again
                   col(Invoice.id).not_in(registry.registered_subjects("invoice")))
            .order_by(col(Invoice.due_date), col(Invoice.id)))


@dataclass(frozen=True)
class Financeable:
    """The invoices that can go into one application today and what they would advance."""

    count: int          # eligible invoices
    open_fen: int       # their unpaid amounts together
    amount_fen: int     # the most one application of them would advance: the sum of each
    #                     one's advance (quoting.advance_of), up to the product's max
    left_out: int       # candidates left out: in a live application, a voucher, its trade
    #                     claimed through its order, or not priceable under the legal cap


LOOK_UP: Any = object()   # financeable_now's grade: the firm's expected grade


def financeable_now(*, session: Session, firm_id: int, product: Product,
                    as_of: date, grade: str | None = LOOK_UP) -> Financeable:
    """:class:`Financeable` of the firm's invoices for *product* (a receivable product)
    on *as_of*: the candidates of :func:`invoice_candidates` less those a new application
    could not name (claimed by a live one, turned into a voucher, its trade claimed
    through its order) and those that cannot be priced under the legal cap on their own
    (``origination.why_unpriceable`` at *grade*, by default the firm's expected grade
    ``quoting.expected_grade``, as the apply page prices them), advanced at the
    product's rate up to its largest amount, as ``origination.apply`` would."""
    rows = [inv for inv, _buyer in session.exec(invoice_candidates(firm_id=firm_id,
                                                                   as_of=as_of)).all()]
    ids = [id_of(inv) for inv in rows]
    out = {ident for (kind, ident) in claims.claimed_documents(
        session, firm_id=firm_id, as_of=as_of) if kind == "invoice"}
    out |= {ident for (kind, ident) in claims.trade_marks(
        session, firm_id=firm_id, invoice_ids=ids, as_of=as_of) if kind == "invoice"}
    try:
        out |= financed_parts().covered_invoices(session, ids)
    except NoPartsProvider:   # no vouchers in this process: none can be covered
        pass
    if grade is LOOK_UP:   # the grade the apply page prices at
        grade = quoting.expected_grade(session=session, firm_id=firm_id, as_of=as_of)
    kept = [inv for inv in rows if inv.id not in out and origination.why_unpriceable(
        session=session, product=product, open_fen=inv.amount_fen - inv.paid_fen,
        due_date=inv.due_date, as_of=as_of, grade=grade) is None]
    open_fen = sum(inv.amount_fen - inv.paid_fen for inv in kept)
    amount = 0
    if kept and product.kind != ProductKind.REVOLVING:
        amount = quoting.advance_of(product, [inv.amount_fen - inv.paid_fen for inv in kept])
    return Financeable(count=len(kept), open_fen=open_fen, amount_fen=amount,
                       left_out=len(rows) - len(kept))
