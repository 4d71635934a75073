"""Payables coming due, and recording the anchor's payment of an invoice.

Paying an invoice is :func:`trellis.trade.payments.record_invoice_payment` (the payment,
its allocation and the invoice's paid amount, atomically), given the ledger's
:func:`~trellis.ledger.lifecycle.anchor_payment` to sweep the loan financing the invoice
(any surplus is owed to the vendor). An invoice issued as a voucher is paid through the
voucher's settlement instead. The view parses, calls, translates the error, redirects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_
from sqlmodel import Session, select

from trellis import clock
from trellis.errors import Conflict, NotFound, ValidationError
from trellis.ledger.lifecycle import anchor_payment, loans_for_invoice
from trellis.ledger.models import Loan, LoanDocument
from trellis.ledger.payouts import surplus_of_repayment
from trellis.messages import N_, Message, msg
from trellis.paging import Page, clean, paginate, search_condition
from trellis.platform.anchor.blueprint import bp
from trellis.platform.anchor.forms import PaymentForm
from trellis.platform.i18n import money
from trellis.platform.paging import args as paging_args
from trellis.platform.vendor_portal.common import (
    attach_error,
    current_user_obj,
    own_firm,
    parse_yuan,
    yuan,
)
from trellis.platform.web import audit, commit, db, roles_required
from trellis.trade import payments
from trellis.trade.models import (
    DocStatus,
    Firm,
    Invoice,
    Payment,
    PaymentAllocation,
    invoice_outstanding,
)
from trellis.vouchers.models import Voucher


@dataclass
class Payable:
    invoice: Invoice
    seller: Firm
    outstanding_fen: int
    days_to_due: int
    loan_ids: list[int]
    voucher: Voucher | None


def _loans_for(session: Session, invoice_id: int) -> list[int]:
    return [loan.id for loan in loans_for_invoice(session, invoice_id)]


def _financed(session: Session, invoices: list[Invoice]) -> dict[int, list[int]]:
    """Invoice id -> live loans financing it (directly or through its order), one query."""
    if not invoices:
        return {}
    by_order = {inv.order_id: inv.id for inv in invoices if inv.order_id}
    ids = [inv.id for inv in invoices]
    cond = LoanDocument.invoice_id.in_(ids)
    if by_order:
        cond = or_(cond, LoanDocument.order_id.in_(list(by_order)))
    out: dict[int, list[int]] = {}
    for loan_id, invoice_id, order_id in session.exec(
            select(Loan.id, LoanDocument.invoice_id, LoanDocument.order_id)
            .join(LoanDocument, LoanDocument.loan_id == Loan.id)
            .where(cond, Loan.status.in_(["active", "overdue"]))):
        target = invoice_id if invoice_id in ids else by_order.get(order_id)
        if target is not None:
            out.setdefault(target, []).append(loan_id)
    return out


def _due_filter(query, *, anchor_id: int, days: int | None, as_of: date,
                overdue: bool | None):
    query = query.where(Invoice.buyer_id == anchor_id, Invoice.status == DocStatus.CONFIRMED,
                        invoice_outstanding())
    if overdue is True:
        query = query.where(Invoice.due_date < as_of)
    elif overdue is False:
        query = query.where(Invoice.due_date >= as_of)
    if days is not None and overdue is not True:
        query = query.where(Invoice.due_date <= as_of + timedelta(days=days))
    return query


SEARCHED = (Invoice.number, Firm.name)   # what the payables list's search looks in


def due_summary(*, session: Session, anchor_id: int, days: int | None = None,
                as_of: date | None = None, overdue: bool | None = None,
                q: str = "") -> tuple[int, int]:
    """(count, outstanding fen) of the invoices :func:`due_payables` lists, all of them,
    in one aggregate query (the desk's figures); *q*: of those whose number or seller's
    name holds it (the list's search)."""
    as_of = as_of or clock.today()
    query = select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.amount_fen
                                                                  - Invoice.paid_fen), 0))
    if q:
        query = query.join(Firm, Firm.id == Invoice.seller_id).where(
            search_condition(q, SEARCHED))
    n, total = session.exec(_due_filter(query, anchor_id=anchor_id, days=days, as_of=as_of,
                                        overdue=overdue)).one()
    return int(n), int(total)


def _payables(session: Session, rows: list, as_of: date) -> list[Payable]:
    """The (invoice, seller) *rows* with their outstanding amount, vouchers and loans."""
    vouchers = {v.invoice_id: v for v in session.exec(select(Voucher).where(
        Voucher.invoice_id.in_([inv.id for inv, _ in rows])))} if rows else {}
    loans = _financed(session, [inv for inv, _ in rows])
    return [Payable(inv, seller, inv.amount_fen - inv.paid_fen, (inv.due_date - as_of).days,
                    loans.get(inv.id, []), vouchers.get(inv.id))
            for inv, seller in rows]


def payables_page(*, session: Session, anchor_id: int, days: int | None = None,
                  as_of: date | None = None, overdue: bool | None = None,
                  **wanted) -> tuple[Page, int]:
    """One page of :func:`due_payables`' list (*wanted*: page, per_page, q, sort, desc of
    :func:`trellis.paging.clean`; searched by invoice number or seller, soonest due first
    or last), its items :class:`Payable`, and the outstanding fen of the whole searched
    list: the page and the total by the database (an aggregate and a limited query), not
    by loading every row."""
    as_of = as_of or clock.today()
    query = _due_filter(select(Invoice, Firm).join(Firm, Firm.id == Invoice.seller_id),
                        anchor_id=anchor_id, days=days, as_of=as_of, overdue=overdue)
    n, total = due_summary(session=session, anchor_id=anchor_id, days=days, as_of=as_of,
                           overdue=overdue, q=clean(**wanted)["q"])
    page = paginate(session, query, sort_columns={"due": Invoice.due_date},
                    search_columns=SEARCHED, tiebreak=Invoice.id,
                    total=n, **wanted)
    page.items = _payables(session, [tuple(r) for r in page.items], as_of)
    return page, total


def due_payables(*, session: Session, anchor_id: int, days: int | None = None,
                 as_of: date | None = None, limit: int = 500,
                 overdue: bool | None = None) -> list[Payable]:
    """Confirmed, unpaid invoices the anchor owes, soonest due first. *overdue* True:
    only those past their due date; False: only those not yet due (with *days*, due
    within that many days of *as_of*: "coming due"); None: both."""
    as_of = as_of or clock.today()
    query = _due_filter(select(Invoice, Firm).join(Firm, Firm.id == Invoice.seller_id),
                        anchor_id=anchor_id, days=days, as_of=as_of, overdue=overdue)
    rows = session.exec(query.order_by(Invoice.due_date, Invoice.id).limit(limit)).all()
    return _payables(session, list(rows), as_of)


@dataclass(frozen=True)
class Whereabouts:
    """Where an invoice searched for by its number is, when the payables list has none:
    *state* "pending" (not confirmed yet), "rejected", "paid" (paid in full, on
    *last_paid_on*) or "unpaid" (listed under another tab than the one searched)."""

    invoice: Invoice
    state: str
    last_paid_on: date | None = None


def whereabouts(*, session: Session, anchor_id: int, q: str, limit: int = 5
                ) -> list[Whereabouts]:
    """The anchor's invoices numbered exactly *q* (trimmed), each with why it is or is not
    a payable: a clerk who confirmed an invoice and cannot find it among the unpaid ones
    learns that it was paid (the demo's queue holds hundreds paid before being confirmed)."""
    number = q.strip()
    if not number:
        return []
    found = session.exec(select(Invoice).where(Invoice.buyer_id == anchor_id,
                                               Invoice.number == number)
                         .order_by(Invoice.id).limit(limit)).all()
    out = []
    for inv in found:
        if inv.status != DocStatus.CONFIRMED:
            out.append(Whereabouts(inv, str(inv.status)))
        elif inv.paid_fen >= inv.amount_fen:
            last = session.exec(select(func.max(Payment.paid_on))
                                .join(PaymentAllocation,
                                      PaymentAllocation.payment_id == Payment.id)
                                .where(PaymentAllocation.invoice_id == inv.id)).one()
            out.append(Whereabouts(inv, "paid", last))
        else:
            out.append(Whereabouts(inv, "unpaid"))
    return out


def _issued_as_voucher(session: Session, invoice: Invoice) -> Message | None:
    if session.exec(select(Voucher.id).where(Voucher.invoice_id == invoice.id)).first():
        return msg(N_("Invoice %(number)s was issued as a voucher; it is paid when the "
                      "voucher is settled at maturity."), number=invoice.number)
    return None


@bp.get("/payables")
@roles_required("anchor")
def payables():
    firm = own_firm()
    raw = request.args.get("days", "30")
    days: int | str | None
    if raw == "overdue":
        days, window, overdue = "overdue", None, True
    else:
        days = None if raw == "all" else (int(raw) if raw.isdigit() and int(raw) <= 3650
                                          else 30)
        # "coming due" means not yet due: overdue invoices have their own tab
        window, overdue = days, (None if days is None else False)
    # Every row counts in the total; the table shows one page of them (the tab can hold
    # hundreds), searched by invoice number or vendor, with its count.
    page, total = payables_page(session=db(), anchor_id=firm.id, days=window,
                                overdue=overdue, **paging_args())
    # a search that finds nothing says where an invoice of that number is instead
    found = ([] if page.total or not page.q
             else whereabouts(session=db(), anchor_id=firm.id, q=page.q))
    return render_template("anchor/payables.html", rows=page.items, page=page, days=days,
                           total=total, whereabouts=found)


@bp.route("/payables/<int:invoice_id>/pay", methods=["GET", "POST"])
@roles_required("anchor")
def pay(invoice_id: int):
    firm = own_firm()
    invoice = db().get(Invoice, invoice_id)
    if invoice is None or invoice.buyer_id != firm.id:
        raise NotFound(_("That invoice does not exist or is not owed by your firm."))
    outstanding = invoice.amount_fen - invoice.paid_fen
    form = PaymentForm()
    if request.method == "GET":
        form.amount.data = yuan(outstanding)
        form.paid_on.data = clock.today()
    status = 200
    if form.validate_on_submit():   # every field checked at once, the amount's words too
        amount = parse_yuan(form.amount.data)
        try:
            done = payments.record_invoice_payment(
                session=db(), payer_id=firm.id, invoice_id=invoice_id, amount_fen=amount,
                paid_on=form.paid_on.data, reference=form.reference.data,
                today=clock.today(), refuse=_issued_as_voucher, sweep=anchor_payment,
                recorded_by=current_user_obj().id)
        except (ValidationError, Conflict) as exc:
            db().rollback()
            attach_error(form, exc, "reference")
            status = 422 if isinstance(exc, ValidationError) else 409
        else:
            audit("invoice.pay", "invoice", invoice_id, payment_id=done.payment.id,
                  amount_fen=amount,
                  swept_loan=done.swept.loan_id if done.swept is not None else None)
            commit()
            if done.swept is not None:
                # how the ledger split it: the loan first, what exceeded it is owed on
                # to the vendor (as booked in the repayment's journal entry)
                to_vendor = surplus_of_repayment(session=db(),
                                                 entry_id=done.swept.entry_id,
                                                 loan_id=done.swept.loan_id)
                to_loan = done.swept.amount_fen - to_vendor
                if to_vendor:
                    flash(_("Payment recorded: %(loan)s repaid the loan financing this "
                            "invoice, the remaining %(rest)s is paid on to the vendor.",
                            loan=money(to_loan), rest=money(to_vendor)), "success")
                else:
                    flash(_("Payment recorded: all %(loan)s went to the loan financing "
                            "this invoice; nothing is left over for the vendor.",
                            loan=money(to_loan)), "success")
            else:
                flash(_("Payment recorded."), "success")
            return redirect(url_for("anchor.payables"), code=303)
    elif request.method == "POST":
        status = 422
    seller = db().get(Firm, invoice.seller_id)
    return render_template("anchor/pay.html", form=form, invoice=invoice, seller=seller,
                           outstanding=outstanding,
                           loans=_loans_for(db(), invoice.id)), status
