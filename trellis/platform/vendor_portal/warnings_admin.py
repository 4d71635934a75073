"""The risk team's page for the fraud warnings (admins only): edit the text in both
languages, the audience and the moment, without a release; and the protection and
voucher policies (bank-change delay, age bands, voucher tenor). The settlement account is
changed under four eyes on its own page (``admin.settlement_account``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import DataRequired, NumberRange

from trellis.errors import TrellisError
from trellis.platform.forms import REQUIRED
from trellis.platform.vendor_portal.blueprint import bp
from trellis.platform.vendor_portal.common import attach_error, current_user_obj
from trellis.platform.vendor_portal.forms import WarningForm
from trellis.platform.web import audit, commit, db, roles_required
from trellis.protection import warnings as fraud
from trellis.protection.models import FraudWarning
from trellis.vouchers import services as vouchers

FIELDS = ("moment", "age_band", "firm_age", "title_zh", "body_zh", "title_en", "body_en",
          "sort", "active")


class PolicyForm(FlaskForm):
    bank_change_delay_hours = IntegerField(_l("Bank-account change delay (hours)"),
                                           validators=[DataRequired(REQUIRED),
                                                       NumberRange(min=1, max=720)])
    young_below_age = IntegerField(_l("Young: below this age"),
                                   validators=[DataRequired(REQUIRED), NumberRange(min=18, max=60)])
    senior_from_age = IntegerField(_l("Older: from this age"),
                                   validators=[DataRequired(REQUIRED),
                                               NumberRange(min=40, max=100)])
    new_firm_months = IntegerField(_l("New firm: founded less than this many months ago"),
                                   validators=[DataRequired(REQUIRED), NumberRange(min=1, max=120)])
    max_tenor_months = IntegerField(_l("Longest voucher tenor (months, 12 at most)"),
                                    validators=[DataRequired(REQUIRED), NumberRange(min=1, max=12)])


def _values(form: WarningForm) -> dict:
    out = {name: getattr(form, name).data for name in FIELDS}
    out["sort"] = 100 if out["sort"] is None else out["sort"]
    out["code"] = form.code.data
    return out


@bp.route("/warnings-admin", methods=["GET", "POST"])
@roles_required("admin")
def warnings_admin():
    form = WarningForm()
    status = 200
    if form.validate_on_submit():
        try:
            row = fraud.save(session=db(), values=_values(form), user=current_user_obj())
        except TrellisError as exc:
            db().rollback()
            attach_error(form, exc, "code")
            status = 422
        else:
            audit("fraud_warning.create", "fraud_warning", row.id, code=row.code)
            commit()
            flash(_("Warning %(c)s added.", c=row.code), "success")
            return redirect(url_for("vendor.warnings_admin"), code=303)
    elif request.method == "POST":
        status = 422
    rules = fraud.policy(session=db())
    policy_form = PolicyForm(formdata=None, obj=rules)
    policy_form.max_tenor_months.data = vouchers.policy(session=db()).max_tenor_months
    return render_template("vendor_portal/warnings_admin.html",
                           rows=fraud.all_warnings(session=db()),
                           form=form, policy_form=policy_form), status


@bp.route("/warnings-admin/<int:warning_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_warning(warning_id: int):
    row = db().get(FraudWarning, warning_id)
    if row is None:
        abort(404)
    form = WarningForm(obj=row if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            fraud.save(session=db(), values=_values(form), warning_id=warning_id,
                       user=current_user_obj())
        except TrellisError as exc:
            db().rollback()
            attach_error(form, exc, "title_zh")
            status = 422
        else:
            audit("fraud_warning.update", "fraud_warning", warning_id, code=row.code)
            commit()
            flash(_("Warning %(c)s saved.", c=row.code), "success")
            return redirect(url_for("vendor.warnings_admin"), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("vendor_portal/warning_edit.html", row=row, form=form), status


@bp.post("/warnings-admin/policy")
@roles_required("admin")
def save_policy():
    form = PolicyForm()
    if not form.validate_on_submit():
        rows = fraud.all_warnings(session=db())
        return render_template("vendor_portal/warnings_admin.html", rows=rows, form=WarningForm(
            formdata=None), policy_form=form), 422
    if form.senior_from_age.data <= form.young_below_age.data:
        form.senior_from_age.errors = [_("Must be above the young age limit.")]
        return render_template("vendor_portal/warnings_admin.html", rows=fraud.all_warnings(
            session=db()), form=WarningForm(formdata=None), policy_form=form), 422
    rules = fraud.policy(session=db())
    for name in ("bank_change_delay_hours", "young_below_age", "senior_from_age",
                 "new_firm_months"):
        setattr(rules, name, getattr(form, name).data)
    user = current_user_obj()
    rules.updated_by_id = user.id if user else None
    db().add(rules)
    vouchers.set_max_tenor(session=db(), months=form.max_tenor_months.data, user=user)
    audit("protection.policy", "policy", 1, **{k: getattr(form, k).data for k in (
        "bank_change_delay_hours", "young_below_age", "senior_from_age", "new_firm_months",
        "max_tenor_months")})
    commit()
    flash(_("Policy saved."), "success")
    return redirect(url_for("vendor.warnings_admin"), code=303)
