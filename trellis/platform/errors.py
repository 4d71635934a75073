"""Turn errors into pages or JSON: never a bare 500 for something the user can fix."""

from __future__ import annotations

import logging

from flask import flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from trellis.errors import TrellisError
from trellis.platform.i18n import error_text

logger = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(code: str, message: str, status: int, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def _rollback():
    from flask import g

    session = g.get("db_session")
    if session is not None:
        session.rollback()


def _message(exc: TrellisError) -> str:
    """The error's message in the user's language: its template through the catalogue
    with its parameters formatted (money in yuan), or the core's own Chinese text."""
    return error_text(exc)


def handle_trellis_error(exc: TrellisError):
    _rollback()
    message = _message(exc)
    if wants_json():
        extra = {"field": exc.field} if getattr(exc, "field", None) else {}
        return json_error(exc.code, message, exc.status, **extra)
    flash(message, "error")
    if request.method == "POST" and request.referrer:
        return redirect(request.referrer, code=303)
    return render_template("errors/error.html", status=exc.status, message=message), \
        exc.status


def handle_csrf(exc: CSRFError):
    _rollback()
    message = _("The form expired or was forged. Reload the page and try again.")
    if wants_json():
        return json_error("csrf_failed", message, 400)
    return render_template("errors/error.html", status=400, message=message), 400


def handle_too_large(exc: RequestEntityTooLarge):
    _rollback()
    message = _("The upload is too large.")
    if wants_json():
        return json_error("too_large", message, 413)
    return render_template("errors/error.html", status=413, message=message), 413


def handle_http(exc: HTTPException):
    if wants_json():
        return json_error(exc.name.lower().replace(" ", "_"), exc.description or exc.name,
                          exc.code or 500)
    messages = {
        403: _("You do not have access to this page."),
        404: _("That page or record does not exist."),
        405: _("That action is not allowed here."),
    }
    return render_template("errors/error.html", status=exc.code,
                           message=messages.get(exc.code, exc.description)), exc.code


def handle_unexpected(exc: Exception):
    _rollback()
    logger.exception("Unhandled error on %s %s", request.method, request.path)
    message = _("Something went wrong on our side. Nothing was saved; try again.")
    if wants_json():
        return json_error("internal_error", message, 500)
    return render_template("errors/error.html", status=500, message=message), 500


def init_app(app) -> None:
    app.register_error_handler(TrellisError, handle_trellis_error)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(RequestEntityTooLarge, handle_too_large)
    app.register_error_handler(HTTPException, handle_http)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
