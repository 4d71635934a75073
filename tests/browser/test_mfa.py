"""Browser: an RM sets up the second factor at login, keeps the recovery codes, and the
next login asks for a code (issue 12). A small live server of its own: no demo data."""

from __future__ import annotations

import re
import threading

import pyotp
import pytest

from tests.browser.conftest import DESKTOP, SHOTS

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def mfa_live(tmp_path_factory, chromium):
    from werkzeug.serving import make_server

    from trellis import db, migrate
    from trellis.accounts import services
    from trellis.config import Settings
    from trellis.platform import create_app

    folder = tmp_path_factory.mktemp("mfa-live")
    url = f"sqlite:///{folder / 'live.db'}"
    migrate.upgrade(url)
    settings = Settings.from_env({"TRELLIS_MFA_REQUIRED": "true"}, env="test",
                                 database_url=url, instance_path=str(folder / "instance"))
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    with db.transaction(sessions) as session:
        services.create_user(session=session, email="rm@mfa.test", password=PASSWORD,
                             role="rm", locale="en")
    server = make_server("127.0.0.1", 0, create_app(settings=settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield f"http://127.0.0.1:{server.server_port}", sessions
    server.shutdown()
    thread.join(timeout=5)
    engine.dispose()


def _password(page, base):
    page.goto(f"{base}/login")
    page.fill("#email", "rm@mfa.test")
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def test_rm_sets_up_totp_then_logs_in_with_a_code(mfa_live, chromium):
    base, _sessions = mfa_live
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _password(page, base)
        assert page.url.endswith("/login/mfa")
        assert "设置第二重验证" in page.content()
        secret = page.inner_text("#mfa-secret").strip()
        assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
        uri = page.get_attribute("#mfa-uri", "href")
        assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
        # The QR code is drawn (inline SVG, allowed by the CSP) and encodes that URI: its
        # modules are exactly the ones segno draws for the URI.
        qr = page.locator("#mfa-qr svg")
        assert qr.is_visible()
        box = qr.bounding_box()
        assert box["width"] >= 150 and abs(box["width"] - box["height"]) < 1
        from trellis.accounts import mfa

        drawn = page.eval_on_selector_all("#mfa-qr svg path[stroke]",
                                          "els => els.map(e => e.getAttribute('d'))")
        expected = re.findall(r'<path stroke="#000" d="([^"]+)"', mfa.qr_svg(uri))
        assert len(drawn) == 1 and drawn == expected and len(expected[0]) > 500
        page.screenshot(path=str(SHOTS / "mfa-setup.png"), full_page=True)
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        codes = page.locator("#recovery-codes li").all_inner_texts()
        assert len(codes) == 10
        page.screenshot(path=str(SHOTS / "mfa-recovery-codes.png"), full_page=True)
        page.click("#mfa-continue")
        page.wait_for_load_state()
        assert "/login" not in page.url
        # Log out; the next login asks for a code, and a recovery code opens it once.
        page.locator("form[action$='/logout'] button").first.click()
        page.wait_for_load_state()
        _password(page, base)
        assert page.url.endswith("/login/mfa") and "#mfa-secret" not in page.content()
        page.fill("#code", "000000")
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        assert "/login/mfa" in page.url and "验证码不正确" in page.content()
        page.fill("#code", codes[0])
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url
        page.goto(f"{base}/network/")
        assert "/login" not in page.url
    finally:
        context.close()
