"""Login, logout and the language switch."""

from __future__ import annotations

import re
import time
from urllib.parse import unquote, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from trellis.accounts import mfa
from trellis.accounts import services as accounts
from trellis.accounts.errors import BadCredentials, LoginThrottled
from trellis.errors import TrellisError
from trellis.platform import sessions
from trellis.platform.errors import translated
from trellis.platform.forms import EmptyForm, LocaleForm, LoginForm, MfaForm
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
            form.password.errors.append(translated(exc))
            status = 401
        else:
            commit()
            if mfa.enrolled(user) or (cfg.mfa_required and mfa.eligible(user)):
                # The password was right; the second factor decides.
                session.clear()
                session[MFA_USER], session[MFA_AT] = user.id, int(time.time())
                session[MFA_NEXT] = safe_next(request.args.get("next"))
                return redirect(url_for("auth.second_factor"), code=303)
            _finish_login(user)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


MFA_USER, MFA_AT, MFA_NEXT, MFA_SECRET, MFA_TRIES = (
    "_mfa_user", "_mfa_at", "_mfa_next", "_mfa_secret", "_mfa_tries")
MFA_SECONDS = 300  # from the right password to the code
MFA_MAX_TRIES = 5  # wrong codes before the password must be entered again


def _finish_login(user) -> None:
    session.clear()
    login_user(user)
    sessions.start(user)
    session["locale"] = user.locale
    audit("login", "user", user.id)
    commit()


def _pending_user():
    from trellis.accounts.models import User

    user_id, at = session.get(MFA_USER), session.get(MFA_AT)
    if not isinstance(user_id, int) or not isinstance(at, int) \
            or time.time() - at > MFA_SECONDS:
        return None
    user = db().get(User, user_id)
    return user if user is not None and user.is_active else None


@bp.route("/login/mfa", methods=["GET", "POST"])
def second_factor():
    """The second step of a login: a TOTP or recovery code, or enrolment when the role
    must use one and has none yet."""
    user = _pending_user()
    if user is None:
        session.clear()
        flash(_("Log in again: the second step waits at most five minutes."), "info")
        return redirect(url_for("auth.login"))
    form = MfaForm()
    enrolling = not mfa.enrolled(user)
    if enrolling:
        secret = session.get(MFA_SECRET) or mfa.new_secret()
        session[MFA_SECRET] = secret
    status = 200
    if form.validate_on_submit():
        target = session.get(MFA_NEXT) or url_for("home.index")
        if enrolling:
            try:
                codes = mfa.enrol(session=db(), user=user, secret=secret, code=form.code.data)
            except TrellisError as exc:
                form.code.errors.append(translated(exc))
                status = 422
            else:
                audit("mfa.enrol", "user", user.id)
                _finish_login(user)
                return render_template("auth/mfa_recovery.html", codes=codes, target=target)
        elif mfa.verify(session=db(), user=user, code=form.code.data):
            _finish_login(user)
            return redirect(target, code=303)
        else:
            tries = int(session.get(MFA_TRIES, 0)) + 1
            session[MFA_TRIES] = tries
            audit("mfa.failed", "user", user.id)
            commit()
            if tries >= MFA_MAX_TRIES:
                session.clear()
                flash(_("Too many wrong codes: log in again."), "error")
                return redirect(url_for("auth.login"))
            form.code.errors.append(_("That code is not right, or it was used already."))
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/mfa.html", form=form, enrolling=enrolling,
                           secret=secret if enrolling else None,
                           uri=mfa.provisioning_uri(secret, user.email) if enrolling
                           else None), status


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
