"""Administration of where money goes: the settlement account (one administrator
proposes, a different one approves) and the product catalogue (read-only)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from trellis import clock
from trellis.accounts.models import User
from trellis.errors import TrellisError
from trellis.ledger.catalogue import catalogue
from trellis.platform.admin.views import bp
from trellis.platform.forms import REQUIRED, EmptyForm
from trellis.platform.i18n import error_text, render
from trellis.platform.web import audit, commit, db, roles_required
from trellis.protection import settlement
from trellis.protection.warnings import policy


class SettlementForm(FlaskForm):
    """A proposed settlement account."""

    bank_name = StringField(_l("Bank and branch"),
                            validators=[DataRequired(REQUIRED), Length(max=120)])
    account = StringField(_l("Account number"), validators=[DataRequired(REQUIRED),
                                                            Length(max=40)])
    account_name = StringField(_l("Account name"),
                               validators=[DataRequired(REQUIRED), Length(max=120)])


def _me() -> User | None:
    return db().get(User, current_user.id) if current_user.is_authenticated else None


def _settlement_page(form: SettlementForm, status: int = 200):
    rows = settlement.history(session=db())
    ids = {i for r in rows for i in (r.proposed_by_id, r.decided_by_id) if i}
    names = {u.id: (u.name or u.email) for u in (db().get(User, i) for i in ids) if u}
    proposal, me = settlement.open_proposal(session=db()), _me()
    refusal = (settlement.approval_refusal(session=db(), user=me, change=proposal)
               if proposal is not None and me is not None else None)
    return render_template("admin/settlement.html", rules=policy(session=db()),
                           in_force=settlement.in_force(session=db()),
                           proposal=proposal, history=rows, names=names, form=form,
                           decide_form=EmptyForm(), me=current_user.id,
                           refusal=render(refusal) if refusal is not None else None), status


@bp.route("/settlement-account", methods=["GET", "POST"])
@roles_required("admin")
def settlement_account():
    """The settlement account in force, who proposed and approved it, and proposals."""
    form = SettlementForm()
    if request.method == "GET":
        return _settlement_page(form)
    if not form.validate_on_submit():
        return _settlement_page(form, 422)
    try:
        change = settlement.propose(session=db(), user=_me(), account=form.account.data,
                                    account_name=form.account_name.data,
                                    bank_name=form.bank_name.data)
    except TrellisError as exc:
        db().rollback()
        target = getattr(form, getattr(exc, "field", None) or "", None) or form.account
        target.errors = [*target.errors, error_text(exc)]
        return _settlement_page(form, exc.status)
    audit("settlement.proposed", "settlement_change", change.id, account=change.account,
          account_name=change.account_name, bank_name=change.bank_name)
    commit()
    flash(_("Proposal recorded. A different administrator must approve it before vendors "
            "are told to repay into it."), "success")
    return redirect(url_for("admin.settlement_account"), code=303)


@bp.post("/settlement-account/<int:change_id>/<any(approve, reject):decision>")
@roles_required("admin")
def decide_settlement(change_id: int, decision: str):
    """A second administrator approves, or an administrator rejects, a proposal."""
    if not EmptyForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("admin.settlement_account"), code=303)
    act = settlement.approve if decision == "approve" else settlement.reject
    try:
        change = act(session=db(), user=_me(), change_id=change_id)
    except TrellisError as exc:
        db().rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("admin.settlement_account"), code=303)
    audit(f"settlement.{'approved' if decision == 'approve' else 'rejected'}",
          "settlement_change", change.id, account=change.account,
          proposed_by_id=change.proposed_by_id)
    commit()
    flash(_("The settlement account is now %(account)s.", account=change.account)
          if decision == "approve" else _("Proposal rejected; nothing changed."), "success")
    return redirect(url_for("admin.settlement_account"), code=303)


@bp.get("/products")
@roles_required("admin")
def products():
    """The products with their rate ranges, fees, advance rates and the legal cap."""
    return render_template("admin/products.html",
                           cat=catalogue(session=db(), as_of=clock.today()))
