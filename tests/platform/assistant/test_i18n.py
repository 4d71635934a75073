"""Every string of the assistant's pages has a Chinese translation; Chinese by default."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.platform.conftest import login
from trellis.demo.seed import PASSWORD

ROOT = Path(__file__).resolve().parents[3] / "trellis" / "platform"


def test_every_string_has_a_chinese_translation():
    with (ROOT / "assistant/translations/zh_CN/LC_MESSAGES/messages.po").open("rb") as fh:
        known = {m.id: m.string for m in read_po(fh) if m.id}
    missing, seen = [], 0
    for folder in (ROOT / "assistant", ROOT / "templates" / "assistant"):
        for filename, _line, message, *_ in extract_from_dir(
                folder, [("**.py", "python"), ("**.html", "jinja2")],
                keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None}):
            seen += 1
            msgid = message if isinstance(message, str) else message[0]
            if not known.get(msgid):
                missing.append(f"{filename}: {msgid}")
    assert seen > 30 and missing == []


def test_chinese_by_default(client, demo):
    login(client, demo["vendor"], PASSWORD)
    page = client.get("/assistant/").get_data(as_text=True)
    assert "智能客户经理" in page and "您的问题" in page
    panel = client.get("/vendor/").get_data(as_text=True)
    assert "问智能客户经理" in panel
