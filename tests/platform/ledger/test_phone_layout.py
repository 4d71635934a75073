"""Pages at a 390 px phone width, in Debian's chromium, served straight from the test client
(the browser's requests to a made-up origin are answered by the Flask app: no server, no
port). Reader 12, G13: the RM's application page's 融资标的 table did not stack (the number
and the buyer wrapped one character a line; the page was 729 px wide, a 64-character
invoice number widened others), and the vendor's cooling-off badge ran out of its pill."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ledger.conftest import AS_OF
from tests.platform.conftest import login
from tests.platform.ledger.test_pages import rm_for
from trellis import clock
from trellis.ledger import origination

ORIGIN = "http://trellis.test"
PHONE = {"width": 390, "height": 844}
LONG_NUMBER = "R12" + "7" * 61   # 64 characters: the longest number an invoice may have


@pytest.fixture
def phone(chromium):
    """``phone(client, path)`` -> a chromium page at 390 px showing *path* as *client*
    (its login) sees it."""
    contexts = []

    def show(client, path: str):
        context = chromium.new_context(viewport=PHONE, locale="zh-CN")
        contexts.append(context)

        def answer(route):
            url = route.request.url.removeprefix(ORIGIN)
            response = client.get(url)
            route.fulfill(status=response.status_code, body=response.get_data(),
                          headers={"content-type": response.content_type})

        context.route(f"{ORIGIN}/**", answer)
        page = context.new_page()
        page.goto(ORIGIN + path)
        page.wait_for_load_state()
        return page

    yield show
    for context in contexts:
        context.close()


_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def test_the_application_page_stacks_its_documents_on_a_phone(session, client, world,
                                                              make_user, phone):
    invoice = world.invoice(10_000_000)
    invoice.number = LONG_NUMBER
    session.flush()
    application = origination.apply(session=session, firm_id=world.vendor.id,
                                    product_code="RF-STD", invoice_ids=[invoice.id],
                                    as_of=AS_OF)
    login(client, rm_for(session, make_user, world.cluster))
    page = phone(client, f"/ledger/applications/{application.id}")
    width, view = page.evaluate(_WIDTH)
    assert width <= view, (width, view)
    assert page.evaluate("getComputedStyle(document.querySelector('#documents thead'))"
                         ".display") == "none"
    number = page.locator('#documents td[data-label="编号"]').first
    owed_by = page.locator('#documents td[data-label="付款方"]').first
    for cell in (number, owed_by):
        box = cell.bounding_box()
        assert box and box["width"] > 200 and box["x"] + box["width"] <= view, box


_SPILL = """(el) => { const box = el.getBoundingClientRect(); const range = document.createRange();
    range.selectNodeContents(el);
    return Array.from(range.getClientRects()).filter(r => r.left < box.left - 1
        || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1).length; }"""


def test_the_cooling_off_badge_holds_its_words_on_a_phone(session, client, world, make_user,
                                                         make_loan, phone):
    loan = make_loan(firm=world.vendor, amount_fen=15_000_000, first_loan=True,
                     disburse=clock.today(), due_date=clock.today() + timedelta(days=52))
    login(client, make_user("vendor", firm=world.vendor))
    page = phone(client, f"/vendor/loans/{loan.id}")
    width, view = page.evaluate(_WIDTH)
    assert width <= view, (width, view)
    badge = page.locator("#cooling-badge")
    assert "不收利息" in badge.inner_text() or "免" in badge.inner_text()
    assert badge.evaluate(_SPILL) == 0
    box = badge.bounding_box()
    assert box and box["x"] + box["width"] <= view
    # wrapped over lines, a pill's round ends (a radius of half its height or more) cut
    # through the words: the corners of a badge that wraps stay small
    radius = float(badge.evaluate("el => getComputedStyle(el).borderTopLeftRadius")
                   .removesuffix("px"))
    assert box["height"] > 30, box   # the terms take more than one line at 390 px
    assert radius <= 8, radius
