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
