"""The vendor's invoices and orders: status, chain proof, entry by form and upload."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import select

from trellis import clock
from trellis.errors import Conflict, ValidationError, ValidationErrors
from trellis.ledger import claims
from trellis.onboarding import trade_entry, upload_reports
from trellis.paging import paginate
from trellis.platform.i18n import render
from trellis.platform.paging import args as paging_args
from trellis.platform.vendor_portal.blueprint import bp
from trellis.platform.vendor_portal.common import (
    ambiguity,
    attach_error,
    doc_state,
    own_firm,
    proof_state,
    read_here,
    refused_fields,
    state_for,
    tier2_buyers,
)
from trellis.platform.vendor_portal.forms import InvoiceForm, OrderForm, UploadForm
from trellis.platform.web import audit, commit, db, roles_required, settings
from trellis.trade import maturity
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder
from trellis.vouchers.models import Voucher

# "unconfirmable": waiting, but on a buyer that is no anchor firm (nobody confirms it);
# "pending" lists only what an anchor firm can still confirm.
STATUSES = ("all", "pending", "unconfirmable", "confirmed", "rejected")


def _buyer_options(firm) -> list[tuple[str, bool]]:
    """The buyer box's list: (the entry that names a buyer, whether it is an anchor firm),
    anchors first. The browser narrows it as the vendor types a part of a name or USCC."""
    return [(trade_entry.buyer_entry(b), b.role == "anchor")
            for b in trade_entry.buyers_for(session=db(), firm=firm)]


@bp.get("/trade")
@roles_required("vendor")
def trade():
    firm = own_firm()
    kind = request.args.get("kind", "invoice")
    kind = kind if kind in ("invoice", "order") else "invoice"
    status = request.args.get("status", "all")
    status = status if status in STATUSES else "all"
    model = Invoice if kind == "invoice" else PurchaseOrder
    day = Invoice.issue_date if kind == "invoice" else PurchaseOrder.order_date
    query = (select(model, Firm).join(Firm, Firm.id == model.buyer_id)
             .where(model.seller_id == firm.id))
    if status == "pending":
        query = query.where(model.status == status, Firm.role == "anchor")
    elif status == "unconfirmable":
        query = query.where(model.status == "pending", Firm.role != "anchor")
    elif status != "all":
        query = query.where(model.status == status)
    wanted = paging_args()
    if not wanted["sort"]:
        wanted["desc"] = "1"   # newest first unless the reader sorts
    page = paginate(db(), query, sort_columns={"date": day, "amount": model.amount_fen,
                                               "buyer": Firm.name, "number": model.number},
                    search_columns=(model.number, Firm.name), tiebreak=model.id, **wanted)
    buyers = sorted({buyer.id for doc, buyer in page.items
                     if doc_state(doc, buyer) == "unconfirmable"})
    ids = [doc.id for doc, _buyer in page.items]
    marks = claims.trade_marks(db(), firm_id=firm.id, as_of=clock.today(),
                               **{f"{kind}_ids": ids}) if ids else {}
    return render_template("vendor_portal/trade.html", kind=kind, status=status, rows=page.items,
                           page=page, statuses=STATUSES, doc_state=doc_state,
                           marks={i: m for (_k, i), m in marks.items()},
                           past_due=_past_due(page.items) if kind == "invoice" else set(),
                           vendor_buyers=tier2_buyers(firm, buyers) if buyers else [])


def _past_due(rows) -> set[int]:
    """Ids of the listed invoices that are past due (``maturity.is_past_due``): not
    refused by the buyer, and not issued as a voucher (paid at the voucher's maturity)."""
    today = clock.today()
    found = {doc.id for doc, _buyer in rows if doc.status != DocStatus.REJECTED
             and maturity.is_past_due(doc.due_date, today, doc.amount_fen - doc.paid_fen)}
    if found:
        found -= set(db().exec(select(Voucher.invoice_id).where(Voucher.invoice_id.in_(found))))
    return found


@bp.get("/trade/<kind>/<int:doc_id>")
@roles_required("vendor")
def document(kind: str, doc_id: int):
    firm = own_firm()
    model = {"invoice": Invoice, "order": PurchaseOrder}.get(kind)
    doc = db().get(model, doc_id) if model else None
    if doc is None or doc.seller_id != firm.id:
        abort(404)
    read_here()   # a buyer's decision on it
    buyer = db().get(Firm, doc.buyer_id)
    state = doc_state(doc, buyer)
    # one trade: the order an invoice came from, the invoices an order became, the voucher
    # an invoice was issued as (whose maturity, not the invoice's, is when it is paid)
    if kind == "invoice":
        order = db().get(PurchaseOrder, doc.order_id) if doc.order_id else None
        related = [order] if order is not None and order.seller_id == firm.id else []
        voucher = db().exec(select(Voucher).where(Voucher.invoice_id == doc.id)).first()
    else:
        related = list(db().exec(select(Invoice).where(Invoice.order_id == doc.id,
                                                      Invoice.seller_id == firm.id)
                                 .order_by(Invoice.id)))
        voucher = None
    marks = claims.trade_marks(db(), firm_id=firm.id, as_of=clock.today(),
                               **{f"{kind}_ids": [doc.id]})
    return render_template("vendor_portal/document.html", kind=kind, doc=doc, buyer=buyer,
                           proof=proof_state(kind, doc.id), state=state, related=related,
                           voucher=voucher, mark=marks.get((kind, doc.id)),
                           vendor_buyers=tier2_buyers(firm, [buyer.id])
                           if state == "unconfirmable" else [])


@bp.route("/trade/invoices/new", methods=["GET", "POST"])
@roles_required("vendor")
def new_invoice():
    firm = own_firm()
    form = InvoiceForm()
    status, refused = 200, None
    if form.validate_on_submit():
        try:
            invoice = trade_entry.add_invoice(
                session=db(), firm=firm, buyer_id=form.buyer.data, number=form.number.data,
                amount_fen=form.amount.fen, issue_date=form.issue_date.data,
                due_date=form.due_date.data, order_number=form.order_number.data)
        except (ValidationError, Conflict) as exc:
            db().rollback()
            refused = exc
            status = 422 if isinstance(exc, ValidationError) else 409
        else:
            audit("invoice.create", "invoice", invoice.id, number=invoice.number,
                  amount_fen=invoice.amount_fen)
            commit()
            _flash_saved(invoice, "invoice", trade_entry.cannot_finance(invoice))
            return redirect(url_for("vendor.trade", kind="invoice"), code=303)
    elif request.method == "POST":
        status = 422
        # the form refused some fields: the core checks the others, so that every bad
        # field says so at once (reader Q3, tenth session)
        if (skip := refused_fields(form)) is not None:
            refused = _all_of(trade_entry.invoice_problems(
                session=db(), firm=firm, buyer_id=form.buyer.data, number=form.number.data,
                issue_date=form.issue_date.data, due_date=form.due_date.data,
                order_number=form.order_number.data, skip=skip))
    if refused is not None:
        attach_error(form, refused, "number")
    return render_template("vendor_portal/invoice_form.html", form=form,
                           buyers=_buyer_options(firm), picks=ambiguity(refused)), status


def _all_of(problems: list[ValidationError]) -> ValidationErrors | None:
    return ValidationErrors(problems) if problems else None


def _flash_saved(doc, kind: str, unfinanceable=None) -> None:
    """Tell the vendor the document of *kind* ("invoice" or "order") is saved, to which
    buyer (a typed name may have matched a fragment), and, as the list will show it
    (:func:`state_for`), whether an anchor can confirm it. *unfinanceable*: why the core
    says the invoice can never be financed (past due): then that, as a warning, not in
    green (reader 11, F1)."""
    buyer = db().get(Firm, doc.buyer_id)
    words = {"n": doc.number, "buyer": buyer.name if buyer else ""}
    if unfinanceable is not None:
        flash(_("Invoice %(n)s to %(buyer)s saved as trade history.", **words) + " "
              + render(unfinanceable), "warning")
        return
    if state_for(doc.status, buyer.role if buyer else "") == "unconfirmable":
        flash(_("Invoice %(n)s to %(buyer)s saved. Its buyer is not an anchor firm, so no "
                "one on Trellis can confirm it.", **words) if kind == "invoice" else
              _("Order %(n)s to %(buyer)s saved. Its buyer is not an anchor firm, so no one "
                "on Trellis can confirm it.", **words), "warning")
    else:
        flash(_("Invoice %(n)s to %(buyer)s saved; it waits for the buyer's confirmation.",
                **words) if kind == "invoice" else
              _("Order %(n)s to %(buyer)s saved; it waits for the buyer's confirmation.",
                **words), "success")


#: rows already recorded that an upload's message names one by one; the rest are counted
REPEATS_NAMED = 10


def _flash_repeated(result) -> None:
    """Name the rows of an upload that were identical to documents already recorded (not
    saved again), so a re-upload is never a silent no-op (reader 12, G7)."""
    for row, number in result.repeated[:REPEATS_NAMED]:
        flash(_("Row %(row)d: %(n)s is already recorded; it was not saved again.",
                row=row, n=number), "warning")
    if len(result.repeated) > REPEATS_NAMED:
        flash(_("%(more)d more rows are already recorded; they were not saved again.",
                more=len(result.repeated) - REPEATS_NAMED), "warning")


def _flash_uploaded(result) -> None:
    """Say what happens to the rows just saved: only an anchor firm confirms (确权), so rows
    sold to any other buyer are said to have no one to confirm them (as the list shows);
    invoices already due are said to be trade history that cannot be financed. Rows
    already recorded are named; with nothing saved there is no success message."""
    if not result.created:
        flash(_("Nothing was saved: every row of the file is already recorded."), "warning")
        _flash_repeated(result)
        return
    if result.past_due:
        flash(_("%(n)d of the invoices saved are already due: they are recorded as trade "
                "history and cannot be financed.", n=result.past_due), "warning")
    nobody = min(result.unconfirmable, result.created)
    if not nobody:
        flash(_("%(n)d rows saved; they wait for the buyer's confirmation.",
                n=result.created), "success")
    elif nobody == result.created:
        flash(_("%(n)d rows saved. Their buyers are not anchor firms, so no one on Trellis "
                "can confirm them.", n=result.created), "warning")
    else:
        flash(_("%(n)d rows saved: %(waiting)d wait for their buyer's confirmation; "
                "%(nobody)d are sold to buyers that are not anchor firms, so no one on "
                "Trellis can confirm them.", n=result.created,
                waiting=result.created - nobody, nobody=nobody), "warning")
    _flash_repeated(result)


@bp.route("/trade/orders/new", methods=["GET", "POST"])
@roles_required("vendor")
def new_order():
    firm = own_firm()
    form = OrderForm()
    status, refused = 200, None
    if form.validate_on_submit():
        try:
            order = trade_entry.add_order(session=db(), firm=firm, buyer_id=form.buyer.data,
                                          number=form.number.data, amount_fen=form.amount.fen,
                                          order_date=form.order_date.data)
        except (ValidationError, Conflict) as exc:
            db().rollback()
            refused = exc
            status = 422 if isinstance(exc, ValidationError) else 409
        else:
            audit("order.create", "order", order.id, number=order.number,
                  amount_fen=order.amount_fen)
            commit()
            _flash_saved(order, "order")
            return redirect(url_for("vendor.trade", kind="order"), code=303)
    elif request.method == "POST":
        status = 422
        if (skip := refused_fields(form)) is not None:   # as for an invoice
            refused = _all_of(trade_entry.order_problems(
                session=db(), firm=firm, buyer_id=form.buyer.data, number=form.number.data,
                order_date=form.order_date.data, skip=skip))
    if refused is not None:
        attach_error(form, refused, "number")
    return render_template("vendor_portal/order_form.html", form=form,
                           buyers=_buyer_options(firm), picks=ambiguity(refused)), status


@bp.route("/trade/upload", methods=["GET", "POST"])
@roles_required("vendor")
def upload():
    firm = own_firm()
    form = UploadForm()
    problems = []
    total, report = 0, None
    status = 200
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            result = trade_entry.upload(session=db(), firm=firm, kind=form.kind.data, data=data,
                                        filename=form.file.data.filename or "")
        except trade_entry.UploadRefused as exc:
            db().rollback()
            total = len(exc.problems)
            problems = exc.problems[:upload_reports.SHOWN]
            if total > len(problems):
                report = upload_reports.save(settings().instance_path, firm.id, exc.problems)
            form.file.errors = [*form.file.errors, _("%(n)d problem(s) found; nothing was "
                                                     "saved. Fix them and upload again.",
                                                     n=total)]
            status = 422
        except ValidationError as exc:
            db().rollback()
            attach_error(form, exc, "file")
            status = 422
        else:
            audit("trade.upload", "firm", firm.id, kind=result.kind, created=result.created,
                  filename=form.file.data.filename or "")
            commit()
            _flash_uploaded(result)
            return redirect(url_for("vendor.trade", kind=result.kind.rstrip("s")), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("vendor_portal/upload.html", form=form, problems=problems, total=total,
                           report=report, limit_mb=trade_entry.MAX_UPLOAD // 1_048_576), status


@bp.get("/trade/upload/report/<token>.csv")
@roles_required("vendor")
def upload_report(token: str):
    body = upload_reports.load(settings().instance_path, own_firm().id, token)
    if body is None:
        abort(404)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="trellis-upload-problems.csv"'})


@bp.get("/trade/template/<kind>.csv")
@roles_required("vendor")
def upload_template(kind: str):
    if kind not in trade_entry.COLUMNS:
        abort(404)
    firm = own_firm()
    buyers = trade_entry.buyers_for(session=db(), firm=firm)
    text = trade_entry.template_csv(kind, firm, buyers[0] if buyers else None)
    return Response("\ufeff" + text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="trellis-{kind}.csv"'})
