"""The anchor desk: the confirmation queue (one by one and in bulk), API tokens for the
ERP; payables, the supplier network, early warning, the stress test and vouchers live in
the sibling modules imported at the bottom (they add routes to this blueprint)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import select

from trellis import clock
from trellis.accounts import services as accounts
from trellis.accounts.models import ApiToken
from trellis.errors import TrellisError, ValidationError
from trellis.network import confirmations, evidence
from trellis.platform.anchor.blueprint import bp
from trellis.platform.anchor.forms import DecisionForm, TokenForm
from trellis.platform.anchor.payables import due_summary
from trellis.platform.forms import EmptyForm
from trellis.platform.i18n import error_text
from trellis.platform.paging import args as paging_args
from trellis.platform.paging import kept as list_state
from trellis.platform.vendor_portal.common import (
    attach_error,
    current_user_obj,
    own_firm,
    proof_state,
)
from trellis.platform.web import audit, commit, db, roles_required
from trellis.trade.models import Firm, Invoice
from trellis.vouchers import services as vouchers

KINDS = ("invoice", "order")


@bp.get("/")
@roles_required("anchor")
def index():
    firm = own_firm()
    counts = confirmations.pending_counts(session=db(), anchor_id=firm.id)
    due_count, due_total = due_summary(session=db(), anchor_id=firm.id, days=30,
                                       overdue=False)
    overdue_count, overdue_total = due_summary(session=db(), anchor_id=firm.id, overdue=True)
    return render_template("anchor/index.html", firm=firm, counts=counts,
                           due_count=due_count, due_total=due_total,
                           overdue_count=overdue_count, overdue_total=overdue_total,
                           vouchers=len(vouchers.issued_by(session=db(), anchor_id=firm.id)))


def _kind_arg() -> str:
    kind = request.args.get("kind", "invoice")
    return kind if kind in KINDS else "invoice"


def _record_decisions(outcomes, reason) -> int:
    changed = 0
    for o in outcomes:
        if o.changed:
            changed += 1
            audit(f"{o.kind}.{'confirm' if o.status == 'confirmed' else 'reject'}", o.kind,
                  o.id, number=o.number, reason=reason or "")
    return changed


def _flash_outcomes(outcomes, decision: str) -> None:
    changed = [o for o in outcomes if o.changed]
    same = [o for o in outcomes if not o.changed]
    if changed:
        if decision == "confirm":
            flash(_("Confirmed %(n)d document(s).", n=len(changed)), "success")
        else:
            flash(_("Rejected %(n)d document(s).", n=len(changed)), "success")
    if same:
        flash(_("%(n)d document(s) had already been decided this way; nothing changed for "
                "them.", n=len(same)), "warning")


@bp.route("/queue", methods=["GET", "POST"])
@roles_required("anchor")
def confirm_queue():
    firm = own_firm()
    kind = _kind_arg()
    form = DecisionForm()
    status = 200
    selected: list[str] = request.form.getlist("ids") if request.method == "POST" else []
    ids_error = None
    if form.validate_on_submit():
        try:
            outcomes = confirmations.decide(
                session=db(), anchor_id=firm.id, kind=kind, ids=selected,
                decision=form.decision.data, reason=form.reason.data, user=current_user_obj(),
                checked=bool(form.checked.data), acknowledged=request.form.getlist("ack"))
        except ValidationError as exc:
            db().rollback()
            if exc.field == "ids":
                ids_error = error_text(exc)
            else:
                attach_error(form, exc, "reason")
            status = 422
        else:
            _record_decisions(outcomes, form.reason.data)
            commit()
            _flash_outcomes(outcomes, form.decision.data)
            # the reader's search, sort and page stay (the decided rows leave the list)
            return redirect(url_for("anchor.confirm_queue", kind=kind, **list_state()),
                            code=303)
    elif request.method == "POST":
        status = 422
    page = confirmations.queue_page(session=db(), anchor_id=firm.id, kind=kind,
                                    **paging_args())
    counts = confirmations.pending_counts(session=db(), anchor_id=firm.id)
    return render_template("anchor/queue.html", firm=firm, kind=kind, rows=page.items,
                           page=page, form=form,
                           counts=counts, selected={str(s) for s in selected},
                           acked=set(request.form.getlist("ack")),
                           ids_error=ids_error, state=list_state(),
                           today=clock.today()), status


@bp.route("/queue/<kind>/<int:doc_id>", methods=["GET", "POST"])
@roles_required("anchor")
def document(kind: str, doc_id: int):
    firm = own_firm()
    doc = confirmations.get_document(session=db(), anchor_id=firm.id, kind=kind, doc_id=doc_id)
    form = DecisionForm()
    status = 200
    ack_error = None
    if form.validate_on_submit():
        try:
            outcomes = confirmations.decide(
                session=db(), anchor_id=firm.id, kind=kind, ids=[doc_id],
                decision=form.decision.data, reason=form.reason.data, user=current_user_obj(),
                checked=bool(form.checked.data), acknowledged=request.form.getlist("ack"))
        except ValidationError as exc:
            db().rollback()
            if exc.field == "ids":
                ack_error = error_text(exc)
            else:
                attach_error(form, exc, "reason")
            status = 422
        else:
            _record_decisions(outcomes, form.reason.data)
            commit()
            _flash_outcomes(outcomes, form.decision.data)
            return redirect(url_for("anchor.document", kind=kind, doc_id=doc_id), code=303)
    elif request.method == "POST":
        status = 422

    seller = db().get(Firm, doc.seller_id)
    # what the clerk checks the document against before confirming it for good
    cautions: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    if isinstance(doc, Invoice):
        facts = evidence.invoice_facts(session=db(), invoice=doc)
        cautions = evidence.invoice_cautions(session=db(), invoice_ids=[doc_id]).get(doc_id, ())
        if evidence.DUPLICATE in cautions:
            duplicates = evidence.duplicate_numbers(session=db(),
                                                    invoice_ids=[doc_id]).get(doc_id, ())
        order, overdue = facts.order, evidence.days_overdue(doc.due_date, clock.today())
    else:
        facts, order, overdue = None, evidence.order_facts(session=db(), order=doc), 0
    return render_template("anchor/document.html", kind=kind, doc=doc, seller=seller,
                           form=form, proof=proof_state(kind, doc.id), facts=facts,
                           order=order, overdue=overdue, cautions=cautions,
                           duplicates=duplicates, ack_error=ack_error), status


# --- API tokens for the firm's ERP --------------------------------------------------------

@bp.route("/tokens", methods=["GET", "POST"])
@roles_required("anchor")
def tokens():
    firm = own_firm()
    form = TokenForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        try:
            token, secret = accounts.issue_api_token(session=db(), firm_id=firm.id,
                                                     name=form.name.data,
                                                     created_by=current_user_obj())
        except TrellisError as exc:
            db().rollback()
            attach_error(form, exc, "name")
            status = 422
        else:
            audit("api_token.issue", "api_token", token.id, name=token.name)
            commit()
            # the page shows the secret once (no redirect); the form starts afresh for
            # the next token instead of offering this one's name again
            form.name.data = ""
    elif request.method == "POST":
        status = 422
    rows = db().exec(select(ApiToken).where(ApiToken.firm_id == firm.id)
                     .order_by(ApiToken.id.desc())).all()
    return render_template("anchor/tokens.html", form=form, tokens=rows, secret=secret,
                           revoke_form=EmptyForm()), status


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required("anchor")
def revoke_token(token_id: int):
    firm = own_firm()
    if not EmptyForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("anchor.tokens"), code=303)
    token = db().get(ApiToken, token_id)
    if token is None or token.firm_id != firm.id:
        abort(404)
    accounts.revoke_api_token(session=db(), token_id=token_id, firm_id=firm.id)
    audit("api_token.revoke", "api_token", token_id)
    commit()
    flash(_("Token revoked."), "success")
    return redirect(url_for("anchor.tokens"), code=303)

