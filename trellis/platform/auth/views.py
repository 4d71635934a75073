"""Login, logout and the language switch."""

from __future__ import annotations

import re
import time
from urllib.parse import unquote, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup

from trellis.accounts import mfa
from trellis.accounts import reset as password_reset
from trellis.accounts import services as accounts
from trellis.accounts.errors import BadCredentials, BadResetToken, LoginThrottled
from trellis.accounts.models import User
from trellis.errors import TrellisError
from trellis.platform import sessions
from trellis.platform.errors import translated
from trellis.platform.forms import (
    EmptyForm,
    ForgotForm,
    LocaleForm,
    LoginForm,
    MfaForm,
    ResetForm,
)
from trellis.platform.web import audit, commit, db, enqueue, settings

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
    uri = mfa.provisioning_uri(secret, user.email) if enrolling else None
    # segno's own SVG of our own URI (no user text in it but the escaped title).
    qr = Markup(mfa.qr_svg(uri, title=_("QR code for your authenticator app"))) \
        if enrolling else None
    return render_template("auth/mfa.html", form=form, enrolling=enrolling,
                           secret=secret if enrolling else None, uri=uri, qr=qr), status


def _reset_link_prefix() -> str | None:
    """Where reset links point: the public address; outside production, this request's
    host when none is set. None in production without ``TRELLIS_PUBLIC_URL``: a link
    must not follow a Host header the client chose (reset-link poisoning)."""
    cfg = settings()
    base = cfg.public_url or ("" if cfg.is_production else request.host_url)
    if not base:
        return None
    return base.rstrip("/") + url_for("auth.reset_password", token="x")[:-1]


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link. The answer is the same whether or not the e-mail has an
    account, and so is the work done in this request: the lookup and the message happen
    in a task."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = ForgotForm()
    prefix = _reset_link_prefix()
    status = 200
    if prefix is None:
        return render_template("auth/forgot.html", form=None, unavailable=True), 503
    if form.validate_on_submit():
        cfg = settings()
        try:
            row = password_reset.request(
                session=db(), email=form.email.data, remote_addr=request.remote_addr or "",
                max_per_email=cfg.password_reset_max_per_email,
                max_per_address=cfg.password_reset_max_per_address)
        except TrellisError as exc:
            form.email.errors.append(translated(exc))
            status = exc.status
        else:
            enqueue("send_password_reset", reset_id=row.id, link_prefix=prefix)
            commit()
            return render_template("auth/forgot.html", form=None, sent=True,
                                   minutes=cfg.password_reset_minutes)
    elif request.method == "POST":
        status = 400
    return render_template("auth/forgot.html", form=form), status


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with the link's token; every session of the account ends."""
    if current_user.is_authenticated:
        # a link opened in a browser where someone is logged in acts for the link's owner
        logout_user()
        session.clear()
    try:
        password_reset.check(session=db(), token=token)
    except BadResetToken as exc:
        return render_template("auth/reset.html", form=None, error=translated(exc)), \
            exc.status
    form = ResetForm()
    status = 200
    if form.validate_on_submit():
        try:
            password_reset.complete(session=db(), token=token, password=form.password.data,
                                    remote_addr=request.remote_addr or "")
        except BadResetToken as exc:
            db().rollback()
            return render_template("auth/reset.html", form=None,
                                   error=translated(exc)), exc.status
        except TrellisError as exc:
            db().rollback()
            form.password.errors.append(translated(exc))
            status = exc.status
        else:
            commit()
            flash(_("Your password was changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("auth/reset.html", form=form), status


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
        # the language the person chose outlives the sign-in (the login page stays in it)
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
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
