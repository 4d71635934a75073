"""A Chinese reader's walk through every role's pages (issue 15, "language and money").

Each role logs in, opens every page its navigation links to and the pages those link to
(one level deep, at most ``CAP`` pages), at desktop and phone width, in Chinese, and the
visible text is read as a bank clerk or a workshop owner would: no English words (apart
from proper nouns and codes in ``ALLOWED``), no amount in fen, no raw JSON and no internal
codes. The checks live in plain functions so ``tools``-style crawls can reuse them.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import pytest

from tests.browser.conftest import DESKTOP, PHONE, log_in, shot

ROLES = ("vendor", "vendor2", "anchor", "rm", "auditor", "admin")
CAP = 70
DEPTH = 2

# Proper nouns, standards and codes a Chinese finance reader sees in English too.
ALLOWED = {
    "USCC", "API", "CSV", "PDF", "XLSX", "LPR", "IRR", "APR", "DPD", "PSI", "AUC",
    "Trellis", "ERP", "JSON", "SHA", "ETH", "RPC", "URL", "ID", "HTTP", "HTTPS", "WWW",
    "HHI",  # Herfindahl index, a standard concentration measure
    "Excel", "GBK", "UTF",  # the spreadsheet program and character sets an upload accepts
    "English",  # the language switch names its language in that language
    "PNG",  # the picture's download format, beside CSV and PDF
}
# A page marks a code a person types or copies (a cluster's code, a job's name, a command)
# with the standard ``translate="no"`` attribute. The reader skips such text only when it
# is one short token, or, inside <code>, a short command line of such tokens: a sentence
# never hides behind it.
_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
_COMMAND = re.compile(r"^[a-z][a-z0-9_-]*( [a-z0-9_.:-]+){0,3}$")
_CODES_JS = """() => Array.from(document.querySelectorAll('[translate=no]'))
    .map(e => [e.tagName, e.innerText.trim()]).filter(t => t[1])"""


# Links never followed: leaving the session, switching language, downloads.
SKIP_LINK = re.compile(r"/logout|/locale|[?&]lang=|\.(csv|pdf|xlsx|json)(\?|$)|/export|/download",
                       re.IGNORECASE)

_STRIP = [
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),                    # e-mail addresses
    re.compile(r"https?://\S+"),                                   # URLs
    re.compile(r"\b0x[0-9a-fA-F]{6,}\b"),                          # tx hashes, addresses
    re.compile(r"[0-9a-fA-Fx]*…[0-9a-fA-F]+"),                       # shortened hashes
    re.compile(r"\b[0-9a-fA-F]{16,}\b"),                           # digests
    re.compile(r"\b[0-9A-Z]{18}\b"),                               # USCC numbers
    re.compile(r"Authorization: Bearer|Idempotency-Key|OpenAPI"),  # HTTP headers to copy verbatim
    re.compile(r"[\w.-]+\.(csv|pdf|xlsx|json|png|txt)\b", re.IGNORECASE),  # file names
]
_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z]{3,}(?![A-Za-z0-9_])")
_FEN = [
    re.compile(r"\d{4,}\s*分(?![钟析数级类配])"),   # 61044300 分 (not 分钟, 分析, 评分 etc.)
    re.compile(r"\bfen\b", re.IGNORECASE),
    re.compile(r"amount_fen|_fen\b"),
]
_RAW = [
    re.compile(r"\{\s*\"|\{\}"),                                    # raw JSON, empty or not
    re.compile(r"\b[a-z]+_[a-z_]+\b"),                             # snake_case codes: doc_type
    re.compile(r"\b[a-z]+:\d+\b"),                                 # order:123
    re.compile(r"\b[a-z]+/[a-z_]+\b"),                             # refer/auto_decline
]


def without_codes(text: str, codes: list) -> str:
    """*text* without the page's ``translate="no"`` codes (see ``_CODE``, ``_COMMAND``);
    *codes* are texts or (tag name, text) pairs."""
    keep = set()
    for item in codes:
        tag, code = item if isinstance(item, (list, tuple)) else ("", item)
        if _CODE.match(code) or (tag.upper() == "CODE" and _COMMAND.match(code)):
            keep.add(code)
    for code in sorted(keep, key=len, reverse=True):
        text = re.sub(r"(?<![\w-])" + re.escape(code) + r"(?![\w-])", " ", text)
    return text


def problems(text: str) -> list[str]:
    """What misleads a Chinese reader in a page's visible text, one line per finding."""
    found = []
    addresses = _STRIP[1].sub(" ", _STRIP[0].sub(" ", text))   # links shown to copy
    for pattern in _FEN + _RAW:
        hits = list(pattern.finditer(addresses))
        for m in hits[:3]:
            found.append(f"{pattern.pattern!r}: "
                         f"…{addresses[max(0, m.start() - 30):m.end() + 30]!r}…")
        if len(hits) > 3:
            found.append(f"{pattern.pattern!r}: {len(hits) - 3} more")
    cleaned = text
    for pattern in _STRIP:
        cleaned = pattern.sub(" ", cleaned)
    words = sorted({w for w in _WORD.findall(cleaned) if w not in ALLOWED})
    if words:
        found.append("English: " + ", ".join(words[:40]))
    return found


def nav_links(page, base: str) -> list[str]:
    """Same-site GET links of the page's navigation (header and sub-navigation)."""
    hrefs = page.eval_on_selector_all(
        "nav a[href], header a[href], .subnav a[href], [role=navigation] a[href]",
        "els => els.map(e => e.getAttribute('href'))")
    return _same_site(hrefs, page.url, base)


def body_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("main a[href], body a[href]",
                                      "els => els.map(e => e.getAttribute('href'))")
    return _same_site(hrefs, page.url, base)


def _same_site(hrefs, current: str, base: str) -> list[str]:
    out = []
    host = urlparse(base).netloc
    for href in hrefs:
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        url = urljoin(current, href).split("#")[0]
        if urlparse(url).netloc != host or SKIP_LINK.search(url):
            continue
        if url not in out:
            out.append(url)
    return out


def walk(page, base: str, cap: int = CAP, depth: int = DEPTH) -> list[str]:
    """The pages of a logged-in role: the landing page, its navigation, and the pages they
    link to, *depth* levels deep. At most one page per path pattern with digits (one firm,
    one loan), ``cap`` in all."""
    start = page.url
    first = [start] + nav_links(page, base)
    seen, shapes, order = set(), set(), []

    def add(url):
        shape = re.sub(r"\d+", "N", urlparse(url).path) + ("?" if urlparse(url).query else "")
        if url in seen or shape in shapes or len(order) >= cap:
            return False
        seen.add(url)
        shapes.add(shape)
        order.append(url)
        return True

    level = [url for url in first if add(url)]
    for _ in range(depth):
        following = []
        for url in level:
            if len(order) >= cap:
                break
            page.goto(url)
            page.wait_for_load_state()
            following += [link for link in body_links(page, base) if add(link)]
        level = following
    return order


# A list this long is one a person pages through: it says how many rows there are in all
# (the shared list bar's ``data-list-count``) and has pages.
LONG_LIST = 25
_LONGEST_JS = """() => Math.max(0, ...Array.from(document.querySelectorAll('table, ul, ol'))
    .map(t => t.querySelectorAll(':scope > tbody > tr, :scope > li').length))"""
_PAGED_JS = "() => document.querySelectorAll('[data-list-count]').length > 0"


def unpaged(longest: int, paged: bool) -> list[str]:
    """A finding when a page shows a long list without a count and pages."""
    if longest >= LONG_LIST and not paged:
        return [f"a list of {longest} rows without a count or pages"]
    return []


# Collapsed sections are read too (a flag's evidence, every feature value): a clerk opens
# them. Only an admin's labelled technical section (``data-technical``) stays closed.
_OPEN_JS = """() => document.querySelectorAll('details:not([data-technical])')
    .forEach(d => { d.open = true; })"""


def read_pages(page, base: str, urls: list[str], tag: str) -> dict[str, list[str]]:
    report = {}
    for i, url in enumerate(urls):
        response = page.goto(url)
        page.wait_for_load_state()
        status = response.status if response else 0
        page.evaluate(_OPEN_JS)
        text = without_codes(page.inner_text("body"), page.evaluate(_CODES_JS))
        found = problems(text) + unpaged(page.evaluate(_LONGEST_JS), page.evaluate(_PAGED_JS))
        if status >= 500:
            found.append(f"HTTP {status}")
        if found:
            report[url] = found
        shot(page, f"reader-{tag}-{i:02d}")
    return report


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("role", ROLES)
def test_pages_read_in_chinese(fresh_live, new_page, role, viewport):
    live = fresh_live
    page = new_page(viewport=viewport, locale="zh-CN")
    log_in(page, live, f"{role}@trellis.demo")
    urls = walk(page, live.url)
    assert len(urls) > 1, f"{role} sees no navigation"
    tag = f"{role}-{'phone' if viewport is PHONE else 'desktop'}"
    report = read_pages(page, live.url, urls, tag)
    lines = [f"{url}\n    " + "\n    ".join(found) for url, found in report.items()]
    assert not report, f"{role}: {len(report)} of {len(urls)} pages mislead a Chinese reader:\n" \
        + "\n".join(lines)


def test_checker_catches_what_it_should():
    """The reader itself can fail: each kind of defect is caught, clean Chinese passes."""
    assert problems("可借金额 ¥610,443.00，状态 待确认，USCC 91310000MA1FL8XQ30，Trellis") == []
    assert problems("You can borrow at most 61044300 fen")
    assert problems("金额 61044300 分")
    assert problems("confirmation · order:16657")
    assert problems('interval {"seconds": 30}')
    assert problems("2026-12-06 03:30\t张三\t登录\t用户 1\t{}")
    assert problems("refer/auto_decline · 用户 2")
    assert problems("字段 doc_type")
    assert problems("状态 pending")
    assert not problems("评分 85 分，耗时 3 分钟，发票 a.csv，联系 rm@trellis.demo")
    # a code marked translate="no" is skipped only as one token, never a sentence
    assert not problems(without_codes("园区 jiangbei-park 设置", ["jiangbei-park"]))
    assert problems(without_codes("Tell firms of decisions", ["Tell firms of decisions"]))
    assert problems(without_codes("任务 anchor_pending_x", ["anchor_pending"]))
    assert not problems(without_codes("独立进程 trellis jobs run", [("CODE", "trellis jobs run")]))
    assert problems(without_codes("独立进程 trellis jobs run", [("SPAN", "trellis jobs run")]))
    assert problems(without_codes("Tell firms of decisions and offers now",
                                  [("CODE", "Tell firms of decisions and offers now")]))
    assert not problems("邀请链接 http://127.0.0.1:5000/register/invite?code=AB12")
    assert unpaged(60, False) and not unpaged(60, True) and not unpaged(5, False)
    assert problems("链接 register/invite")
