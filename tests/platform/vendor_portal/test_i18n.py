"""The vendor and anchor pages are in Chinese by default, with English available, and
every string they show has a Chinese translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3] / "trellis" / "platform"
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None}


def catalog(area: str) -> dict:
    path = ROOT / area / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id}


@pytest.mark.parametrize("area", ["vendor_portal", "anchor"])
def test_every_string_has_a_chinese_translation(area):
    known = {**catalog("vendor_portal"), **catalog("anchor")}
    missing, seen = [], 0
    for folder in (ROOT / area, ROOT / "templates" / area):
        for filename, _line, message, _comments, *_ in extract_from_dir(
                folder, METHODS, keywords=KEYWORDS):
            msgid = message if isinstance(message, str) else message[0]
            seen += 1
            if msgid and not known.get(msgid):
                missing.append(f"{filename}: {msgid}")
    assert seen > 100  # the extraction really read the templates and views
    assert missing == []


def test_chinese_by_default_english_on_request(client, logged_in, chain):
    logged_in("vendor", firm=chain.tier1)
    zh = client.get("/vendor/trade/invoices/new").get_data(as_text=True)
    assert "录入发票" in zh and "发票号码" in zh
    with client.session_transaction() as s:
        s["locale"] = "en"
    en = client.get("/vendor/trade/invoices/new").get_data(as_text=True)
    assert "Enter an invoice" in en and "Invoice number" in en
