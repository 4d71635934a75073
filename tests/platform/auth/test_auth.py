"""Login, logout, throttling, CSRF, cookies and security headers."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.platform.conftest import PASSWORD, csrf_token, login
from trellis.accounts.models import AuditEvent


def test_login_lands_on_home_and_is_audited(client, session, make_user):
    user = make_user("rm", email="rm1@bank.cn")
    response = login(client, user)
    assert response.location == "/"
    assert "rm1@bank.cn" in client.get("/").get_data(as_text=True)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "login")).all()
    assert [e.actor_id for e in events] == [user.id]


def test_wrong_password_is_refused_with_a_message(client, make_user):
    user = make_user("rm")
    response = client.post("/login", data={"email": user.email, "password": "nope",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "Wrong e-mail or password" in body or "邮箱或密码错误" in body


def test_login_is_throttled(client, make_user):
    user = make_user("rm")
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "bad",
                                    "csrf_token": csrf_token(client)})
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 429


def test_forged_csrf_token_changes_nothing(client, session, make_user):
    admin = make_user("admin")
    login(client, admin)
    response = client.post("/admin/users", data={"csrf_token": "forged", "email": "n@b.cn",
                                                 "role": "rm", "password": "p" * 12})
    assert response.status_code == 400
    from trellis.accounts.models import User

    assert session.exec(select(User).where(User.email == "n@b.cn")).first() is None


def test_open_redirect_after_login_is_refused(client, make_user):
    user = make_user("admin")
    response = client.post("/login?next=//evil.example/x",
                           data={"email": user.email, "password": PASSWORD,
                                 "csrf_token": csrf_token(client)})
    assert response.location == "/"


def test_security_headers_and_cookie_flags(client, make_user):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "http" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    login_response = login(client, make_user("admin"))
    cookie = login_response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_in_production(database_url, tmp_path, session_factory):
    from trellis.config import Settings
    from trellis.platform import create_app

    settings = Settings.from_env({}, env="production", secret_key="s" * 40,
                                 fingerprint_key="shared-key", database_url=database_url,
                                 instance_path=str(tmp_path))
    app = create_app(settings=settings, session_factory=session_factory)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_logout_needs_post_with_csrf(client, make_user):
    login(client, make_user("admin"))
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302


def test_create_user_form_reports_bad_fields(client, make_user):
    login(client, make_user("admin"))
    token = csrf_token(client, "/admin/users")
    response = client.post("/admin/users", data={"csrf_token": token, "email": "v@b.cn",
                                                 "role": "vendor",
                                                 "password": "correct horse battery",
                                                 "firm_uscc": "91330100MA00000010"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "统一社会信用代码校验位错误" in body and 'value="v@b.cn"' in body


@pytest.mark.parametrize("target, expected", [
    ("/vendor/trade?kind=order", "/vendor/trade?kind=order"),
    ("/ledger/loans/3", "/ledger/loans/3"),
    ("//evil.example/x", None),
    ("/%09/evil.example/phish", None),       # the audit's: Location //evil.example/phish
    ("/\t/evil.example/phish", None),
    ("/\\evil.example", None),
    ("\\\\evil.example", None),
    ("/%5Cevil.example", None),
    ("/%2F/evil.example", None),
    ("/%252F/evil.example", None),
    ("/\r\n/evil.example", None),
    ("https://evil.example/", None),
    ("javascript:alert(1)", None),
    ("evil.example", None),
    (" //evil.example", None),
    ("", None),
    (None, None),
])
def test_safe_next_allows_only_paths_on_this_host(target, expected):
    from trellis.platform.auth.views import safe_next

    assert safe_next(target) == expected


@pytest.mark.parametrize("target", ["/%09/evil.example/phish", "/\\evil.example",
                                    "/%2F/evil.example"])
def test_login_never_redirects_off_site(client, make_user, target):
    user = make_user("admin")
    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": PASSWORD,
                                 "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.location == "/"


def _cookie(client) -> str:
    return client.get_cookie("trellis_session").value


def _replay(app, cookie: str, path: str = "/admin/users"):
    other = app.test_client()
    other.set_cookie("trellis_session", cookie)
    return other.get(path)


def test_the_cookie_from_before_logout_no_longer_works(app, client, make_user):
    admin = make_user("admin")
    login(client, admin)
    kept = _cookie(client)
    assert _replay(app, kept).status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    replayed = _replay(app, kept)
    assert replayed.status_code == 302 and "/login" in replayed.location


def test_sign_out_everywhere_and_password_change_end_sessions(app, client, session,
                                                              make_user):
    from trellis.accounts import services

    admin, rm = make_user("admin"), make_user("rm")
    rm_client = app.test_client()
    login(rm_client, rm)
    rm_cookie = _cookie(rm_client)
    assert _replay(app, rm_cookie, "/network/").status_code == 200
    login(client, admin)
    response = client.post(f"/admin/users/{rm.id}/sign-out",
                           data={"csrf_token": csrf_token(client, "/admin/users")})
    assert response.status_code == 303
    assert _replay(app, rm_cookie, "/network/").status_code == 302
    login(rm_client, rm)
    rm_cookie = _cookie(rm_client)
    services.change_password(session=session, user=rm, password="a new long passphrase")
    session.flush()
    assert _replay(app, rm_cookie, "/network/").status_code == 302


@pytest.mark.parametrize("setting, age", [("session_idle_seconds", 1801),
                                          ("session_max_seconds", 8 * 3600 + 1)])
def test_idle_and_absolute_timeouts_end_a_session(app, client, make_user, monkeypatch,
                                                  setting, age):
    import time as real_time

    from trellis.platform import sessions

    login(client, make_user("admin"))
    assert client.get("/admin/users").status_code == 200
    if setting == "session_max_seconds":  # keep it busy: only the absolute limit applies
        app.extensions["trellis.settings"] = app.extensions["trellis.settings"].__class__(
            **{**app.extensions["trellis.settings"].__dict__, "session_idle_seconds": 0})
    later = real_time.time() + age
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert client.get("/admin/users").status_code == 302


@pytest.mark.parametrize("proxies, expected", [(0, "127.0.0.1"), (1, "203.0.113.5")])
def test_trusted_proxies_decide_the_client_address(database_url, tmp_path, session,
                                                   session_factory, make_user, proxies,
                                                   expected):
    from trellis.accounts.models import LoginAttempt
    from trellis.config import Settings
    from trellis.platform import create_app

    settings = Settings.from_env({"TRELLIS_TRUSTED_PROXIES": str(proxies)}, env="test",
                                 database_url=database_url,
                                 instance_path=str(tmp_path / "i"))
    app = create_app({"TESTING": True}, settings=settings, session_factory=session_factory)
    client = app.test_client()
    user = make_user("rm")
    client.post("/login", data={"email": user.email, "password": "wrong",
                                "csrf_token": csrf_token(client)},
                headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.5"})
    attempt = session.exec(select(LoginAttempt).where(LoginAttempt.email == user.email)).one()
    assert attempt.remote_addr == expected


def test_the_admins_new_user_form_refuses_a_weak_password_in_chinese(client, session,
                                                                      make_user):
    """Reader 12, G11: "1111111111" made an account."""
    from trellis.accounts.models import User

    login(client, make_user("admin"))
    token = csrf_token(client, "/admin/users")
    response = client.post("/admin/users", data={"csrf_token": token, "email": "r12d@b.cn",
                                                 "role": "rm", "password": "1111111111"})
    assert response.status_code == 422
    assert "密码过于简单" in response.get_data(as_text=True)
    assert session.exec(select(User).where(User.email == "r12d@b.cn")).first() is None
