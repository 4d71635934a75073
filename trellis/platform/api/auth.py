"""API authentication: a logged-in session, or a firm's bearer token (an anchor's ERP)."""

from __future__ import annotations

import functools

from flask import g, request
from flask_login import current_user

from trellis.accounts import services as accounts
from trellis.accounts.errors import BadToken
from trellis.errors import PermissionDenied
from trellis.platform.extensions import csrf
from trellis.platform.web import db
from trellis.trade.models import Firm


def _authenticate_bearer() -> bool:
    header = request.headers.get("Authorization", "")
    if not header:
        return False
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        raise BadToken("Use 'Authorization: Bearer <token>'.")
    token = accounts.verify_api_token(session=db(), secret=secret.strip())
    firm = db().get(Firm, token.firm_id)
    g.api_token = token
    g.api_firm_id = token.firm_id
    g.api_role = firm.role if firm else None
    return True


def api_auth(roles: tuple[str, ...] = ("admin", "rm", "vendor", "anchor", "auditor")):
    """Require a logged-in user or a valid firm token whose role is in *roles*.

    Token requests are exempt from CSRF (they carry no cookies); cookie requests are not.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if _authenticate_bearer():
                role = g.api_role
            elif current_user.is_authenticated:
                role = current_user.role
                g.api_firm_id = current_user.firm_id
                if request.method not in ("GET", "HEAD", "OPTIONS"):
                    csrf.protect()
            else:
                raise BadToken("Log in or send an API token.")
            if role not in roles:
                raise PermissionDenied("Your role may not use this endpoint.")
            return view(*args, **kwargs)

        wrapper.allowed_roles = roles
        return wrapper

    return decorator


def init_app(app) -> None:
    # Bearer-token clients have no CSRF token; api_auth checks CSRF for cookie sessions.
    for name, blueprint in app.blueprints.items():
        if name.endswith("_api") or name == "api":
            csrf.exempt(blueprint)
