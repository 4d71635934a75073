"""Reader Q1, Q4, Q10 and Q12 (tenth session) in a browser, in Chinese: a buyer picked
from the firms an ambiguous entry fits; a voucher's lineage picture before its forms on a
phone; a shortened hash copies whole; the parts split off and passed on folded into one
history line per voucher on a phone."""

from __future__ import annotations

from tests.browser.conftest import PHONE, log_in, shot, use_chinese
from tests.browser.test_lineage_phone import _vouchers

VENDOR = "vendor@trellis.demo"


def _long_voucher(live) -> int:
    long_id, parts, short_id = live.state.get("lineage") or _vouchers(live)
    live.state["lineage"] = (long_id, parts, short_id)
    return long_id


def test_a_buyer_is_picked_from_the_firms_an_entry_fits(fresh_live, new_page):
    """Q1: the firms 「…与 N 家买方相符」 named are buttons; with JavaScript, one fills the
    buyer box (the rest of the form kept), and the form then saves to that buyer."""
    live = fresh_live
    page = new_page(viewport=PHONE)
    log_in(page, live, VENDOR)
    use_chinese(page)
    page.goto(f"{live.url}/vendor/trade/invoices/new")
    page.fill("#buyer", "有限公司")
    page.fill("#number", "R10-PICK-1")
    page.fill("#amount", "1234.50")
    page.fill("#issue_date", "2026-01-05")
    page.fill("#due_date", "2027-06-30")
    page.click("button.primary")
    page.wait_for_selector("#buyer-picks")
    assert "家买方相符" in page.inner_text("#buyer-error")
    first = page.locator("#buyer-picks button.pick").first
    entry = first.get_attribute("value")
    assert " · " in entry
    shot(page, "reader10-buyer-picks-phone")
    url = page.url
    first.click()
    assert page.url == url                                     # filled, not sent
    assert page.input_value("#buyer") == entry
    assert page.locator("#buyer-error").count() == 0
    assert page.locator("#buyer-picks").count() == 0
    assert page.input_value("#number") == "R10-PICK-1"         # the rest kept
    assert page.input_value("#amount") == "1234.50"
    page.click("button.primary")
    page.wait_for_url("**/vendor/trade?kind=invoice")
    assert f"（买方：{entry.split(' · ')[0]}）" in page.inner_text("body")


def test_the_lineage_comes_before_the_forms_on_a_phone(fresh_live, new_page):
    """Q4: with several held parts, the picture came after every part's forms; only a link
    jumped there. It comes first now, no taller than most of the screen, and still scrolls
    in its own box (the page never wider than the phone)."""
    live = fresh_live
    long_id = _long_voucher(live)
    page = new_page(viewport=PHONE)
    log_in(page, live, VENDOR)
    use_chinese(page)
    page.goto(f"{live.url}/vendor/vouchers/{long_id}")
    page.wait_for_load_state()
    found = page.evaluate("""() => {
        const box = document.querySelector('.lineage').getBoundingClientRect();
        const form = document.querySelector('form[action$="/split"]').getBoundingClientRect();
        const lineage = document.querySelector('.lineage');
        return {box_top: box.top, box_height: box.height, form_top: form.top,
                screen: window.innerHeight, page: document.documentElement.scrollWidth,
                view: window.innerWidth, picture: lineage.scrollWidth,
                box_width: lineage.clientWidth,
                forms: document.querySelectorAll('form[action$="/split"]').length};
    }""")
    shot(page, "reader10-lineage-first-phone")
    assert found["forms"] > 1, found
    assert found["box_top"] < found["form_top"], found
    assert found["box_top"] < found["screen"], found             # seen before scrolling
    assert found["box_height"] <= 0.6 * found["screen"] + 1, found
    assert found["page"] <= found["view"], found
    assert found["picture"] > found["box_width"], found           # it scrolls in its box


def test_a_short_hash_copies_whole(fresh_live, new_page):
    """Q10: a hash in running text shows its ends; hovering shows it whole and a copy of it
    gives the whole value, without the ellipsis."""
    live = fresh_live
    long_id = _long_voucher(live)
    page = new_page()
    log_in(page, live, VENDOR)
    use_chinese(page)
    page.goto(f"{live.url}/vendor/vouchers/{long_id}")
    found = page.evaluate("""() => {
        const h = document.querySelector('.hash[data-hash]');
        const range = document.createRange();
        range.selectNodeContents(h);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        return {full: h.dataset.hash, title: h.title, copied: sel.toString(),
                shown: h.getBoundingClientRect().width};
    }""")
    assert len(found["full"]) >= 64, found
    assert found["title"] == found["full"] and found["copied"] == found["full"], found
    assert found["shown"] < 200, found                  # 64 monospace characters are ~500 px


def test_parts_passed_on_are_folded_into_one_line_on_a_phone(fresh_live, new_page):
    """Q12: the long voucher's parts split off and passed on took one line each in 以往; one
    line says how many now, and the disclosure lists every part."""
    live = fresh_live
    long_id = _long_voucher(live)
    page = new_page(viewport=PHONE)
    log_in(page, live, VENDOR)
    use_chinese(page)
    page.goto(f"{live.url}/vendor/vouchers")
    line = page.locator(f'li[data-voucher="{long_id}"]')
    assert line.count() == 1
    assert "已拆分转让 4 部分（¥" in line.inner_text()
    details = line.locator("details.past-parts")
    shown = details.locator("li")
    assert shown.count() == 14 and not shown.first.is_visible()  # 10 splits, 4 passed on
    height = line.evaluate("e => e.getBoundingClientRect().height")
    assert height < 120, height
    details.locator("summary").click()
    assert shown.first.is_visible() and shown.nth(13).is_visible()
    shot(page, "reader10-history-folded-phone")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
