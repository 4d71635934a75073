"""Security headers and a strict content security policy (scripts and styles from 'self')."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _

from trellis import safejson
from trellis.platform.errors import json_error, wants_json

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def refuse_nul():
    """Refuse a request whose form fields, query or JSON hold a NUL character: it is not
    text, PostgreSQL cannot store it, and SQLite would keep it silently. Uploaded files
    are checked by their readers."""
    bad = any("\x00" in v for v in request.args.values())
    if not bad and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json:
            bad = b"\\u0000" in (request.get_data(cache=True) or b"")
        else:
            bad = any("\x00" in v for v in request.form.values())
    if not bad:
        return None
    message = _("The request holds a NUL character (\\0), which is not text.")
    if wants_json():
        return json_error("nul_character", message, 400)
    return render_template("errors/error.html", status=400, message=message), 400


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies nested too deep before the C decoder can overflow the
    stack (see :mod:`trellis.safejson`): ``request.get_json`` answers 400 instead."""

    def loads(self, s, **kwargs):
        return safejson.loads(s, **kwargs)


def init_app(app: Flask) -> None:
    app.json = SafeJSONProvider(app)
    app.before_request(refuse_nul)
    app.after_request(add_headers)
    if app.config.get("SESSION_COOKIE_SECURE"):
        @app.after_request
        def hsts(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
            return response
