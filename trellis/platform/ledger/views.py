"""Pages of the ledger area.

* ``/ledger/`` the RM's loan book: applications waiting for a decision, loans by status
  and by days-past-due bucket (RM: their clusters; admin and auditor: all).
* ``/ledger/applications/<id>`` score, reasons, flags, decisions, offer; approve or
  decline (maker-checker above the product's amount).
* ``/ledger/loans/<id>`` a loan: terms, balances, schedule, movements, journal postings.
* ``/ledger/loans/<id>/statement`` (+ ``.csv``, ``.pdf``) the vendor statement.
* ``/ledger/loans/<id>/payout`` (POST, admin and RM) pays out the surplus owed to the
  loan's firm (all its loans), as :func:`trellis.ledger.payouts.pay_out_surplus`.
* ``/ledger/my`` a vendor's own applications, offers and loans; ``/ledger/offers/<id>``
  the offer disclosure and the vendor's acceptance.
* ``/ledger/trial-balance`` for admins and auditors.

Vendors see only their firm's records; an RM only the firms of their clusters.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import aliased

from trellis import clock
from trellis.accounts.models import User
from trellis.errors import NotFound, TrellisError
from trellis.ledger import (
    claims,
    lifecycle,
    loan_journal,
    origination,
    payouts,
    pricing,
    reports,
    statement,
)
from trellis.ledger.models import (
    Application,
    ApplicationStatus,
    Decision,
    Loan,
    LoanStatus,
    Offer,
    Product,
    Repayment,
)
from trellis.messages import N_, Message
from trellis.paging import paginate
from trellis.platform.i18n import error_text, money, render
from trellis.platform.ledger.forms import AcceptForm, DecisionForm, PayoutForm
from trellis.platform.paging import args as paging_args
from trellis.platform.web import (
    audit,
    commit,
    db,
    firm_visible,
    roles_required,
    user_role,
    visible_cluster_ids,
)
from trellis.platform.words import loan_products, word
from trellis.protection import payout as payout_accounts
from trellis.protection.models import PayoutAccount
from trellis.trade.models import Firm, Invoice, PurchaseOrder
from trellis.vouchers.models import Voucher, VoucherFragment, financing_product
from trellis.vouchers.naming import part_names

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


@bp.app_template_global("overdue_rate")
def overdue_rate(rate_micro: int, penalty_micro: int) -> str:
    """The rate past the due date, stated one way on every page (the whole annual rate,
    its parts in brackets: :func:`trellis.ledger.pricing.overdue_rate`)."""
    return render(pricing.overdue_rate(int(rate_micro), int(penalty_micro)))
STAFF = ("admin", "rm", "auditor")
DECIDERS = ("admin", "rm")
BUCKETS = lifecycle.BUCKETS


def today() -> date:
    return clock.today()


# One alias for every request: a new alias each time costs SQLAlchemy the adaptation of
# its columns and a fresh cache key for each statement that uses it (a quarter of the loan
# book's time on the demo).
_VISIBLE_FIRM = aliased(Firm, name="visible_firm")


def _visible(stmt, firm_col):
    clusters = visible_cluster_ids()
    if clusters is None:
        return stmt
    # Each row's firm looked up by its key (a cluster has thousands of firms and the
    # lists only some rows: the firm ids of the whole cluster are not gathered first).
    firm = _VISIBLE_FIRM
    return stmt.where(exists(select(1).select_from(firm).where(
        firm.id == firm_col, firm.cluster_id.in_(clusters))))


def bucket_case(as_of: date):
    """SQL CASE giving the DPD bucket of a loan on *as_of* from its due date."""
    return case(
        (Loan.due_date >= as_of, "current"),
        (Loan.due_date >= as_of - timedelta(days=30), "1-30"),
        (Loan.due_date >= as_of - timedelta(days=60), "31-60"),
        (Loan.due_date >= as_of - timedelta(days=90), "61-90"),
        else_="90+")


def _loan_or_404(loan_id: int) -> Loan:
    loan = db().get(Loan, loan_id)
    if loan is None or not firm_visible(loan.firm_id):
        raise NotFound(_("No loan %(id)s.", id=loan_id))
    return loan


def _review_query():
    return _visible(
        select(Application, Firm, Product).join(Firm, Firm.id == Application.firm_id)
        .join(Product, Product.id == Application.product_id)
        .where(Application.status.in_([ApplicationStatus.REVIEW,
                                       ApplicationStatus.SECOND_APPROVAL])), Application.firm_id)


REVIEW_SORTS = {"id": Application.id, "amount": Application.requested_fen, "firm": Firm.name}


@bp.get("/")
@roles_required(*STAFF)
def index():
    as_of = today()
    owed = Loan.principal_fen + Loan.interest_fen + Loan.penalty_fen + Loan.fees_fen
    # the oldest few waiting applications; all of them, searchable, on their own list
    review = paginate(db(), _review_query(), sort_columns=REVIEW_SORTS, per_page=10,
                      tiebreak=Application.id)
    live = [s.value for s in (LoanStatus.ACTIVE, LoanStatus.OVERDUE)]
    bucket = bucket_case(as_of)
    # loans by status, and the live ones by days-past-due bucket, in one grouped read
    by_status: dict[str, int] = {}
    by_bucket: dict[str, tuple[int, int]] = {}
    for status, in_bucket, n, total in db().execute(_visible(
            select(Loan.status, bucket, func.count(), func.sum(owed))
            .group_by(Loan.status, bucket), Loan.firm_id)):
        by_status[status] = by_status.get(status, 0) + n
        if status in live:
            count, owed_fen = by_bucket.get(in_bucket, (0, 0))
            by_bucket[in_bucket] = (count + n, owed_fen + int(total or 0))
    status_filter = request.args.get("status", "")
    bucket_filter = request.args.get("bucket", "")
    query = _visible(select(Loan, Firm).join(Firm, Firm.id == Loan.firm_id), Loan.firm_id)
    if status_filter in {s.value for s in LoanStatus}:
        query = query.where(Loan.status == status_filter)
    else:
        status_filter = ""
    if bucket_filter in BUCKETS:
        query = query.where(Loan.status.in_(live), bucket == bucket_filter)
    else:
        bucket_filter = ""
    wanted = paging_args()
    if not wanted["sort"]:
        wanted["desc"] = "1"   # newest first unless the reader sorts
    # what the borrower owes, as each row shows it: a write-off clears the book's balance
    # columns, not the debt (lifecycle.owed_by_borrower)
    still = Loan.written_off_fen - Loan.recovered_fen
    owed_by_borrower = case((Loan.status != LoanStatus.WRITTEN_OFF, owed), (still > 0, still),
                            else_=0)
    page = paginate(db(), query, sort_columns={"id": Loan.id, "firm": Firm.name,
                                               "lent": Loan.amount_fen,
                                               "owed": owed_by_borrower,
                                               "due": Loan.due_date},
                    search_columns=(Firm.name, Firm.uscc), tiebreak=Loan.id, **wanted)
    params = {k: v for k, v in (("status", status_filter), ("bucket", bucket_filter)) if v}
    return render_template(
        "ledger/index.html", applications=[tuple(r) for r in review.items], review=review,
        by_status=by_status, by_bucket=by_bucket, buckets=BUCKETS,
        statuses=[s.value for s in LoanStatus], loans=[tuple(r) for r in page.items],
        page=page, params=params, status_filter=status_filter,
        bucket_filter=bucket_filter, as_of=as_of, dpd=lifecycle.dpd,
        borrower_dpd=lifecycle.borrower_dpd, owed_by=lifecycle.owed_by_borrower,
        bucket_of=lifecycle.bucket, can_decide=user_role() in DECIDERS)


@bp.get("/applications")
@roles_required(*STAFF)
def applications():
    """Every application waiting for a person: paged, searchable by firm, oldest first."""
    page = paginate(db(), _review_query(), sort_columns=REVIEW_SORTS,
                    search_columns=(Firm.name, Firm.uscc), tiebreak=Application.id,
                    **paging_args())
    return render_template("ledger/applications.html", applications=[tuple(r) for r in
                                                                     page.items], page=page)


def _application_or_404(application_id: int) -> Application:
    app = db().get(Application, application_id)
    if app is None or not firm_visible(app.firm_id):
        raise NotFound(_("No application %(id)s.", id=application_id))
    return app


@bp.get("/applications/<int:application_id>")
@roles_required(*STAFF)
def application(application_id: int):
    app = _application_or_404(application_id)

    decisions = db().scalars(select(Decision).where(Decision.application_id == app.id)
                             .order_by(Decision.id)).all()
    deciders = {u.id: (u.name or u.email) for u in db().scalars(select(User).where(
        User.id.in_({d.user_id for d in decisions if d.user_id is not None})))}
    can_decide = user_role() in DECIDERS and app.status in (
        ApplicationStatus.REVIEW, ApplicationStatus.SECOND_APPROVAL)
    first_approver = next((d.user_id for d in reversed(decisions) if d.action == "approve"),
                          None) if app.status == ApplicationStatus.SECOND_APPROVAL else None
    # what the firm owed and was promised without this application: as kept at the
    # decision once decided (its own offer or loan is not counted again), else today's
    at_decision = app.exposure_fen is not None
    exposure = app.exposure_fen if at_decision else origination.exposure_fen(
        db(), app.firm_id, without=app.id)
    unfinanceable = claims.unfinanceable(db(), app) if app.status in (
        ApplicationStatus.SUBMITTED, ApplicationStatus.REVIEW,
        ApplicationStatus.SECOND_APPROVAL, ApplicationStatus.APPROVED) else []
    can_approve = (can_decide and first_approver != current_user.id
                   and not unfinanceable)
    product = db().get(Product, app.product_id)
    product_name = product.name_zh if get_locale().language == "zh" else product.name
    if app.fragment_ids:   # voucher parts: the vendor applied for voucher financing
        product_name = render(financing_product(product_name))
    return render_template(
        "ledger/application.html", app=app, firm=db().get(Firm, app.firm_id),
        product=product, product_name=product_name, decisions=decisions, deciders=deciders,
        documents=_documents_of(app),
        # another live application or an open loan on one of its documents (one
        # document, one application, one loan): named and linked for the decider
        rivals=claims.rivals(db(), app, as_of=today()),
        # an order already invoiced (or paid), a document registered before: no loan can
        # be paid out on it, so no offer is shown and only declining is left
        unfinanceable=unfinanceable,
        # an order whose invoice the buyer rejected: still financeable, said with why
        refused=list(claims.refused_invoice_notes(db(), list(app.order_ids or ())).values()),
        offer=origination.open_offer(db(), app.id), form=DecisionForm(),
        exposure=exposure, exposure_after=exposure + app.requested_fen,
        at_decision=at_decision,
        can_decide=can_decide,
        can_approve=can_approve,
        # reader 10, R4: the decider reads the rate, fees and term before approving
        **_proposed(app, can_approve),
        risk_link=user_role() in DECIDERS,
        action_words={"auto_approve": _("approved automatically"),
                      "auto_decline": _("declined automatically"),
                      "refer": _("referred to a person"), "approve": _("approved"),
                      "decline": _("declined")})


def _describe_for_staff(line, lang: str) -> str:
    return statement.describe(line, lang, staff=True)


def _proposed(app, can_approve: bool) -> dict:
    """What approving would offer (``proposed``), priced as the approval prices it, or why
    no offer could be made (``proposed_why``): only for a person who may approve."""
    if not can_approve:
        return {"proposed": None, "proposed_why": None}
    terms = origination.proposed_terms(session=db(), application=app)
    if isinstance(terms, Message):
        return {"proposed": None, "proposed_why": terms}
    return {"proposed": terms, "proposed_why": None}


def _documents_of(app) -> list[dict]:
    """What the application finances, for the reviewer: invoices, orders, voucher parts."""
    session, rows = db(), []
    names = {}

    def buyer_name(firm_id: int) -> str:
        if firm_id not in names:
            firm = session.get(Firm, firm_id)
            names[firm_id] = firm.name if firm else str(firm_id)
        return names[firm_id]

    for inv in (session.get(Invoice, i) for i in app.invoice_ids or ()):
        if inv is not None:
            rows.append({"kind": _("Invoice"), "number": inv.number, "amount_fen": inv.amount_fen,
                         "counterparty": buyer_name(inv.buyer_id), "due": inv.due_date,
                         "status": inv.status})
    for order in (session.get(PurchaseOrder, i) for i in app.order_ids or ()):
        if order is not None:
            rows.append({"kind": _("Order"), "number": order.number,
                         "amount_fen": order.amount_fen,
                         "counterparty": buyer_name(order.buyer_id), "due": None,
                         "status": order.status})
    labels = part_names(session, app.fragment_ids or ())
    for ident in app.fragment_ids or ():
        part = session.get(VoucherFragment, ident)
        if part is not None:
            voucher = session.get(Voucher, part.voucher_id)
            label = render(labels[ident])
            rows.append({"kind": _("Voucher part"), "number": label,
                         "amount_fen": part.amount_fen,
                         "counterparty": buyer_name(voucher.issuer_id) if voucher else "",
                         "due": voucher.maturity_date if voucher else None,
                         "status": part.status})
    return rows


@bp.post("/applications/<int:application_id>/decide")
@roles_required(*DECIDERS)
def decide(application_id: int):
    app = _application_or_404(application_id)
    form = DecisionForm()
    back = redirect(url_for(".application", application_id=app.id))
    if not form.validate_on_submit():
        flash(_("The form expired or was incomplete; try again."), "error")
        return back
    reasons = [r.strip() for r in (form.reasons.data or "").splitlines() if r.strip()]
    if form.decision.data == "approve" and not reasons:
        # The checker writes why; an approval is never a blank "Approved.".
        flash(_("Give the reason for approving."), "error")
        return back
    try:
        origination.decide(session=db(), application_id=app.id, user_id=current_user.id,
                           approve=form.decision.data == "approve", reasons=reasons,
                           as_of=today())
    except TrellisError as exc:
        db().rollback()
        flash(error_text(exc), "error")
        return back
    audit(f"application.{form.decision.data}", "loan_application", app.id,
          status=app.status, reasons=reasons)
    commit()
    if app.status == ApplicationStatus.DECLINED:
        # An approval that could not be priced under the cap ends declined: say so, not green.
        why = "; ".join(render(r) for r in app.decline_reasons or [])
        flash(_("Declined: %(why)s", why=why) if form.decision.data == "approve" and why
              else _("Declined."), "error" if form.decision.data == "approve" else "info")
    else:
        flash({ApplicationStatus.APPROVED: _("Approved: the offer is open to the vendor."),
               ApplicationStatus.SECOND_APPROVAL: _("Approved once: a second approver "
                                                    "must approve this amount.")}
              .get(app.status, app.status), "success")
    return back


@bp.get("/loans/<int:loan_id>")
@roles_required(*STAFF, "vendor")
def loan(loan_id: int):
    row = _loan_or_404(loan_id)
    st = statement.build(session=db(), loan_id=row.id)
    postings = []
    if user_role() in STAFF:
        postings = loan_journal.loan_journal(session=db(), loan_id=row.id)
    repayments = db().scalars(select(Repayment).where(Repayment.loan_id == row.id)
                              .order_by(Repayment.paid_on, Repayment.id)).all()
    payout_form = None
    if user_role() in DECIDERS:
        payout_form = PayoutForm(key=uuid.uuid4().hex)
    return render_template("ledger/loan.html", loan=row, st=st, firm=db().get(Firm, row.firm_id),
                           loan_account=(db().get(PayoutAccount, row.payout_account_id)
                                         if row.payout_account_id else None),
                           account_in_force=payout_accounts.current(session=db(),
                                                                    firm_id=row.firm_id),
                           payout_label=payout_accounts.label,
                           product=db().get(Product, row.product_id), postings=postings,
                           product_label=loan_products([row])[row.id],
                           repayments=repayments, lang=_lang(),
                           describe=_describe_for_staff if user_role() in STAFF
                           else statement.describe,
                           staff_view=user_role() in STAFF,
                           bucket=lifecycle.bucket(st.days_past_due), staff=user_role() in STAFF,
                           surplus=_surplus(row), payout_form=payout_form,
                           payment_reference=payment_reference)


#: Keys the platform itself gives a payment (prefix: what it was), shown to staff as
#: words instead of the key; any other key came with the payment (an API caller's,
#: e.g. a bank reference) and is shown as it is.
OWN_KEYS = (
    ("vendor-repay:", N_("Online repayment by the borrower")),
    ("assistant-repay:", N_("Repayment through the AI customer manager")),
    ("web:", N_("Recorded by staff on the loan page")),
    ("anchor-payment:", N_("The anchor firm's payment of the invoice")),
    ("voucher-settle:", N_("Voucher paid at maturity")),
    # a demo seeded before reader 11 (R23); the demo now gives bank references instead
    ("demo-", N_("Demo booking")),
)


def payment_reference(repayment: Repayment) -> str:
    """What a staff reader is shown as the reference of *repayment*: words for the keys
    the platform makes (the key itself stays in the page's title, to trace it), else the
    key that came with the payment."""
    for prefix, words in OWN_KEYS:
        if repayment.idempotency_key.startswith(prefix):
            return _(words)
    return repayment.idempotency_key


def _surplus(loan: Loan) -> dict:
    """What is owed to the loan's firm as surplus: for this loan and for all its loans."""
    by_loan = payouts.owed_by_loan(session=db(), firm_id=loan.firm_id)
    # who paid it (the receipts that booked the surplus): this loan's, else the firm's
    sources = payouts.surplus_sources(
        session=db(), loan_ids=[loan.id] if by_loan.get(loan.id) else list(by_loan))
    return {"loan_fen": by_loan.get(loan.id, 0), "firm_fen": sum(by_loan.values()),
            "sources": "、".join(word("payment_source", s) for s in sources)
            if get_locale().language == "zh"
            else ", ".join(word("payment_source", s) for s in sources)}


def _to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


@bp.post("/loans/<int:loan_id>/payout")
@roles_required(*DECIDERS)
def payout(loan_id: int):
    row = _loan_or_404(loan_id)
    form = PayoutForm()
    back = redirect(url_for(".loan", loan_id=row.id))
    if not form.validate_on_submit():
        # the amount's own words when the amount is what was wrong (reader 12, G21: a
        # negative amount read "the form expired")
        if form.amount.errors and form.amount.data is not None:
            flash(str(form.amount.errors[0]), "error")
        elif form.amount.errors:
            flash(_("Enter the amount in yuan with at most two decimals."), "error")
        else:
            flash(_("The form expired or was incomplete; try again."), "error")
        return back
    if form.amount.data is not None and (form.amount.data * 100) % 1:
        flash(_("Enter the amount in yuan with at most two decimals."), "error")
        return back
    amount = None if form.amount.data is None else _to_fen(form.amount.data)
    try:
        done = payouts.pay_out_surplus(session=db(), firm_id=row.firm_id, amount_fen=amount,
                                       paid_on=today(), idempotency_key=f"web:{form.key.data}",
                                       user_id=current_user.id)
    except TrellisError as exc:
        db().rollback()
        flash(error_text(exc), "error")
        return back
    if done.replayed:   # the same form submitted twice: paid once
        flash(_("This payout was already made."), "info")
        return back
    audit("ledger.payout", "firm", row.firm_id, amount_fen=done.amount_fen,
          entry_seq=done.entry.seq, from_loan=row.id,
          by_loan={str(k): v for k, v in done.by_loan.items()})
    commit()
    flash(_("Paid out %(amount)s of surplus to the borrower.", amount=money(done.amount_fen)),
          "success")
    return back


def _lang() -> str:
    loc = get_locale()
    return "zh" if loc is None or loc.language == "zh" else "en"


@bp.get("/loans/<int:loan_id>/statement")
@roles_required(*STAFF, "vendor")
def loan_statement(loan_id: int):
    row = _loan_or_404(loan_id)
    st = statement.build(session=db(), loan_id=row.id)
    return render_template("ledger/statement.html", st=st, loan=row, lang=_lang(),
                           surplus=_surplus(row),
                           describe=statement.describe, labels=statement.LABELS[_lang()],
                           header=statement.header_rows(
                               st, _lang(), gettext=_, product=loan_products([row])[row.id]))


@bp.get("/loans/<int:loan_id>/statement.csv")
@roles_required(*STAFF, "vendor")
def loan_statement_csv(loan_id: int):
    row = _loan_or_404(loan_id)
    body = statement.to_csv(statement.build(session=db(), loan_id=row.id), _lang(),
                            gettext=_, product=loan_products([row])[row.id])
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=loan-{row.id}-statement.csv"})


@bp.get("/loans/<int:loan_id>/statement.pdf")
@roles_required(*STAFF, "vendor")
def loan_statement_pdf(loan_id: int):
    row = _loan_or_404(loan_id)
    try:
        body = statement.to_pdf(statement.build(session=db(), loan_id=row.id), _lang(),
                                gettext=_, product=loan_products([row])[row.id])
    except statement.NoCJKFont as exc:
        flash(error_text(exc), "error")
        return redirect(url_for(".loan_statement", loan_id=row.id))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=loan-{row.id}-statement.pdf"})


@bp.get("/my")
@roles_required("vendor")
def my():
    firm_id = current_user.firm_id
    loans = db().scalars(select(Loan).where(Loan.firm_id == firm_id)
                         .order_by(Loan.id.desc())).all()
    apps = db().execute(select(Application, Product)
                        .join(Product, Product.id == Application.product_id)
                        .where(Application.firm_id == firm_id)
                        .order_by(Application.id.desc())).tuples().all()
    offers = {o.application_id: o for o in db().scalars(
        select(Offer).where(Offer.application_id.in_([a.id for a, _p in apps])))}
    return render_template("ledger/my.html", loans=loans, applications=apps, offers=offers,
                           products=loan_products(loans),
                           as_of=today(), dpd=lifecycle.dpd,
                           surplus_fen=payouts.surplus_owed(session=db(), firm_id=firm_id))


def _offer_or_404(offer_id: int) -> tuple[Offer, Application]:
    offer = db().get(Offer, offer_id)
    app = db().get(Application, offer.application_id) if offer else None
    if offer is None or not firm_visible(app.firm_id):
        raise NotFound(_("No offer %(id)s.", id=offer_id))
    return offer, app


@bp.get("/offers/<int:offer_id>")
@roles_required(*STAFF, "vendor")
def offer(offer_id: int):
    o, app = _offer_or_404(offer_id)
    return render_template("ledger/offer.html", offer=o, app=app,
                           payout_account=payout_accounts.current(session=db(),
                                                                  firm_id=app.firm_id),
                           payout_label=payout_accounts.label,
                           product=db().get(Product, app.product_id), form=AcceptForm(),
                           can_accept=user_role() == "vendor" and o.status == "open")


@bp.post("/offers/<int:offer_id>/accept")
@roles_required("vendor")
def accept(offer_id: int):
    o, app = _offer_or_404(offer_id)
    back = redirect(url_for(".offer", offer_id=o.id))
    if not AcceptForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return back
    try:
        result = origination.accept_offer(session=db(), offer_id=o.id, user_id=current_user.id,
                                          as_of=today())
    except TrellisError as exc:
        db().rollback()
        flash(error_text(exc), "error")
        return back
    audit("offer.accept", "loan_offer", o.id, application_id=app.id)
    commit()
    if isinstance(result, Loan):
        flash(_("Signed. The money is paid out once the invoice is registered."), "success")
        return redirect(url_for(".loan", loan_id=result.id))
    flash(_("Signed. Your credit line is open."), "success")
    return redirect(url_for(".my"))


@bp.get("/trial-balance")
@roles_required("admin", "auditor")
def trial_balance():
    raw = request.args.get("as_of", "")
    as_of = None
    status = 200
    if raw:
        try:
            as_of = date.fromisoformat(raw)
        except ValueError:
            flash(_("%(value)s is not a date (YYYY-MM-DD).", value=raw), "error")
            status = 422
    if as_of is not None and as_of > today():
        # the books hold nothing after today: a later date would only repeat today's
        # balances under a date they do not belong to
        flash(_("%(d)s is in the future: a trial balance shows what has been booked, up to "
                "today at the latest. Today's balances are shown.", d=as_of.isoformat()),
              "error")
        as_of, status = None, 422
    tb = reports.trial_balance(session=db(), as_of=as_of)
    seq, digest = reports.head(session=db())
    # a past day's balances sum the entries dated up to it; the journal's head is today's
    dated = None if as_of is None else reports.entries_up_to(session=db(), as_of=as_of)
    return render_template("ledger/trial_balance.html", tb=tb, as_of=as_of, seq=seq,
                           digest=digest, dated=dated, lang=_lang(), today=today()), status
