"""Fixtures for the web platform: ``app``, ``client``, ``login`` and ``csrf_token``.

The app shares the test's connection, so everything a test creates is visible to the app
and rolled back afterwards. CSRF protection stays on, as in production.
"""

from __future__ import annotations

import re

import pytest

from trellis.config import Settings
from trellis.platform import create_app

PASSWORD = "correct horse battery"
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def settings(database_url, tmp_path):
    """Test settings with an instance folder of the test's own (its own embedded chain)."""
    from trellis.chain import client as chain_client

    yield Settings.from_env({}, env="test", database_url=database_url,
                            instance_path=str(tmp_path / "instance"))
    chain_client.reset_chains()


@pytest.fixture
def app(settings, session_factory):
    return create_app({"TESTING": True}, settings=settings, session_factory=session_factory)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, url: str = "/login") -> str:
    """A CSRF token, read from the form on *url* as a browser would."""
    page = client.get(url)
    match = _CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def login(client, user, password: str = PASSWORD):
    response = client.post("/login", data={"email": user.email, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def logged_in(client, make_user, make_firm):
    """Log in a new user with a role (and a firm for vendor/anchor); returns the user."""

    def go(role: str, firm=None, **kw):
        if role in ("vendor", "anchor") and firm is None:
            firm = make_firm(role="anchor" if role == "anchor" else "vendor")
        user = make_user(role, firm=firm, **kw)
        login(client, user)
        return user

    return go
