"""Issue 15, F3: the batch pages shortened hashes one way (12 characters, an ellipsis, 5)
and the vendor's proofs another (10, an ellipsis, 6, the whole hash on hover and in a
copy). One filter now serves every template, in the form of :mod:`trellis.hashes`."""

from __future__ import annotations

import re
from pathlib import Path

import trellis.platform

TX = "0x" + "3f9c2a1b" + "ab" * 24 + "e41d07"
TEMPLATES = Path(trellis.platform.__file__).parent / "templates"


def test_the_one_filter_shows_head_and_tail_and_copies_the_whole_hash(app):
    with app.test_request_context():
        shown = str(app.jinja_env.from_string("{{ h|short_hash }}").render(h=TX))
        none = str(app.jinja_env.from_string("{{ h|short_hash }}").render(h=None))
    assert shown == (
        f'<span class="mono hash" translate="no" title="{TX}" data-hash="{TX}">'
        f'0x3f9c2a1b<span class="hash-gap" aria-hidden="true">…</span>'
        f'<span class="hash-mid">{TX[10:-6]}</span>e41d07</span>'
    )
    assert none == "—"


def test_no_template_shortens_a_hash_its_own_way():
    own_ways = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if "macro short_hash" in text or re.search(
            r"(hash|root|digest|leaf)\w*\s*\[\s*-?\d*\s*:\s*-?\d*\s*\]", text
        ):
            own_ways.append(str(path.relative_to(TEMPLATES)))
    assert own_ways == []
