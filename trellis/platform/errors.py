"""Turn errors into pages or JSON: never a bare 500 for something the user can fix."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import BuildError

from trellis.errors import TrellisError
from trellis.messages import new_reference
from trellis.onboarding import trade_entry
from trellis.platform.i18n import error_text

logger = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(code: str, message: str, status: int, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def _rollback():
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def translated(exc: TrellisError) -> str:
    """The error's message in the reader's language: its template through the catalogue
    with its parameters formatted for the locale (money in yuan), or the core's own
    Chinese text (``message_zh``) on a Chinese page (see ``i18n.error_text``)."""
    return error_text(exc)



def handle_trellis_error(exc: TrellisError):
    _rollback()
    message = translated(exc)
    if wants_json():
        extra = {"field": exc.field} if getattr(exc, "field", None) else {}
        return json_error(exc.code, message, exc.status, **extra)
    if request.method == "POST" and request.referrer:
        # The message travels to the page redirected to; a page rendered here shows it
        # once, in its body (flashed as well, it read twice on the 404 page).
        flash(message, "error")
        return redirect(request.referrer, code=303)
    return render_template("errors/error.html", status=exc.status, message=message), \
        exc.status


def handle_csrf(exc: CSRFError):
    _rollback()
    message = _("The form expired or was forged. Reload the page and try again.")
    if wants_json():
        return json_error("csrf_failed", message, 400)
    return render_template("errors/error.html", status=400, message=message), 400


def _same_site_referrer() -> str | None:
    """The page the request came from, as a local path, when it is one of ours."""
    ref = request.referrer
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.netloc != request.host or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _endpoint_path(endpoint: str) -> str | None:
    """The path of *endpoint*, or None when this app has no such page."""
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def handle_too_large(exc: RequestEntityTooLarge):
    """A request body over ``MAX_CONTENT_LENGTH`` (an upload): the limit in words, back on
    the upload page it came from when there is one (reader 12, G9: a bare "413" page that
    led to the home page)."""
    _rollback()
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    back = _same_site_referrer()
    if back and back.split("?")[0] == _endpoint_path("vendor.upload"):
        # that page's own, smaller limit, the one it states (reader 12b, H5: "最大 20 MB"
        # beside "最大 5 MB")
        limit = min(limit, trade_entry.MAX_UPLOAD) if limit else trade_entry.MAX_UPLOAD
    message = _("The file is too large: an upload may be at most %(mb)d MB. Nothing was "
                "saved; split the file into smaller ones and upload them again.",
                mb=max(1, limit // 1_048_576))
    if wants_json():
        return json_error("too_large", message, 413)
    if request.method == "POST" and back:
        flash(message, "error")
        return redirect(back, code=303)
    return render_template("errors/error.html", status=413, message=message, back=back), 413


def handle_http(exc: HTTPException):
    # Keep what the exception says about itself, e.g. a 405's Allow header.
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    if wants_json():
        body, status = json_error(exc.name.lower().replace(" ", "_"),
                                  exc.description or exc.name, exc.code or 500)
        return body, status, headers
    messages = {
        403: _("You do not have access to this page."),
        404: _("That page or record does not exist."),
        405: _("That action is not allowed here."),
    }
    return render_template("errors/error.html", status=exc.code,
                           message=messages.get(exc.code, exc.description)), exc.code, headers


def handle_data_error(exc: DataError):
    # PostgreSQL's "bigint out of range" is SQLite's OverflowError: a record past any id.
    if "out of range" not in str(getattr(exc, "orig", exc)):
        raise exc
    return handle_overflow(OverflowError(str(exc)))


def handle_overflow(exc: OverflowError):
    # A number too large for the database (an id or page far past any record): the
    # record does not exist.
    _rollback()
    message = _("That page or record does not exist.")
    if wants_json():
        return json_error("not_found", message, 404)
    return render_template("errors/error.html", status=404, message=message), 404


def handle_unexpected(exc: Exception):
    """An error Trellis did not foresee (a bug, a library's or a driver's; a core's
    developer message is never shown): the generic page with a reference the person can
    quote, logged with the traceback."""
    _rollback()
    reference = new_reference()
    logger.exception("Unhandled error %s on %s %s", reference, request.method, request.path)
    message = _("Something went wrong on our side (reference %(reference)s). Nothing was "
                "saved; try again, and if it keeps failing give an administrator the "
                "reference.", reference=reference)
    if wants_json():
        return json_error("internal_error", message, 500, reference=reference)
    return render_template("errors/error.html", status=500, message=message), 500


def init_app(app) -> None:
    app.register_error_handler(TrellisError, handle_trellis_error)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(RequestEntityTooLarge, handle_too_large)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(OverflowError, handle_overflow)
    app.register_error_handler(DataError, handle_data_error)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
