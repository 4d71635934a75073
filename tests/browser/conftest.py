"""Browser tests: Playwright driving Debian's chromium against a live server.

The live server is the real application on a temporary SQLite file (migrated, seeded
with a small demo cluster), served by werkzeug in a thread on a free port; jobs
(disbursement, anchoring) are run by the tests directly with the same session factory.
Screenshots go to ``test-artifacts/screenshots/`` (ignored by git). Without
``/usr/bin/chromium`` the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import statistics
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import select

from tests.conftest import need

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Live:
    url: str
    settings: object
    sessions: object
    anchor_firm_id: int
    invitee_firm_id: int
    invitation_code: str
    invoice_amounts: tuple[str, str]
    state: dict = field(default_factory=dict)

    def session(self):
        return self.sessions()


def _pick_invitee(session, anchor_firm_id: int):
    """A vendor of the anchor with no login yet that the product would approve on its
    own (grade A or B, no fraud flag): the journey then reaches an offer without an RM."""
    from trellis.accounts.models import User
    from trellis.scoring.service import score_firm
    from trellis.trade.models import Firm, Invoice, Relationship

    taken = {u.firm_id for u in session.exec(select(User)) if u.firm_id}
    firms = session.exec(select(Firm).join(Relationship, Relationship.supplier_id == Firm.id)
                         .where(Relationship.buyer_id == anchor_firm_id, Firm.role == "vendor")
                         .order_by(Firm.id)).all()
    for firm in firms:
        if firm.id in taken:
            continue
        result = score_firm(session=session, firm_id=firm.id, store=False)
        if result.grade in ("A", "B", "C") and not result.flags:
            amounts = [i.amount_fen for i in session.exec(select(Invoice).where(
                Invoice.seller_id == firm.id, Invoice.buyer_id == anchor_firm_id))]
            return firm, int(statistics.median(amounts))
    raise LookupError("no vendor of the demo anchor would be approved automatically")


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    """The demo served for the worker's browser tests (they share it, and its data)."""
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="module")
def fresh_live(tmp_path_factory):
    """A demo of the module's own, as a new user sees it after `make run`: no other
    test's applications, tickets or clusters in it."""
    yield from _serve(tmp_path_factory)


def _serve(tmp_path_factory):
    need(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    from werkzeug.serving import make_server

    from tests.conftest import auto_approve_grade_c
    from trellis import db, migrate
    from trellis.accounts.models import User
    from trellis.config import Settings
    from trellis.demo.seed import seed_demo
    from trellis.onboarding import invitations
    from trellis.platform import create_app

    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'live.db'}"
    migrate.upgrade(url)
    settings = Settings.from_env({}, env="test", database_url=url,
                                 instance_path=str(folder / "instance"),
                                 batch_max_documents=100_000, scheduler="off")
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    with db.transaction(sessions) as session:
        seed_demo(session=session, n_vendors=40)
        auto_approve_grade_c(session)
        anchor = session.exec(select(User).where(User.email == "anchor@trellis.demo")).one()
        firm, median = _pick_invitee(session, anchor.firm_id)
        (issued,) = invitations.issue(session=session, cluster_id=firm.cluster_id,
                                      firm_ids=[firm.id], secret=settings.secret_key)
        # two modest invoices, unlike each other (no duplicate, no burst of sales)
        amounts = (f"{median * 25 // 10000}.37", f"{median * 40 // 10000}.50")
        live_data = (anchor.firm_id, firm.id, issued.code, amounts)
    app = create_app(settings=settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield Live(f"http://127.0.0.1:{server.server_port}", settings, sessions, *live_data)
    server.shutdown()
    thread.join(timeout=5)
    engine.dispose()


@pytest.fixture(scope="session")
def browser(live, chromium):
    return chromium


@pytest.fixture
def new_page(browser):
    """``new_page(viewport=PHONE, locale="zh-CN")`` -> a page in a fresh browser context."""
    contexts = []

    def make(viewport=DESKTOP, locale="zh-CN"):
        context = browser.new_context(viewport=viewport, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, live: Live, email: str, password: str = "trellis-demo-2026") -> None:
    page.goto(f"{live.url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]


def use_english(page, live: Live) -> None:
    """Switch the page's session to English with the language button (no JavaScript).

    Waits for the page in hand to settle first (a form submitted just before may still be
    navigating: a click on the page being left is lost), then for the English page."""
    page.wait_for_load_state()
    if page.locator("html[lang=en]").count():
        return
    page.locator("form button[name=locale][value=en]").click()
    page.wait_for_selector("html[lang=en]", state="attached")


def use_chinese(page) -> None:
    """Switch the page's session to Chinese with the language button, when an earlier
    test left the demo user reading English (the choice is kept on the user)."""
    page.wait_for_load_state()
    if page.locator("html[lang=zh-CN]").count():
        return
    page.locator("form button[name=locale][value=zh_CN]").click()
    page.wait_for_selector("html[lang=zh-CN]", state="attached")
