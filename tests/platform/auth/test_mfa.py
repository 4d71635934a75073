"""The second login step: required for staff in production, enrolment with recovery codes,
a code asked at every later login, wrong codes limited."""

from __future__ import annotations

import re

import pyotp
import pytest

from tests.platform.conftest import PASSWORD, csrf_token
from trellis.config import Settings
from trellis.platform import create_app


@pytest.fixture
def strict_app(database_url, tmp_path, session_factory):
    settings = Settings.from_env({"TRELLIS_MFA_REQUIRED": "true"}, env="test",
                                 database_url=database_url,
                                 instance_path=str(tmp_path / "instance"))
    return create_app({"TESTING": True}, settings=settings, session_factory=session_factory)


def _password(client, user):
    return client.post("/login", data={"email": user.email, "password": PASSWORD,
                                       "csrf_token": csrf_token(client)})


def _code(client, code):
    return client.post("/login/mfa", data={"code": code,
                                           "csrf_token": csrf_token(client, "/login/mfa")})


def test_production_requires_it():
    assert Settings.from_env({}, env="production", secret_key="k" * 40,
                             fingerprint_key="f" * 40).mfa_required is True
    assert Settings.from_env({}, env="development").mfa_required is False


def test_staff_enrol_at_login_then_give_a_code_each_time(strict_app, session, make_user):
    client = strict_app.test_client()
    rm = make_user("rm")
    response = _password(client, rm)
    assert response.status_code == 303 and response.location.endswith("/login/mfa")
    assert client.get("/network/").status_code == 302  # not logged in yet
    page = client.get("/login/mfa").get_data(as_text=True)
    secret = re.search(r'id="mfa-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert _code(client, "000000").status_code == 422
    done = _code(client, pyotp.TOTP(secret).now())
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10
    assert client.get("/network/").status_code == 200
    session.refresh(rm)
    assert rm.totp_secret == secret
    # The next login asks for a code; a recovery code works once.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    _password(client, rm)
    assert _code(client, codes[0]).status_code == 303
    assert client.get("/network/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    _password(client, rm)
    assert _code(client, codes[0]).status_code == 401


def test_vendors_are_not_asked(strict_app, make_user, make_firm):
    client = strict_app.test_client()
    vendor = make_user("vendor", firm=make_firm())
    response = _password(client, vendor)
    assert response.status_code == 302 and "/login/mfa" not in response.location


def test_wrong_codes_send_back_to_the_password(strict_app, session, make_user):
    from trellis.accounts import mfa

    client = strict_app.test_client()
    admin = make_user("admin")
    secret = mfa.new_secret()
    mfa.enrol(session=session, user=admin, secret=secret, code=pyotp.TOTP(secret).now())
    _password(client, admin)
    for _ in range(4):
        assert _code(client, "111111").status_code == 401
    response = _code(client, "111111")
    assert response.status_code == 302 and response.location.endswith("/login")
    assert client.get("/login/mfa").location.endswith("/login")  # must start over
    assert client.get("/admin/users").status_code == 302
