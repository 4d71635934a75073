"""The Chinese catalogues read as one: Flask-Babel merges every area's catalogue and the
last one loaded wins, so one English word translated two ways shows the wrong one on some
page (the anchor's queue once read 确认数, block confirmations, and the audit trail's time
column 时机). Each msgid has one Chinese text across all catalogues, and the words a bank
clerk found wrong stay fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import trellis.platform

HERE = Path(trellis.platform.__file__).parent
CATALOGUES = sorted(HERE.glob("**/translations/zh_CN/LC_MESSAGES/messages.po"))
TEMPLATES = HERE / "templates"


def _entries() -> dict[str, dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for path in CATALOGUES:
        with path.open("rb") as fh:
            for m in read_po(fh):
                if m.id and m.string:
                    seen.setdefault(str(m.id), {})[str(path.relative_to(HERE))] = m.string
    return seen


def test_one_msgid_one_chinese_text():
    clashes = {k: v for k, v in _entries().items() if len(set(v.values())) > 1}
    assert not clashes, clashes


@pytest.mark.parametrize("msgid, wrong", [
    ("Awaiting pay-out", "待确权"),          # a loan waiting for its money
    ("In force", "还款中"),                  # a fresh voucher
    ("buys from it", "向其采购"),            # reads as the reverse direction
    ("Earliest date", "来源"), ("Latest date", "止"),
    ("Time", "时机"),
    ("Anchoring account", "科目"),
    ("Confirmation queue", "确认数"),
    ("Open", "有效"),                        # a row link
    ("Block confirmations", "确权"),         # the chain's column: not the anchor's 确权
    ("Sort order", "订单"),                  # the warnings' sort order, not a purchase order
    ("Submit the application", "查看我的报价"),  # the button submits; no quote is shown
])
def test_words_a_clerk_found_wrong(msgid, wrong):
    found = _entries().get(msgid)
    assert found, f"{msgid!r} has no Chinese entry"
    assert wrong not in set(found.values())


@pytest.mark.parametrize("template, msgid", [
    ("anchor/_nav.html", "Confirmation queue"),
    ("chain/index.html", "Anchoring account"),
    ("admin/audit.html", "Time"),
    ("network/cluster.html", "Earliest date"),
    ("vendor_portal/loan.html", "Repaid within the cooling-off period"),
    ("chain/index.html", "Block confirmations"),
    ("vendor_portal/warnings_admin.html", "Sort order"),
    ("vendor_portal/apply.html", "Submit the application"),
])
def test_pages_use_the_words(template, msgid):
    assert f"_('{msgid}" in (TEMPLATES / template).read_text(encoding="utf-8")
