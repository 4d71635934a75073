"""The shared list bar (``templates/_paging.html``, arguments from
``trellis.platform.paging``): an empty list says so (issue 15: a clerk read 「第 0–0 条」
on every empty list), a search that finds nothing says that, and every paged list counts
its rows through the one macro."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import render_template_string

import trellis.platform
from trellis.paging import Page

TEMPLATES = Path(trellis.platform.__file__).parent / "templates"
BAR = "{% from '_paging.html' import list_bar, pager %}{{ list_bar(page, 'vendor.trade') }}" \
      "{{ pager(page, 'vendor.trade') }}"


@pytest.mark.parametrize("q, said", [("", "暂无记录"), ("no-such", "没有符合搜索条件的记录")])
def test_an_empty_list_says_so(app, q, said):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        html = render_template_string(BAR, page=Page(items=[], total=0, q=q))
    assert said in html and "0–0" not in html and "第 0" not in html
    assert 'data-list-count="0"' in html and "data-pages" not in html   # no 「第 1 / 1 页」


def test_a_list_with_rows_counts_them(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        html = render_template_string(BAR, page=Page(items=[1] * 50, total=120, page=2))
    assert "第 51–100 条，共 120 条" in html and 'data-pages="3"' in html


def test_every_paged_list_counts_through_the_one_macro():
    """A list that writes its own count (as four did) shows 「第 0–0 条」 again."""
    found = [str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
             if "of %(total)s'" in p.read_text(encoding="utf-8") and p.name != "_paging.html"]
    assert not found, f"use list_count from _paging.html: {found}"


@pytest.mark.parametrize("url", ["/vendor/trade", "/vendor/trade?q=nothing-like-this",
                                 "/vendor/apply", "/vendor/loans", "/vendor/applications"])
def test_a_new_vendors_empty_lists_read_as_empty(client, logged_in, url):
    logged_in("vendor")
    page = client.get(url).get_data(as_text=True)
    assert "0–0" not in page and "第 0" not in page
