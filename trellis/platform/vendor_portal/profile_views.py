"""The vendor's profile, consent (grant and withdraw), bank account change and messages."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from trellis.accounts import services as accounts
from trellis.accounts.models import Consent
from trellis.errors import TrellisError, ValidationError
from trellis.paging import paginate
from trellis.platform.forms import EmptyForm
from trellis.platform.i18n import day
from trellis.platform.paging import args as paging_args
from trellis.platform.vendor_portal.blueprint import bp
from trellis.platform.vendor_portal.common import attach_error, current_user_obj, own_firm
from trellis.platform.vendor_portal.forms import (
    CONSENT_TEXT,
    BankAccountForm,
    ConsentForm,
    ProfileForm,
    WithdrawForm,
)
from trellis.platform.web import audit, commit, db, roles_required
from trellis.protection import bank, notifications, payout
from trellis.protection import warnings as fraud
from trellis.protection.models import PayoutAccount


@bp.context_processor
def _unread() -> dict:
    if current_user.is_authenticated and current_user.role == "vendor":
        return {"unread_count": notifications.unread(session=db(), user_id=current_user.id)}
    return {}


def lang() -> str:
    return "zh" if str(get_locale() or "zh_CN").startswith("zh") else "en"


def warnings_for(moment: str, firm=None) -> list:
    """The fraud warnings for the current user at *moment*."""
    firm = firm or own_firm()
    return fraud.for_moment(session=db(), moment=moment, birth_year=current_user.birth_year,
                            founded_on=firm.founded_on, lang=lang())


@bp.route("/profile", methods=["GET", "POST"])
@roles_required("vendor")
def profile():
    firm = own_firm()
    form = ProfileForm(obj=firm if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        changed = {}
        for name in ("legal_rep", "phone", "address", "industry"):
            value = (getattr(form, name).data or "").strip() or None
            if name == "industry":
                value = value or "other"
            if getattr(firm, name) != value:
                changed[name] = value
                setattr(firm, name, value)
        db().add(firm)
        if changed:
            audit("firm.profile", "firm", firm.id, fields=sorted(changed))
        commit()
        flash(_("Profile saved.") if changed else _("Nothing changed."), "success")
        return redirect(url_for("vendor.profile"), code=303)
    elif request.method == "POST":
        status = 422
    consents = db().exec(select(Consent).where(Consent.firm_id == firm.id)
                         .order_by(Consent.granted_at.desc())).all()
    active = {p: accounts.active_consent(session=db(), firm_id=firm.id, purpose=p)
              for p in accounts.CONSENT_PURPOSES}
    return render_template("vendor_portal/profile.html", firm=firm, form=form, consents=consents,
                           active=active, texts=CONSENT_TEXT, withdraw=WithdrawForm(),
                           payout_account=payout.current(session=db(), firm_id=firm.id),
                           payout_label=payout.label, shown=payout.shown,
                           pending=bank.pending_for(session=db(), firm_id=firm.id)), status


@bp.route("/consent", methods=["GET", "POST"])
@roles_required("vendor")
def consent():
    firm = own_firm()
    form = ConsentForm()
    active = {p: accounts.has_consent(session=db(), firm_id=firm.id, purpose=p)
              for p in accounts.CONSENT_PURPOSES}
    if request.method == "GET":
        for purpose, on in active.items():
            form[purpose].data = on
    status = 200
    if form.validate_on_submit():
        granted, withdrawn = [], []
        for purpose in accounts.CONSENT_PURPOSES:
            want = bool(form[purpose].data)
            if want and not active[purpose]:
                accounts.grant_consent(session=db(), firm_id=firm.id, purpose=purpose,
                                       user=current_user_obj())
                granted.append(purpose)
            elif not want and active[purpose]:
                bank.withdraw_consent(session=db(), firm_id=firm.id, purpose=purpose)
                withdrawn.append(purpose)
        for purpose in granted:
            audit("consent.grant", "firm", firm.id, purpose=purpose,
                  version=accounts.CONSENT_VERSION)
        for purpose in withdrawn:
            audit("consent.withdraw", "firm", firm.id, purpose=purpose)
        commit()
        if granted or withdrawn:
            flash(_("Your choices are saved."), "success")
        else:
            flash(_("Nothing changed."), "success")
        nxt = request.args.get("next", "")
        if granted and nxt.startswith("/vendor/"):
            return redirect(nxt, code=303)
        return redirect(url_for("vendor.profile"), code=303)
    elif request.method == "POST":
        status = 422
    welcome = request.args.get("welcome") == "1"
    return render_template("vendor_portal/consent.html", form=form, texts=CONSENT_TEXT,
                           version=accounts.CONSENT_VERSION, active=active, welcome=welcome,
                           warnings=warnings_for("registration", firm) if welcome else []
                           ), status


@bp.post("/consent/withdraw")
@roles_required("vendor")
def withdraw_consent():
    firm = own_firm()
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(_("Choose what to withdraw."), "error")
        return redirect(url_for("vendor.profile"), code=303)
    n = bank.withdraw_consent(session=db(), firm_id=firm.id, purpose=form.purpose.data)
    if n:
        audit("consent.withdraw", "firm", firm.id, purpose=form.purpose.data)
        commit()
        flash(_("Consent withdrawn. From now on Trellis does not use this data for new "
                "decisions."), "success")
    else:
        flash(_("There was no active consent to withdraw; nothing changed."), "warning")
    return redirect(url_for("vendor.profile"), code=303)


@bp.route("/bank-account", methods=["GET", "POST"])
@roles_required("vendor")
def bank_account():
    firm = own_firm()
    bank.apply_due(session=db(), firm_id=firm.id)
    commit()
    form = BankAccountForm()
    if request.method == "GET":
        form.account_name.data = firm.name
    status = 200
    has_consent = accounts.has_consent(session=db(), firm_id=firm.id, purpose="bank_account")
    if form.validate_on_submit():
        try:
            result = bank.declare(session=db(), firm_id=firm.id, user=current_user_obj(),
                                  password=form.password.data, bank_name=form.bank_name.data,
                                  account_number=form.new_account.data,
                                  holder_name=form.account_name.data,
                                  consent=bool(form.consent.data))
        except TrellisError as exc:
            db().rollback()
            if exc.code == "reauthentication_failed":
                attach_error(form, exc, "password")
                audit("bank_account.reauth_failed", "firm", firm.id)
                commit()
                status = 403
            else:
                attach_error(form, exc, "new_account")
                status = 422 if isinstance(exc, ValidationError) else exc.status
        else:
            if isinstance(result, PayoutAccount):
                audit("payout_account.consent", "firm", firm.id, payout_account_id=result.id,
                      account=payout.label(result))
                commit()
                flash(_("Your payout account %(account)s is recorded with your consent; loans "
                        "are paid into it.", account=payout.label(result)), "success")
            else:
                audit("bank_account.change_requested", "firm", firm.id, change_id=result.id,
                      new_account=payout.shown(result.bank_name, result.new_account),
                      effective_at=result.effective_at.isoformat(), consented=True)
                commit()
                flash(_("Your request is recorded. The new account takes effect on %(when)s "
                        "(Beijing time) unless someone in your firm cancels it; your colleagues "
                        "have been told.", when=day(result.effective_at)), "success")
            return redirect(url_for("vendor.bank_account"), code=303)
    elif request.method == "POST":
        status = 422
    form.password.data = ""
    return render_template(
        "vendor_portal/bank_account.html", form=form, firm=firm,
        account=payout.masked(firm.bank_account),
        payout_account=payout.current(session=db(), firm_id=firm.id), payout_label=payout.label,
        pending=bank.pending_for(session=db(), firm_id=firm.id),
        history=bank.history(session=db(), firm_id=firm.id), shown=payout.shown,
        warnings=warnings_for("bank_change", firm), cancel_form=EmptyForm(),
        has_consent=has_consent,
        delay=fraud.policy(session=db()).bank_change_delay_hours), status


@bp.post("/bank-account/<int:change_id>/cancel")
@roles_required("vendor")
def cancel_bank_change(change_id: int):
    firm = own_firm()
    if not EmptyForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("vendor.bank_account"), code=303)
    change = bank.cancel_change(session=db(), firm_id=firm.id, change_id=change_id,
                                user=current_user_obj())
    audit("bank_account.change_cancelled", "firm", firm.id, change_id=change.id)
    commit()
    flash(_("The change was cancelled; your account stays as it was."), "success")
    return redirect(url_for("vendor.bank_account"), code=303)


@bp.route("/messages", methods=["GET", "POST"], endpoint="notifications")
@roles_required("vendor")
def notifications_page():
    form = EmptyForm()
    if form.validate_on_submit():
        n = notifications.mark_read(session=db(), user_id=current_user.id)
        commit()
        flash(_("%(n)d message(s) marked as read.", n=n), "success")
        return redirect(url_for("vendor.notifications"), code=303)
    # Newest first, a page at a time, with the count: a firm's messages only grow.
    page = paginate(db(), notifications.of_user(user_id=current_user.id), sort_columns={},
                    **paging_args())
    rows = [row[0] for row in page.items]
    return render_template("vendor_portal/notifications.html", rows=rows, page=page, form=form,
                           lang=lang())
