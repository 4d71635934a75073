"""Which invoices an anchor may issue a voucher against: one rule, for the issue and the
list that offers them.

An anchor's issue list once offered every confirmed, unpaid invoice it owed, among them
invoices a loan already financed and invoices months overdue; the issue then refused the
first and let the second through with a maturity chosen by hand (outside reader 11,
F10). The rule is now written once, as SQL conditions on :class:`Invoice`, each with the
refusal it stands for: :func:`issuable` combines them into the list, and
:func:`refuse_unless_issuable` (called by ``services.issue``) finds the first one an
invoice fails and raises its error. An invoice may be issued when it:

1. is owed by the anchor (else :class:`VoucherNotFound`);
2. is confirmed (:class:`NotConfirmed`);
3. has no voucher yet (:class:`AlreadyIssued`);
4. is not paid in full (:class:`AlreadyIssued`, "already paid");
5. is not yet due on the issue day (:class:`TenorTooLong`): an overdue payable is owed
   now, and a voucher would put off paying it; the maturity defaults to the due date,
   which must lie after the issue day;
6. is not financed by a loan still open (pending, paid out, overdue or written off:
   :class:`AlreadyFinanced`), nor is the order it came from (the order is repaid from
   this invoice: the ledger's ``DocumentClaimed``, naming the order and the loan).

A live *application* on the invoice's order is checked by the issue alone
(``claims.refuse_if_trade_claimed``): applications keep their documents in JSON lists
that SQL does not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import exists, func, or_
from sqlmodel import Session, col, select

from trellis.db import id_of
from trellis.errors import TrellisError
from trellis.ledger import claims
from trellis.ledger.models import Loan, LoanDocument, LoanStatus
from trellis.messages import N_, msg
from trellis.trade.models import DocStatus, Firm, Invoice, invoice_outstanding
from trellis.vouchers.errors import (
    AlreadyFinanced,
    AlreadyIssued,
    NotConfirmed,
    TenorTooLong,
    VoucherNotFound,
)
from trellis.vouchers.models import Voucher

#: loans that hold an invoice (or the order it came from): not yet settled
OPEN_LOANS = (
    LoanStatus.PENDING.value,
    LoanStatus.ACTIVE.value,
    LoanStatus.OVERDUE.value,
    LoanStatus.WRITTEN_OFF.value,
)


def _open_loan_on(column: Any) -> Any:
    """SQL: an open loan stands on the invoice (or its order) through *column*."""
    return exists(
        select(col(LoanDocument.id))
        .join(Loan, col(Loan.id) == LoanDocument.loan_id)
        .where(column, col(Loan.status).in_(list(OPEN_LOANS)))
    )


def _order_claimed(session: Session, invoice: Invoice, as_of: date) -> TrellisError:
    """The ledger's own refusal for an invoice whose order a loan finances (it names the
    order and the loan: ``claims.trade_message``), as a financing would be refused."""
    found = claims.trade_claims(
        session, firm_id=invoice.seller_id, invoice_ids=[id_of(invoice)], as_of=as_of
    )
    if found:
        return claims.DocumentClaimed(claims.trade_message(session, *found[0]), field="invoice_ids")
    return AlreadyFinanced(
        msg(N_("Invoice %(number)s is already financed by a loan."), number=invoice.number)
    )


@dataclass(frozen=True)
class Rule:
    """One condition an issuable invoice meets (SQL on :class:`Invoice`), and the error
    for an invoice that fails it."""

    name: str
    where: Callable[[int, date], Any]
    #: (the invoice or None when there is none, the session, the issue day) -> the error
    refuse: Callable[[Any, Session, date], TrellisError]


RULES: tuple[Rule, ...] = (
    Rule(
        "owed",
        lambda anchor_id, _as_of: col(Invoice.buyer_id) == anchor_id,
        lambda _inv, *_: VoucherNotFound(
            N_("That payable does not exist or is not owed by your firm.")
        ),
    ),
    Rule(
        "confirmed",
        lambda _a, _d: col(Invoice.status) == DocStatus.CONFIRMED,
        lambda inv, *_: NotConfirmed(
            msg(N_("Invoice %(number)s is not confirmed; confirm it first."), number=inv.number)
        ),
    ),
    Rule(
        "not_issued",
        lambda _a, _d: col(Invoice.id).not_in(select(col(Voucher.invoice_id))),
        lambda inv, *_: AlreadyIssued(
            msg(N_("A voucher was already issued for invoice %(number)s."), number=inv.number)
        ),
    ),
    Rule(
        "unpaid",
        lambda _a, _d: invoice_outstanding(),
        lambda inv, *_: AlreadyIssued(
            msg(N_("Invoice %(number)s is already paid."), number=inv.number)
        ),
    ),
    Rule(
        "not_due",
        lambda _a, as_of: col(Invoice.due_date) > as_of,
        lambda inv, *_: TenorTooLong(
            msg(
                N_(
                    "Invoice %(number)s was due on %(due)s: an overdue "
                    "payable is paid, not issued as a voucher."
                ),
                number=inv.number,
                due=inv.due_date,
            ),
            field="invoice_id",
        ),
    ),
    Rule(
        "not_financed",
        lambda _a, _d: ~_open_loan_on(col(LoanDocument.invoice_id) == col(Invoice.id)),
        lambda inv, *_: AlreadyFinanced(
            msg(N_("Invoice %(number)s is already financed by a loan."), number=inv.number)
        ),
    ),
    Rule(
        "order_not_financed",
        lambda _a, _d: or_(
            col(Invoice.order_id).is_(None),
            ~_open_loan_on(col(LoanDocument.order_id) == col(Invoice.order_id)),
        ),
        lambda inv, session, as_of: _order_claimed(session, inv, as_of),
    ),
)


def conditions(*, anchor_id: int, as_of: date) -> list[Any]:
    """Every rule's SQL condition on :class:`Invoice`, for *anchor_id* on *as_of*."""
    return [rule.where(anchor_id, as_of) for rule in RULES]


def refuse_unless_issuable(
    *, session: Session, invoice_id: int, anchor_id: int, as_of: date
) -> Invoice:
    """The invoice, when *anchor_id* may issue a voucher against it on *as_of*; else the
    error of the first rule it fails (see the module's list)."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise RULES[0].refuse(None, session, as_of)
    for rule in RULES:
        passes = session.exec(
            select(col(Invoice.id)).where(
                col(Invoice.id) == invoice_id, rule.where(anchor_id, as_of)
            )
        ).first()
        if passes is None:
            raise rule.refuse(invoice, session, as_of)
    return invoice


def issuable(
    *, session: Session, anchor_id: int, as_of: date, q: str = "", limit: int = 200
) -> tuple[list[tuple[Invoice, Firm]], int]:
    """The invoices *anchor_id* may issue a voucher against on *as_of*, with their sellers,
    latest due first (at most *limit*), narrowed by *q* (part of an invoice number or a
    supplier's name); and how many there are in all."""
    where = conditions(anchor_id=anchor_id, as_of=as_of)
    if q:
        where.append(
            or_(
                col(Invoice.number).contains(q, autoescape=True),
                col(Firm.name).contains(q, autoescape=True),
            )
        )
    rows = list(
        session.exec(
            select(Invoice, Firm)
            .join(Firm, col(Firm.id) == Invoice.seller_id)
            .where(*where)
            .order_by(col(Invoice.due_date).desc(), col(Invoice.id).desc())
            .limit(limit)
        ).all()
    )
    total = (
        len(rows)
        if len(rows) < limit
        else session.exec(
            select(func.count())
            .select_from(Invoice)
            .join(Firm, col(Firm.id) == Invoice.seller_id)
            .where(*where)
        ).one()
    )
    return [(inv, firm) for inv, firm in rows], int(total)
