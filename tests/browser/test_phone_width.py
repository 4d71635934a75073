"""The vendor's and the anchor's pages fit a 390 px phone (issue 15): a clerk found the loan
detail page 904 px wide. The page itself never scrolls sideways; a wide table scrolls
inside its own box (``.table-wrap``). With the demo's loan book behind them, the
borrower's loan pages, statement and messages also read in Chinese (no English words,
codes or fen)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.browser.conftest import PHONE, log_in, shot
from tests.browser.test_reader_zh import _CODES_JS, nav_links, problems, without_codes

_WIDTHS = """() => ({page: document.documentElement.scrollWidth, view: window.innerWidth,
    wide: Array.from(document.querySelectorAll('body *')).filter(e => {
        const r = e.getBoundingClientRect();
        return r.right > window.innerWidth + 1 && !e.closest('.table-wrap')
            && getComputedStyle(e).position !== 'fixed';
    }).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))})"""


BORROWER = "phone-borrower@trellis.demo"


def _a_borrower(live) -> int:
    """The demo loan book (as `make run` books it) and a login for the firm of the demo's
    written-off (or else overdue) loan (the demo vendor logins' own
    firms have no loan): its page and statement hold the most lines. Returns the loan."""
    from trellis.accounts import services
    from trellis.accounts.models import User
    from trellis.db import transaction
    from trellis.demo.loans import seed_loan_book
    from trellis.ledger.models import Loan
    from trellis.notifications import events
    from trellis.trade.models import Firm

    with transaction(live.sessions) as session:
        own = {u.firm_id for u in session.exec(select(User)) if u.firm_id}
        anchor = session.get(Firm, live.anchor_firm_id)
        seed_loan_book(session=session, cluster_id=anchor.cluster_id, skip_firms=own)
        events.collect(session=session)   # the overdue notices reach the messages
        loan = session.scalars(select(Loan).where(Loan.disbursed_on.is_not(None))
                               .order_by((Loan.status == "written_off").desc(),
                                         (Loan.status == "overdue").desc(), Loan.id)).first()
        assert loan is not None, "the demo book has loans paid out"
        if session.exec(select(User).where(User.email == BORROWER)).first() is None:
            services.create_user(session=session, email=BORROWER,
                                 password="trellis-demo-2026", role="vendor",
                                 firm_id=loan.firm_id)
        return int(loan.id)


@pytest.mark.parametrize("role", ["vendor", "anchor"])
def test_main_pages_fit_a_phone(fresh_live, new_page, role):
    live = fresh_live
    page = new_page(viewport=PHONE)
    loan_id = _a_borrower(live) if role == "vendor" else None
    email = BORROWER if role == "vendor" else f"{role}@trellis.demo"
    log_in(page, live, email)
    page.goto(f"{live.url}/{role}/")
    urls = [page.url] + [u for u in nav_links(page, live.url)
                         if f"/{role}/" in u or u.rstrip("/").endswith(f"/{role}")]
    if loan_id is not None:
        urls += [f"{live.url}/vendor/loans/{loan_id}", f"{live.url}/ledger/loans/{loan_id}",
                 f"{live.url}/ledger/loans/{loan_id}/statement"]
    assert len(urls) >= 5, urls
    too_wide, misleading = {}, {}
    for i, url in enumerate(urls):
        page.goto(url)
        page.wait_for_load_state()
        found = page.evaluate(_WIDTHS)
        if found["page"] > found["view"]:
            too_wide[url] = found
        # the loan pages with a loan book behind them (the reader walk's demo has none)
        said = problems(without_codes(page.inner_text("body"), page.evaluate(_CODES_JS)))
        if said:
            misleading[url] = said
        shot(page, f"phone-{role}-{i:02d}")
    assert not too_wide, too_wide
    assert not misleading, misleading


# Tables of the page whose columns run past their box (they scrolled sideways, unseen).
_CUT_TABLES = """() => Array.from(document.querySelectorAll('main .table-wrap')).filter(
    w => w.scrollWidth > w.clientWidth + 1).map(w => {
        const t = w.querySelector('table');
        return (t && t.id) || (w.textContent || '').trim().slice(0, 30); })"""


def test_loan_tables_read_on_a_phone_without_sideways_scrolling(fresh_live, new_page):
    """Outside reader 8, R30: on a 390 px phone the loan's 明细 and 会计分录 showed
    日期/摘要/金额/本金 and 凭证/类型/起息日/科目/借方; 利息, 费用, 退还贵司 and 贷方 were
    off to the side with no hint. Each row is now a small card: every column is on
    screen, with its heading."""
    live = fresh_live
    loan_id = _a_borrower(live)
    cut = {}
    for email, urls in ((BORROWER, [f"/vendor/loans/{loan_id}",
                                    f"/ledger/loans/{loan_id}/statement"]),
                        ("rm@trellis.demo", [f"/ledger/loans/{loan_id}", "/ledger/"]),
                        # reader 10, R14: the loan book, the users, the batches and the
                        # operation log were cut at the side, names one character a line
                        ("admin@trellis.demo", ["/admin/users", "/admin/audit"]),
                        ("auditor@trellis.demo", ["/chain/"])):
        page = new_page(viewport=PHONE)
        log_in(page, live, email)
        for url in urls:
            page.goto(live.url + url)
            page.wait_for_load_state()
            found = page.evaluate(_CUT_TABLES)
            if found:
                cut[url] = found
            shot(page, "phone-loan-" + url.strip("/").replace("/", "-"))
            if url != f"/ledger/loans/{loan_id}":
                continue
            # the journal's credit column and the movements' interest are on screen, labelled
            for table, heading in (("#postings", "贷方"), ("#movements", "利息")):
                cells = page.locator(f'{table} td[data-label="{heading}"]')
                visible = [c for c in cells.all() if c.is_visible() and c.inner_text().strip()]
                assert visible, (table, heading)
                box = visible[0].bounding_box()
                assert box and box["x"] + box["width"] <= PHONE["width"], (table, box)
    assert not cut, cut
