"""Browser: a vendor who forgot the password asks for a link, reads it from the outbox
(the development file sink), sets a new password, logs in with it, and the session kept
from before is dead (issue 12). A small live server of its own: no demo data."""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from pathlib import Path

import pytest

from tests.browser.conftest import DESKTOP, SHOTS

pytestmark = pytest.mark.browser
OLD, NEW = "correct horse battery", "a brand new passphrase"
EMAIL = "vendor@reset.test"


@pytest.fixture(scope="module")
def reset_live(tmp_path_factory, chromium):
    from werkzeug.serving import make_server

    from trellis import db, migrate
    from trellis.accounts import services
    from trellis.config import Settings
    from trellis.platform import create_app
    from trellis.trade.models import Firm

    folder = tmp_path_factory.mktemp("reset-live")
    url = f"sqlite:///{folder / 'live.db'}"
    migrate.upgrade(url)
    settings = Settings.from_env({}, env="test", database_url=url,
                                 instance_path=str(folder / "instance"))
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    with db.transaction(sessions) as session:
        firm = Firm(uscc="91310000MA1FL4RB3X", name="重置测试供应商", role="vendor",
                    industry="manufacturing", founded_on=date(2018, 1, 1))
        session.add(firm)
        session.flush()
        services.create_user(session=session, email=EMAIL, password=OLD, role="vendor",
                             firm_id=firm.id)
    server = make_server("127.0.0.1", 0, create_app(settings=settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield f"http://127.0.0.1:{server.server_port}", Path(settings.instance_path)
    server.shutdown()
    thread.join(timeout=5)
    engine.dispose()


def _log_in(page, base, password):
    page.goto(f"{base}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def test_a_vendor_resets_the_password_from_the_outbox_link(reset_live, chromium):
    base, instance = reset_live
    old_context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    for ctx in (old_context, context):
        ctx.set_default_timeout(15_000)
    try:
        # a session from before (another device), alive
        old = old_context.new_page()
        _log_in(old, base, OLD)
        assert "/login" not in old.url
        old.goto(f"{base}/vendor/")
        assert "/login" not in old.url

        page = context.new_page()
        page.goto(f"{base}/login")
        page.click("#forgot-link")
        page.wait_for_load_state()
        assert page.url.endswith("/login/forgot") and "忘记密码" in page.content()
        page.fill("#email", EMAIL)
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        assert "设置新密码的链接正在发往该邮箱" in page.inner_text("#reset-sent")
        page.screenshot(path=str(SHOTS / "password-reset-sent.png"), full_page=True)

        sink = instance / "outbox.jsonl"
        mails = [json.loads(x) for x in sink.read_text(encoding="utf-8").splitlines()]
        (mail,) = [m for m in mails if m["to"] == EMAIL]
        assert mail["subject"] == "重置您的 Trellis 密码"
        link = re.search(r"http://\S+/login/reset/\S+", mail["body"]).group(0)
        assert link.startswith(base)

        page.goto(link)
        assert "设置新密码" in page.content()
        page.fill("#password", NEW)
        page.fill("#confirm", NEW)
        page.screenshot(path=str(SHOTS / "password-reset-form.png"), full_page=True)
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        assert page.url.endswith("/login") and "密码已修改" in page.content()

        # the old password no longer opens the account; the new one does
        _log_in(page, base, OLD)
        assert page.url.endswith("/login")
        _log_in(page, base, NEW)
        assert "/login" not in page.url
        page.goto(f"{base}/vendor/")
        assert "/login" not in page.url

        # the session from before the reset is dead
        old.goto(f"{base}/vendor/")
        assert "/login" in old.url

        # and the link worked once
        page.goto(link)
        assert "链接无效" in page.inner_text("#reset-error")
    finally:
        old_context.close()
        context.close()
