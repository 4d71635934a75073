"""Login, logout and the language switch."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from trellis.accounts import services as accounts
from trellis.accounts.errors import BadCredentials, LoginThrottled
from trellis.platform import sessions
from trellis.platform.errors import translated
from trellis.platform.forms import EmptyForm, LocaleForm, LoginForm
from trellis.platform.web import audit, commit, db, settings

bp = Blueprint("auth", __name__)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _normalised(target: str) -> str:
    # What a browser does before following a Location: drop tabs and line breaks, read a
    # backslash as a slash.
    return _CONTROL.sub("", target).replace("\\", "/")


def safe_next(target: str | None) -> str | None:
    """*target* if it is a path on this host (checked after normalising tabs, control
    characters, backslashes and percent-encoded slashes), else None."""
    if not target:
        return None
    cleaned = _normalised(target.strip())
    for form in (cleaned, _normalised(unquote(cleaned)), _normalised(unquote(unquote(cleaned)))):
        if not form.startswith("/") or form.startswith("//"):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
    return cleaned


def _safe_next(target: str | None) -> str:
    return safe_next(target) or url_for("home.index")


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
            form.password.errors.append(translated(exc))
            status = 429
        except BadCredentials as exc:
            commit()  # keep the record of the failed attempt
            form.password.errors.append(_(exc.message))
            status = 401
        else:
            session.clear()
            login_user(user)
            sessions.start(user)
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
        # Ends this cookie (and the user's other sessions): a copy kept by anyone no
        # longer works.
        accounts.end_sessions(session=db(), user=current_user._get_current_object())
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
