"""Forgot password on the web: the same answer for every e-mail, a link through the
outbox (the development file sink), one use, an expiry, throttling, CSRF (issue 12)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.platform.conftest import PASSWORD, csrf_token, login
from trellis.accounts.models import PasswordReset
from trellis.clock import utcnow

NEW = "a brand new passphrase"


def _sink(app) -> list[dict]:
    path = Path(app.extensions["trellis.settings"].instance_path) / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _ask(client, email: str, **extra):
    return client.post("/login/forgot", data={"email": email,
                                              "csrf_token": csrf_token(client, "/login/forgot"),
                                              **extra})


def _link(app, email: str) -> str:
    mails = [m for m in _sink(app) if m["to"] == email]
    assert mails, _sink(app)
    found = re.search(r"http://localhost/login/reset/(\S+)", mails[-1]["body"])
    assert found, mails[-1]["body"]
    return "/login/reset/" + found.group(1)


def _reset(client, link: str, password: str = NEW, confirm: str | None = None):
    return client.post(link, data={"password": password, "confirm": confirm or password,
                                   "csrf_token": csrf_token(client, link)})


def test_login_page_links_to_forgot_password(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/login/forgot"' in page and "忘记密码" in page


def test_a_vendor_resets_the_password_through_the_outbox(app, client, session, make_user,
                                                          make_firm):
    vendor = make_user("vendor", email="v@firm.cn", firm=make_firm())
    old = app.test_client()
    login(old, vendor)
    assert old.get("/vendor/").status_code == 200
    response = _ask(client, "v@firm.cn")
    assert response.status_code == 200
    mail = _sink(app)[-1]
    assert mail["subject"] == "重置您的 Trellis 密码"   # the user's language: Chinese
    assert "仅可使用一次" in mail["body"]
    link = _link(app, "v@firm.cn")
    page = client.get(link)
    assert page.status_code == 200 and "设置新密码" in page.get_data(as_text=True)
    done = _reset(client, link)
    assert done.status_code == 303 and done.location.endswith("/login")
    assert old.get("/vendor/").status_code == 302          # the old session ended
    login(client, vendor, password=NEW)
    again = client.get(link)                                # used once
    assert again.status_code == 400 and "链接无效" in again.get_data(as_text=True)
    # the delivered message no longer holds the link at rest
    from trellis.notifications.models import NotificationEvent

    stored = session.exec(select(NotificationEvent).where(
        NotificationEvent.kind == "password_reset")).one()
    assert "/login/reset/" not in json.dumps(stored.message)


def test_the_answer_is_the_same_for_known_and_unknown_emails(app, client, make_user):
    make_user("rm", email="rm@bank.cn")
    known = _ask(client, "rm@bank.cn")
    unknown = _ask(client, "nobody@bank.cn")
    assert known.status_code == unknown.status_code == 200

    def strip(html):
        return re.sub(r'name="csrf_token"[^>]*>', "", html.get_data(as_text=True))

    assert strip(known) == strip(unknown)
    assert [m["to"] for m in _sink(app)] == ["rm@bank.cn"]


def test_an_english_user_gets_the_message_in_english(app, client, make_user):
    make_user("auditor", email="en@bank.cn", locale="en")
    _ask(client, "en@bank.cn")
    mail = _sink(app)[-1]
    assert mail["subject"] == "Reset your Trellis password"
    assert "it works once" in mail["body"]


def test_an_expired_link_is_refused(app, client, session, make_user):
    make_user("admin", email="ad@bank.cn")
    _ask(client, "ad@bank.cn")
    link = _link(app, "ad@bank.cn")
    session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get(link)
    assert response.status_code == 400
    assert "链接无效" in response.get_data(as_text=True)


@pytest.mark.parametrize("tail", ["x", "A" * 43, "%00", "a" * 300])
def test_a_wrong_link_is_refused(client, tail):
    response = client.get(f"/login/reset/{tail}")
    assert response.status_code in (400, 404)


def test_a_wrong_token_cannot_set_a_password(client, make_user):
    user = make_user("rm", email="w@bank.cn")
    token = csrf_token(client, "/login/forgot")
    response = client.post("/login/reset/" + "B" * 43,
                           data={"password": NEW, "confirm": NEW, "csrf_token": token})
    assert response.status_code == 400
    assert user.password_hash and client.post("/login", data={
        "email": "w@bank.cn", "password": PASSWORD,
        "csrf_token": csrf_token(client)}).status_code == 302


def test_mismatched_or_short_passwords_keep_the_link(app, client, make_user):
    make_user("rm", email="m@bank.cn")
    _ask(client, "m@bank.cn")
    link = _link(app, "m@bank.cn")
    assert _reset(client, link, NEW, "something else entirely").status_code == 400
    short = _reset(client, link, "short")
    assert short.status_code == 422 and "至少需要 10 个字符" in short.get_data(as_text=True)
    assert _reset(client, link).status_code == 303


def test_requests_are_throttled(app, client, make_user):
    make_user("rm", email="t@bank.cn")
    for _ in range(3):
        assert _ask(client, "t@bank.cn").status_code == 200
    throttled = _ask(client, "t@bank.cn")
    assert throttled.status_code == 429
    assert "请一小时后再试" in throttled.get_data(as_text=True)
    assert len(_sink(app)) == 3
    unknown = [_ask(client, "nobody@bank.cn").status_code for _ in range(4)]
    assert unknown == [200, 200, 200, 429]          # the same for an unknown e-mail


def test_a_forged_csrf_token_sends_nothing(app, client, session, make_user):
    make_user("rm", email="c@bank.cn")
    client.get("/login/forgot")
    response = client.post("/login/forgot", data={"email": "c@bank.cn",
                                                  "csrf_token": "forged"})
    assert response.status_code == 400
    assert _sink(app) == []
    assert session.exec(select(PasswordReset)).all() == []


def test_the_reset_form_needs_a_csrf_token(app, client, make_user):
    user = make_user("rm", email="r@bank.cn")
    before = user.password_hash
    _ask(client, "r@bank.cn")
    link = _link(app, "r@bank.cn")
    response = client.post(link, data={"password": NEW, "confirm": NEW,
                                       "csrf_token": "forged"})
    assert response.status_code == 400
    assert user.password_hash == before
    assert client.get(link).status_code == 200      # the link still works


def test_production_sends_links_only_to_the_public_address(database_url, tmp_path,
                                                           session_factory, make_user):
    from trellis.config import Settings
    from trellis.platform import create_app

    make_user("rm", email="p@bank.cn")
    common = dict(env="production", secret_key="s" * 40, fingerprint_key="f" * 40,
                  database_url=database_url, cookie_secure=False, mfa_required=False,
                  tasks_url="immediate")
    bare = create_app({"TESTING": True}, session_factory=session_factory,
                      settings=Settings.from_env({}, instance_path=str(tmp_path / "a"),
                                                 **common))
    page = bare.test_client().get("/login/forgot", headers={"Host": "evil.example"})
    assert page.status_code == 503 and "evil.example" not in page.get_data(as_text=True)
    app = create_app({"TESTING": True}, session_factory=session_factory,
                     settings=Settings.from_env(
                         {}, instance_path=str(tmp_path / "b"),
                         public_url="https://trellis.bank.cn", **common))
    client = app.test_client()
    evil = {"Host": "evil.example"}
    form = client.get("/login/forgot", headers=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    response = client.post("/login/forgot", data={"email": "p@bank.cn", "csrf_token": token},
                           headers=evil)
    assert response.status_code == 200
    body = _sink(app)[-1]["body"]
    assert "https://trellis.bank.cn/login/reset/" in body and "evil.example" not in body
