"""Login, logout and the language switch."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from trellis.accounts import services as accounts
from trellis.accounts.errors import BadCredentials, LoginThrottled
from trellis.platform.forms import EmptyForm, LocaleForm, LoginForm
from trellis.platform.i18n import error_text
from trellis.platform.web import audit, commit, db, settings

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        cfg = settings()
        try:
            user = accounts.authenticate(
                session=db(), email=form.email.data, password=form.password.data,
                remote_addr=request.remote_addr or "", max_attempts=cfg.login_max_attempts,
                window_seconds=cfg.login_window_seconds)
        except LoginThrottled as exc:
            commit()
            form.password.errors.append(error_text(exc))
            status = 429
        except BadCredentials as exc:
            commit()  # keep the record of the failed attempt
            form.password.errors.append(error_text(exc))
            status = 401
        else:
            session.clear()
            login_user(user)
            session["locale"] = user.locale
            audit("login", "user", user.id)
            commit()
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        audit("logout", "user", current_user.id)
        commit()
        logout_user()
        session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/locale")
def set_locale():
    form = LocaleForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db().add(current_user._get_current_object())
            commit()
    else:
        flash(_("Could not change the language."), "error")
    return redirect(_safe_next(request.form.get("next") or request.referrer and
                               "/" + request.referrer.split("/", 3)[-1]))
