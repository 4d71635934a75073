"""Each web request is one transaction that the database may ask to run again.

A deadlock or serialisation failure (:func:`trellis.db.is_retryable`) rolls back
everything the request wrote; :func:`init_app` wraps every view so that the request's
session is rolled back and the view runs again, a bounded number of times with a jittered
pause (the form and JSON body are read once and kept by the request). If every attempt
fails, the caller gets 503 with a plain "busy, try again" message, never a 500 with the
database's words.
"""

from __future__ import annotations

import functools
import logging
import time

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from trellis import db as database
from trellis.platform.errors import handle_unexpected, json_error, wants_json

logger = logging.getLogger(__name__)


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def retrying(view):
    """Run *view* again when the database ends its transaction with a conflict."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        for attempt in range(database.ATTEMPTS):
            try:
                return view(*args, **kwargs)
            except DBAPIError as exc:
                if not database.is_retryable(exc) or attempt == database.ATTEMPTS - 1:
                    raise
                logger.info("request conflict (%s), attempt %d", type(exc.orig).__name__,
                            attempt + 1)
                _rollback()
                # A page that was read as a reader and wrote after all: again as a writer.
                database.set_reading(False)
                time.sleep(database.backoff(attempt))
        raise AssertionError("unreachable")

    return wrapper


def handle_conflict(exc: DBAPIError):
    """Every attempt met a conflict: 503, nothing written; other database errors go on."""
    if not database.is_retryable(exc):
        if current_app.testing:
            raise exc
        return handle_unexpected(exc)
    _rollback()
    logger.warning("request gave up after %d conflicts: %s", database.ATTEMPTS,
                   type(exc.orig).__name__)
    message = _("The system is busy; nothing was saved. Please try again in a moment.")
    if wants_json():
        response, status = json_error("busy", message, 503)
    else:
        response, status = render_template("errors/error.html", status=503,
                                           message=message), 503
    return response, status, {"Retry-After": "1"}


def _begin_reading() -> None:
    # A page being shown (GET, HEAD) is expected to read only: on SQLite its transaction
    # does not queue for the write lock up front (trellis.db.set_reading), so two workers
    # show pages side by side; one that writes after all and meets a conflict is run again
    # as a writer (retrying).
    g.db_reading = database.set_reading(request.method in ("GET", "HEAD"))


def _end_reading(_exc=None) -> None:
    token = g.pop("db_reading", None)
    if token is not None:
        database.reset_reading(token)


def init_app(app) -> None:
    """Wrap every registered view (call after the blueprints are registered); pages being
    shown read as readers."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin_reading)
    app.teardown_request(_end_reading)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = retrying(view)
    app.register_error_handler(DBAPIError, handle_conflict)
