"""Outside reading pages 7: the closed AI customer manager was a bar as wide as the phone
(24rem on a desktop) over the page's tiles, buttons and tables, and amounts broke across
lines (¥20,189,574 / .16) on the anchor's overview at 390 px and at 1280 px. Closed, the
assistant is a small button that leaves the end of every page clear; an amount is read
whole at both widths."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, log_in, shot, use_chinese
from tests.browser.test_reader_zh import nav_links

# Interactive things and table cells of the page that the closed assistant sits over,
# with the page scrolled to its end (where nothing can be scrolled out from under it).
_COVERED = """() => {
  const panel = document.getElementById('assistant-panel');
  if (!panel) return {missing: true};
  window.scrollTo(0, document.documentElement.scrollHeight);
  const covered = [];
  for (const e of document.querySelectorAll(
      'main a, main button, main input, main select, main summary, main td, main th')) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || r.bottom <= 0 || r.top >= innerHeight) continue;
    const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
    const y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
    const hit = document.elementFromPoint(x, y);
    if (hit && panel.contains(hit)) covered.push(e.tagName + ' ' + e.textContent.slice(0, 30));
  }
  return {open: panel.open, width: panel.getBoundingClientRect().width, covered};
}"""

# Amounts (¥1,234.56) laid out on more than one line.
_BROKEN = """() => {
  const money = /^-?¥[\\d,]+\\.\\d\\d$/, out = [];
  for (const e of document.querySelectorAll('main *')) {
    if (e.children.length || !money.test(e.textContent.trim())) continue;
    const range = document.createRange();
    range.selectNodeContents(e);
    const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
    if (lines.size > 1) out.push(e.tagName + '.' + e.className + ' ' + e.textContent.trim());
  }
  return out;
}"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
@pytest.mark.parametrize("role", ["vendor", "anchor"])
def test_the_assistant_covers_nothing_and_amounts_stay_whole(live, new_page, role, viewport):
    page = new_page(viewport=viewport)
    log_in(page, live, f"{role}@trellis.demo")
    page.goto(f"{live.url}/{role}/")
    use_chinese(page)     # the widths below are the Chinese label's
    urls = [page.url] + [u for u in nav_links(page, live.url) if f"/{role}/" in u]
    assert len(urls) >= 5, urls
    covered, broken, wide = {}, {}, {}
    for url in urls:
        page.goto(url)
        page.wait_for_load_state()
        found = page.evaluate(_COVERED)
        assert not found.get("missing"), url
        assert not found["open"], url            # closed until the user opens it
        if found["covered"]:
            covered[url] = found["covered"]
        # a corner button: at most half a phone, or 16rem (256 px) on a desktop
        if found["width"] > min(viewport["width"] / 2, 256):
            wide[url] = found["width"]
        if page.evaluate(_BROKEN):
            broken[url] = page.evaluate(_BROKEN)
    shot(page, f"covered-{role}-{viewport['width']}")
    assert not covered, covered
    assert not wide, wide
    assert not broken, broken
    # open, it is the panel, and a click on its title closes it again
    page.goto(urls[0])
    page.click("#assistant-panel summary")
    assert page.evaluate("document.getElementById('assistant-panel').open")
    assert page.evaluate("document.getElementById('assistant-panel').getBoundingClientRect()"
                         ".width") > min(viewport["width"] * 0.8, 300)
    page.click("#assistant-panel summary")
    assert not page.evaluate("document.getElementById('assistant-panel').open")


# The same, at every scroll position: the page is scrolled a third of a screen at a time
# from its top to its end, and at each step nothing of the page is under the closed
# assistant (a button fixed in the corner was over whatever scrolled beneath it).
_COVERED_ANYWHERE = """async () => {
  const panel = document.getElementById('assistant-panel');
  if (!panel) return {missing: true};
  const covered = new Set(), end = document.documentElement.scrollHeight;
  for (let y = 0; ; y += Math.round(innerHeight / 3)) {
    window.scrollTo(0, y);
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const p = panel.getBoundingClientRect();
    for (const e of document.querySelectorAll(
        'main a, main button, main input, main select, main summary, main td, main th, '
        + 'main dd, main dt, main p, main li, main h1, main h2, main label, main span')) {
      const r = e.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      if (r.left < p.right && p.left < r.right && r.top < p.bottom && p.top < r.bottom)
        covered.add(e.tagName + ' ' + e.textContent.trim().slice(0, 30) + ' @' + y);
    }
    if (y + innerHeight >= end) break;
  }
  return {open: panel.open, covered: Array.from(covered).slice(0, 8)};
}"""


@pytest.mark.parametrize("role", ["vendor", "anchor"])
def test_on_a_phone_the_assistant_is_over_nothing_while_scrolling(live, new_page, role):
    """Outside reader 8, R7: at 390 px the closed 「问智能客户经理」 button hid the apply
    page's due date, the offer's 合同利率, the queue's first 「查看」 link and the voucher's
    编号 as the page scrolled under it. Closed, it is a round icon in the top bar; open, the
    panel."""
    page = new_page(viewport=PHONE)
    log_in(page, live, f"{role}@trellis.demo")
    page.goto(f"{live.url}/{role}/")
    use_chinese(page)
    urls = [page.url] + [u for u in nav_links(page, live.url) if f"/{role}/" in u]
    # the detail pages the reader named: an application's offer, a voucher
    for listing, detail in (("/vendor/applications", "/vendor/applications/"),
                            ("/anchor/vouchers", "/anchor/vouchers/")):
        if listing.startswith(f"/{role}/"):
            page.goto(live.url + listing)
            found = page.eval_on_selector_all(
                f'main a[href^="{detail}"]', "els => els.map(e => e.getAttribute('href'))")
            urls += [live.url + h for h in found if h[len(detail):].isdigit()][:1]
    assert any("/apply" in u or "/queue" in u for u in urls), urls
    covered = {}
    for url in urls:
        page.goto(url)
        page.wait_for_load_state()
        found = page.evaluate(_COVERED_ANYWHERE)
        assert not found.get("missing"), url
        assert not found["open"], url
        if found["covered"]:
            covered[url] = found["covered"]
    shot(page, f"covered-anywhere-{role}-390")
    assert not covered, covered
    # the icon says what it is, and opens the panel
    page.goto(urls[0])
    summary = page.locator("#assistant-panel summary")
    assert summary.get_attribute("title") == "问智能客户经理"
    summary.click()
    assert page.evaluate("document.getElementById('assistant-panel').open")
    assert page.locator("#assistant-panel-text").is_visible()
