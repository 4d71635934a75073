"""Vendor registration: public pages (no login), on their own blueprint ``register``.

Two ways in:

* from an invitation: the RM's batch invited a firm already known from the cluster's
  data; the code (checked with ``trellis.onboarding.invitations.lookup``, used up with
  ``redeem`` in the same transaction that creates the user) binds the new user to it;
* from scratch: the firm's USCC (GB 32100 check character), name, legal representative,
  mobile number, industry and industrial park. A USCC Trellis already knows must come
  through an invitation, so nobody can attach themselves to another firm. Such a firm is
  ``registration = "pending"``: it sees no other firm of the park and records no trade
  until an RM approves it (``/network/registrations``). Registrations are limited per
  address (``TRELLIS_REGISTER_MAX_PER_HOUR``).

Both log the new user in and lead to the consent page, with the fraud warnings for the
person and the firm. Every view here is marked ``public = True``.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlmodel import func, select

from trellis.accounts import services as accounts
from trellis.accounts.models import AuditEvent, utcnow
from trellis.errors import TrellisError
from trellis.onboarding import invitations
from trellis.platform import sessions
from trellis.platform.vendor_portal.common import attach_error, install
from trellis.platform.vendor_portal.forms import InviteCodeForm, InviteRegisterForm, RegisterForm
from trellis.platform.web import audit, commit, db, settings
from trellis.protection import warnings as fraud
from trellis.trade import firms
from trellis.trade.models import Cluster

bp = Blueprint("register", __name__, url_prefix="/register")
install(bp)


def public(view):
    view.public = True
    return view


def _lang() -> str:
    return "zh" if str(get_locale() or "zh_CN").startswith("zh") else "en"


def _locale() -> str:
    chosen = session.get("locale")
    return chosen if chosen in ("zh_CN", "en") else settings().default_locale


def _start_session(user) -> None:
    locale = _locale()
    session.clear()
    login_user(user)
    sessions.start(user)
    session["locale"] = locale


def _rate_limited() -> bool:
    """Whether this address registered ``TRELLIS_REGISTER_MAX_PER_HOUR`` firms in the
    last hour (counted from the audit trail)."""
    limit = settings().register_max_per_hour
    if not limit:
        return False
    since = utcnow() - timedelta(hours=1)
    done = db().exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "vendor.register", AuditEvent.remote_addr ==
        (request.remote_addr or ""), AuditEvent.at >= since)).one()
    return done >= limit


def _create_user(form, firm_id: int):
    return accounts.create_user(session=db(), email=form.email.data, password=form.password.data,
                                role="vendor", firm_id=firm_id, name=form.name.data.strip(),
                                locale=_locale(), birth_year=form.birth_year.data,
                                phone=form.mobile.data)


def _user_error(form, exc: TrellisError) -> None:
    field = getattr(exc, "field", None)
    if exc.code == "email_taken":
        field = "email"
    attach_error(form, exc, field if field in form else "email")


@bp.get("/")
@public
def start():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return render_template("vendor_portal/register_start.html", form=InviteCodeForm())


@bp.route("/invite", methods=["GET", "POST"])
@public
def invite():
    """Step 1: the code; step 2 (same URL, with the code): the user's details."""
    code_form = InviteCodeForm()
    form = InviteRegisterForm()
    status = 200
    firm = None
    step = "code"
    code = (request.form.get("code") or request.args.get("code") or "").strip()
    if request.method == "POST" and "email" not in request.form:
        if code_form.validate_on_submit():
            try:
                _inv, firm = invitations.lookup(session=db(), code=code)
            except TrellisError as exc:
                attach_error(code_form, exc, "code")
                status = 422
            else:
                step = "details"
                form = InviteRegisterForm(formdata=None, code=code)
        else:
            status = 422
    elif request.method == "POST":
        step = "details"
        try:
            _inv, firm = invitations.lookup(session=db(), code=code)
        except TrellisError as exc:
            attach_error(code_form, exc, "code")
            step, status = "code", 422
        else:
            if form.validate_on_submit():
                try:
                    firm = invitations.redeem(session=db(), code=code)
                    user = _create_user(form, firm.id)
                except TrellisError as exc:
                    db().rollback()
                    _user_error(form, exc)
                    status = 422
                else:
                    audit("vendor.register", "firm", firm.id, via="invitation", user_id=user.id,
                          by=user)
                    commit()
                    _start_session(user)
                    flash(_("Welcome to Trellis. First, please read what you allow us to do."),
                          "success")
                    return redirect(url_for("vendor.consent", welcome=1), code=303)
            else:
                status = 422
    elif code:
        code_form.code.data = code
    warnings = []
    if firm is not None:
        warnings = fraud.for_moment(session=db(), moment="registration",
                                    birth_year=form.birth_year.data if step == "details"
                                    and not form.birth_year.errors else None,
                                    founded_on=firm.founded_on, lang=_lang())
    return render_template("vendor_portal/register_invite.html", step=step, code_form=code_form,
                           form=form, firm=firm, warnings=warnings), status


@bp.route("/new", methods=["GET", "POST"])
@public
def new():
    form = RegisterForm()
    clusters = db().exec(select(Cluster).order_by(Cluster.name)).all()
    form.cluster_id.choices = [(0, _("Choose your park"))] + [(c.id, c.name) for c in clusters]
    status = 200
    if request.method == "POST" and _rate_limited():
        form.form_errors.append(_("Too many registrations from your network in the last "
                                  "hour. Try again later."))
        status = 429
    elif form.validate_on_submit():
        try:
            firm = firms.register_vendor(
                session=db(), uscc_code=form.uscc.data, name=form.firm_name.data,
                industry=form.industry.data, cluster_id=form.cluster_id.data,
                legal_rep=form.legal_rep.data, phone=form.mobile.data,
                founded_on=form.founded_on.data)
            user = _create_user(form, firm.id)
        except TrellisError as exc:
            db().rollback()
            if exc.code == "conflict":
                attach_error(form, exc, "uscc")
            else:
                _user_error(form, exc)
            status = 422 if exc.status != 409 else 409
        else:
            audit("vendor.register", "firm", firm.id, via="form", user_id=user.id, by=user)
            commit()
            _start_session(user)
            flash(_("Welcome to Trellis. First, please read what you allow us to do."),
                  "success")
            flash(_("Your relationship manager will check your firm's registration; you can "
                    "record invoices and orders once it is approved."), "info")
            return redirect(url_for("vendor.consent", welcome=1), code=303)
    elif request.method == "POST":
        status = 422
    warnings = fraud.for_moment(session=db(), moment="registration",
                                birth_year=form.birth_year.data if not form.birth_year.errors
                                else None, founded_on=form.founded_on.data
                                if not form.founded_on.errors else None, lang=_lang())
    return render_template("vendor_portal/register_new.html", form=form, warnings=warnings), status
