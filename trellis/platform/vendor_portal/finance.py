"""Apply -> offer -> accept, loans and repayments, on the ledger's services.

The offer page shows the annualised rate (IRR including every fee) most prominently,
the total cost in yuan, the schedule and the cooling-off right, with the fraud warnings
for the moment ("Trellis never asks for a fee before a loan"); accepting is a recorded
click (audit trail). Repaying shows the platform's settlement account and the warnings,
refuses any other payee account, and uses a one-time key so a double-submitted form
repays once.
"""

from __future__ import annotations

import secrets
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import select

from trellis import clock
from trellis.accounts import services as accounts
from trellis.chain import registry as chain_registry
from trellis.errors import TrellisError, ValidationError
from trellis.ledger import claims, cooling, financeable, lifecycle, payouts, quoting
from trellis.ledger.errors import OfferAboveCap
from trellis.ledger.lifecycle import repay as ledger_repay
from trellis.ledger.models import (
    Application,
    Loan,
    LoanDocument,
    Offer,
    OfferStatus,
    Product,
    Repayment,
)
from trellis.ledger.origination import accept_offer, open_offer, review_topics
from trellis.ledger.origination import apply as ledger_apply
from trellis.ledger.replay import daily_interest
from trellis.messages import Message
from trellis.paging import paginate
from trellis.platform.i18n import error_text, money
from trellis.platform.paging import args as paging_args
from trellis.platform.vendor_portal.blueprint import bp
from trellis.platform.vendor_portal.common import (
    AmountTooLarge,
    attach_error,
    current_user_obj,
    own_firm,
    parse_yuan,
    read_here,
    tier2_buyers,
    yuan,
)
from trellis.platform.vendor_portal.forms import AcceptForm, ApplyForm, RepayForm
from trellis.platform.vendor_portal.payout_views import payout_context
from trellis.platform.vendor_portal.profile_views import warnings_for
from trellis.platform.web import audit, commit, db, roles_required
from trellis.platform.words import loan_products
from trellis.protection import bank, notifications, payout
from trellis.protection import warnings as fraud
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder
from trellis.vouchers import financing
from trellis.vouchers.financing import fragment_for_application
from trellis.vouchers.models import Voucher
from trellis.vouchers.naming import part_name


def live_loans(firm_id: int) -> list:
    return list(db().exec(select(Loan).where(Loan.firm_id == firm_id,
                                             Loan.status.in_(["pending", "active", "overdue"]))
                          .order_by(Loan.due_date, Loan.id)))


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


ELIGIBLE_SHOWN = 300   # documents offered for one application; a search finds the others


def _eligible(firm: Firm, kind: str) -> tuple[list, int]:
    """Confirmed documents the firm could finance now (not due, unpaid, not financed, not
    issued as a voucher, never registered for financing before; an order not yet
    invoiced)."""
    open_loans = select(Loan.id).where(Loan.status.in_(["pending", "active", "overdue"]))
    today = clock.today()
    if kind == "invoice":   # the ledger's rule (the assistant's figure comes from it too)
        query = financeable.invoice_candidates(firm_id=firm.id, as_of=today).where(
            Invoice.id.not_in(select(Voucher.invoice_id)))
    else:
        financed = select(LoanDocument.order_id).where(
            LoanDocument.loan_id.in_(open_loans), LoanDocument.order_id.is_not(None))
        query = (select(PurchaseOrder, Firm).join(Firm, Firm.id == PurchaseOrder.buyer_id)
                 .where(PurchaseOrder.seller_id == firm.id,
                        PurchaseOrder.status == DocStatus.CONFIRMED,
                        PurchaseOrder.id.not_in(financed),
                        PurchaseOrder.id.not_in(claims.invoiced_order_ids()),
                        PurchaseOrder.id.not_in(chain_registry.registered_subjects("order")))
                 .order_by(PurchaseOrder.order_date.desc()))
    text = request.args.get("q", "").strip()[:100]
    if text:   # a number or a buyer's name
        model = Invoice if kind == "invoice" else PurchaseOrder
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(model.number.ilike(pattern, escape="\\")
                            | Firm.name.ilike(pattern, escape="\\"))
    total = db().execute(select(func.count()).select_from(
        query.order_by(None).subquery())).scalar_one()
    return list(db().exec(query.limit(ELIGIBLE_SHOWN)).all()), int(total)


@bp.route("/apply", methods=["GET", "POST"])
@roles_required("vendor")
def apply():
    firm = own_firm()
    if not accounts.has_consent(session=db(), firm_id=firm.id, purpose="trade_data"):
        flash(_("Trellis needs your consent to use your trade records before it can decide "
                "on financing."), "warning")
        return redirect(url_for("vendor.consent", next=url_for("vendor.apply")), code=303)
    form = ApplyForm()
    if request.method == "GET" and request.args.get("product") in ("RF-STD", "OF-STD"):
        form.product.data = request.args["product"]
    kind = "order" if (form.product.data or "RF-STD") == "OF-STD" else "invoice"
    picked = [i for i in request.form.getlist("doc_ids")] if request.method == "POST" else []
    docs_error = None
    status = 200
    if form.validate_on_submit():
        ids: list[int] = []
        try:
            ids = [int(x) for x in picked]
        except ValueError:
            docs_error = _("Choose documents from the list.")
        amount = None
        if form.amount.data and form.amount.data.strip():
            try:
                amount = parse_yuan(form.amount.data)
            except AmountTooLarge:   # the ledger then says the most these documents allow
                amount = AmountTooLarge.FEN
            except Exception as exc:  # wtforms ValidationError
                form.amount.errors = [*form.amount.errors, str(exc)]
        if not ids and docs_error is None:
            docs_error = _("Choose at least one confirmed document to finance.")
        if docs_error is None and not form.amount.errors:
            try:
                app = ledger_apply(session=db(), firm_id=firm.id, product_code=form.product.data,
                                   invoice_ids=ids if kind == "invoice" else (),
                                   order_ids=ids if kind == "order" else (), amount_fen=amount,
                                   applied_by=current_user.id)
            except (ValidationError, OfferAboveCap) as exc:
                db().rollback()   # nothing was filed (above the cap: refused before filing)
                if getattr(exc, "field", None) == "amount_fen":
                    form.amount.errors = [*form.amount.errors, error_text(exc)]
                else:
                    docs_error = error_text(exc)
            else:
                audit("application.submit", "application", app.id, product=form.product.data,
                      documents=ids, requested_fen=app.requested_fen, status=app.status)
                commit()
                return redirect(url_for("vendor.application", application_id=app.id), code=303)
        status = 422
    elif request.method == "POST":
        status = 422
    docs, total = _eligible(firm, kind)
    # what happens to an application of this product: an offer at once up to its automatic
    # approval limit (grades it approves, no warning), else a relationship manager decides
    product = db().exec(select(Product).where(
        Product.code == ("OF-STD" if kind == "order" else "RF-STD"))).first()
    # documents a live application already asks for: marked with it, not selectable (the
    # ledger refuses them anyway: one document, one live application)
    claimed = {ident: app.id for (what, ident), app in claims.claimed_documents(
        db(), firm_id=firm.id, as_of=clock.today()).items() if what == kind}
    # what the eligible invoices would advance now (the figure the assistant gives)
    grade = quoting.expected_grade(session=db(), firm_id=firm.id, as_of=clock.today()) \
        if kind == "invoice" else None
    now = (financeable.financeable_now(session=db(), firm_id=firm.id, product=product,
                                       as_of=clock.today(), grade=grade)
           if kind == "invoice" and product is not None else None)
    priced = _priced(docs, product, grade) if kind == "invoice" and product else {}
    return render_template("vendor_portal/apply.html", form=form, kind=kind, docs=docs,
                           product=product, claimed=claimed, financeable_now=now,
                           total=total, q=request.args.get("q", "").strip()[:100],
                           grade=grade,
                           terms={i: p for i, p in priced.items() if not isinstance(p, Message)},
                           unpriceable={i: p for i, p in priced.items()
                                        if isinstance(p, Message)},
                           trade_marks=_trade_marks(firm, kind, docs),
                           refused=claims.refused_invoice_notes(
                               db(), [d.id for d, _b in docs]) if kind == "order" else {},
                           picked=set(picked), docs_error=docs_error,
                           vendor_buyers=tier2_buyers(firm)), status


def _trade_marks(firm: Firm, kind: str, docs) -> dict:
    """Document id -> why it cannot be financed through the other document of its trade
    ("its invoice was turned into a voucher"; the ledger's claims decide)."""
    ids = [d.id for d, _buyer in docs]
    if not ids:
        return {}
    marks = claims.trade_marks(db(), firm_id=firm.id, as_of=clock.today(),
                               **{f"{kind}_ids": ids})
    return {ident: mark for (_kind, ident), mark in marks.items()}


def _priced(docs, product: Product, grade: str | None) -> dict:
    """Invoice id -> what financing it on its own gives and costs at the firm's *grade*
    (``quoting.Priced``: received, fee, interest, annualised rate), or why it cannot be
    priced under the legal cap (a message); the ledger's one pricing decides, the one
    ``origination.apply`` and the offer use."""
    today = clock.today()
    out = {}
    for invoice, _buyer in docs:
        found = quoting.invoice_terms(session=db(), product=product, grade=grade,
                                      open_fen=invoice.amount_fen - invoice.paid_fen,
                                      due_date=invoice.due_date, as_of=today)
        if found is not None:
            out[invoice.id] = found
    return out


def _application_or_404(application_id: int):
    app = db().get(Application, application_id)
    if app is None or app.firm_id != own_firm().id:
        abort(404)
    return app


@bp.get("/applications")
@roles_required("vendor")
def applications():
    firm = own_firm()
    wanted = paging_args()
    if not wanted["sort"]:
        wanted["desc"] = "1"   # newest first unless the reader sorts
    page = paginate(db(), select(Application).where(Application.firm_id == firm.id),
                    sort_columns={"id": Application.id, "amount": Application.requested_fen,
                                  "date": Application.as_of},
                    tiebreak=Application.id, **wanted)
    rows = [r[0] for r in page.items]
    # signed, but the loan was refused at pay-out: the list says so next to 已接受
    cancelled = set(db().exec(select(Loan.application_id).where(
        Loan.application_id.in_([a.id for a in rows]), Loan.status == "cancelled")).all())
    return render_template("vendor_portal/applications.html", rows=rows, page=page,
                           cancelled=cancelled)


@bp.get("/applications/<int:application_id>")
@roles_required("vendor")
def application(application_id: int):
    app = _application_or_404(application_id)
    read_here()   # its decision and offer messages
    return _application_page(app, AcceptForm())


def _application_page(app, form, status: int = 200):
    offer = open_offer(db(), app.id)
    account = payout.current(session=db(), firm_id=app.firm_id)
    if account is not None:
        # accepting consents to this account: the core refuses if it changed meanwhile
        form.payout_account_id.data = str(account.id)
    product = db().get(Product, app.product_id)
    loan = db().exec(select(Loan).where(Loan.application_id == app.id)).first()
    fragment = fragment_for_application(session=db(), application_id=app.id)

    documents = [(_("Invoice"), d.number, d.amount_fen) for d in (
        db().get(Invoice, i) for i in app.invoice_ids or ()) if d is not None]
    documents += [(_("Order"), d.number, d.amount_fen) for d in (
        db().get(PurchaseOrder, i) for i in app.order_ids or ()) if d is not None]
    return render_template(
        "vendor_portal/application.html", app=app, offer=offer, product=product, loan=loan,
        fragment=fragment, fragment_name=part_name(db(), fragment.id) if fragment else None,
        fragment_label=part_name(db(), fragment.id, detail=False) if fragment else None,
        form=form, warnings=warnings_for("offer"), documents=documents,
        payout_account=account,
        payout_label=payout.label,
        fragment_voucher=db().get(Voucher, fragment.voucher_id) if fragment else None,
        today=clock.today(), review_topics=review_topics(app),
        # the interest as the page states it: a day's interest rounded to the fen, times
        # the days (reader 12, G15: "rate / 360" alone did not give ¥866.84)
        daily_fen=daily_interest(offer.amount_fen, offer.rate_micro, product.day_count)
        if offer else None), status


@bp.post("/applications/<int:application_id>/accept")
@roles_required("vendor")
def accept(application_id: int):
    app = _application_or_404(application_id)
    offer = open_offer(db(), app.id)
    form = AcceptForm()
    if offer is None:
        abort(404)
    if not form.validate_on_submit():
        return _application_page(app, form, 422)
    if offer.status == OfferStatus.SUPERSEDED:
        # void since another loan paid out: the page says so and offers no button
        flash(_("This offer is void; nothing changed."), "warning")
        return redirect(url_for("vendor.application", application_id=app.id), code=303)
    if offer.status != OfferStatus.OPEN:
        # the same offer accepted again (another tab, a double click): the loan it made
        flash(_("This offer was already accepted; nothing changed."), "warning")
        made = db().exec(select(Loan.id).where(Loan.offer_id == offer.id)).first()
        if made is not None:
            return redirect(url_for("vendor.loan", loan_id=made), code=303)
        return redirect(url_for("vendor.application", application_id=app.id), code=303)
    try:
        seen = _seen_account(form.payout_account_id.data)
        if financing.fragment_for_application(session=db(), application_id=app.id):
            loan = financing.accept(session=db(), holder_id=app.firm_id, offer_id=offer.id,
                                    user=current_user_obj(), payout_account_id=seen)
        else:
            loan = accept_offer(session=db(), offer_id=offer.id, user_id=current_user.id,
                                payout_account_id=seen)
    except TrellisError as exc:
        db().rollback()
        # above the page, not beside the form: an offer taken in another tab meanwhile
        # leaves no accept form to show the reason next to
        flash(error_text(exc), "error")
        return _application_page(app, form, exc.status)
    audit("offer.accept", "offer", offer.id, application_id=app.id, loan_id=loan.id,
          payout_account_id=getattr(loan, "payout_account_id", None),
          amount_fen=offer.amount_fen, apr=str(offer.apr), total_cost_fen=offer.total_cost_fen,
          cooling_off_days=offer.cooling_off_days, read_terms=True)
    notifications.read_about(session=db(), user_id=current_user.id,   # signed: read
                             link=url_for("vendor.application", application_id=app.id))
    commit()
    flash(_("Accepted. The money is paid out once the invoice is registered against double "
            "financing; you will see it under Loans."), "success")
    return redirect(url_for("vendor.loan", loan_id=loan.id), code=303)


def _seen_account(raw: str | None) -> int | None:
    """The payout account id the offer page showed (None when the form did not say)."""
    return int(raw) if raw and raw.isdigit() else None


# --- loans --------------------------------------------------------------------------------

def _loan_or_404(loan_id: int):
    loan = db().get(Loan, loan_id)
    if loan is None or loan.firm_id != own_firm().id:
        abort(404)
    return loan


def cooling_off_until(loan) -> date | None:
    return cooling.window_end(loan)


@bp.get("/loans")
@roles_required("vendor")
def loans():
    firm = own_firm()
    wanted = paging_args()
    if not wanted["sort"]:
        wanted["desc"] = "1"   # newest first unless the reader sorts
    page = paginate(db(), select(Loan).where(Loan.firm_id == firm.id),
                    sort_columns={"id": Loan.id, "lent": Loan.amount_fen, "due": Loan.due_date},
                    tiebreak=Loan.id, **wanted)
    # A written-off loan is still owed by the borrower: the ledger says how much.
    outstanding = lifecycle.firm_owed_by_borrower(db(), firm.id)
    rows = [r[0] for r in page.items]
    return render_template("vendor_portal/loans.html", rows=rows, page=page,
                           products=loan_products(rows),
                           today=clock.today(), cooling=cooling_off_until,
                           outstanding=outstanding, owed=lifecycle.owed_by_borrower,
                           dpd=lifecycle.borrower_dpd)


@bp.get("/loans/<int:loan_id>")
@roles_required("vendor")
def loan(loan_id: int):
    row = _loan_or_404(loan_id)
    read_here()
    repayments = db().exec(select(Repayment).where(Repayment.loan_id == row.id)
                           .order_by(Repayment.paid_on, Repayment.id)).all()
    offer = db().get(Offer, row.offer_id) if row.offer_id else None
    return render_template("vendor_portal/loan.html", loan=row, repayments=repayments,
                           cooling_until=cooling_off_until(row), today=clock.today(),
                           cooling_payoff=_repay_amount(row),
                           offer=offer, owed=lifecycle.owed_by_borrower(row),
                           product=loan_products([row])[row.id],
                           surplus=payouts.loan_surplus(session=db(), loan_id=row.id),
                           days_overdue=lifecycle.borrower_dpd(row, clock.today()),
                           statements=has_endpoint("ledger.loan_statement"),
                           **payout_context(row))


def _repay_amount(loan) -> int:
    """The suggested payment: what closes the loan under the cooling-off right (the
    ledger's rule, counting money already paid in the window), else what is owed."""
    payoff = cooling.payoff_in_window(session=db(), loan=loan, on=clock.today())
    return loan.outstanding_fen if payoff is None else payoff


@bp.route("/loans/<int:loan_id>/repay", methods=["GET", "POST"])
@roles_required("vendor")
def repay(loan_id: int):
    row = _loan_or_404(loan_id)
    if request.method == "GET" and row.status not in ("active", "overdue"):
        # a settled, cancelled or unpaid loan takes no repayment (the ledger refuses one):
        # no form asking for ¥0.00 (reader 12b, H14)
        flash(_("Loan %(n)d takes no repayment now: its page says where it stands.",
                n=row.id), "info")
        return redirect(url_for("vendor.loan", loan_id=row.id), code=303)
    firm = own_firm()
    form = RepayForm()
    if request.method == "GET":
        form.amount.data = yuan(_repay_amount(row))
        form.key.data = secrets.token_urlsafe(16)
    status = 200
    if form.validate_on_submit():
        # what the firm was already owed back from this loan, to tell an overpayment apart
        owed_back = payouts.owed_by_loan(session=db(), firm_id=row.firm_id).get(row.id, 0)
        try:
            bank.check_repayment_account(session=db(), account=form.payee_account.data)
            rep = ledger_repay(session=db(), loan_id=row.id, amount_fen=form.amount.fen,
                               paid_on=clock.today(),
                               idempotency_key=f"vendor-repay:{row.id}:{form.key.data}",
                               source="vendor", recorded_by=current_user.id)
        except TrellisError as exc:
            db().rollback()
            if exc.code == "not_platform_account":
                audit("repayment.refused_foreign_account", "loan", row.id)
                commit()
            attach_error(form, exc, "amount")
            status = exc.status
        else:
            audit("loan.repay", "loan", row.id, repayment_id=rep.id, amount_fen=rep.amount_fen)
            commit()
            db().refresh(row)
            extra = payouts.owed_by_loan(session=db(), firm_id=row.firm_id).get(row.id, 0) \
                - owed_back
            if extra > 0:
                # an overpayment (in the cooling-off window too): say how much, that it is
                # the firm's, and how it comes back
                flash(_("You paid %(paid)s, %(extra)s more than the loan owed. The loan is "
                        "settled, and the %(extra)s is your firm's: your relationship manager "
                        "returns it to your firm's registered account. The loan's statement "
                        "shows it as owed to you until then.", paid=money(rep.amount_fen),
                        extra=money(extra)), "warning")
            if row.status == "cooled_off":
                flash(_("Repaid within the cooling-off period: no interest and no fees."),
                      "success")
            elif extra <= 0:
                flash(_("Repayment of %(a)s recorded.", a=f"¥{rep.amount_fen / 100:,.2f}"),
                      "success")
            return redirect(url_for("vendor.loan", loan_id=row.id), code=303)
    elif request.method == "POST":
        status = 422
        if getattr(form.amount, "too_large", False):   # say what is owed, not only "too large"
            # the figure the page heads with (reader 12, G3: it named the cooling-off
            # payoff, a third amount beside "owed now" and the box)
            form.amount.errors = [_("That amount is too large: this loan owes %(owed)s "
                                    "today.", owed=money(row.outstanding_fen))]
    rules = fraud.policy(session=db())
    return render_template("vendor_portal/repay.html", loan=row, form=form,
                           warnings=warnings_for("repayment", firm),
                           account=rules.settlement_account,
                           account_name=rules.settlement_account_name,
                           bank=rules.settlement_bank,
                           cooling_until=cooling_off_until(row), today=clock.today(),
                           suggested=_repay_amount(row)), status
