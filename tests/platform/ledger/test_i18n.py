"""Every string of the ledger pages has a Chinese translation in the area's catalog."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3] / "trellis" / "platform"
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None}


def test_every_ledger_string_has_a_chinese_translation():
    path = ROOT / "ledger" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        known = {m.id: m.string for m in read_po(fh) if m.id}
    missing, seen = [], 0
    for folder in (ROOT / "ledger", ROOT / "templates" / "ledger"):
        for filename, _line, message, *_ in extract_from_dir(folder, METHODS,
                                                             keywords=KEYWORDS):
            msgid = message if isinstance(message, str) else message[0]
            seen += 1
            if msgid and not known.get(msgid):
                missing.append(f"{filename}: {msgid}")
    assert seen > 100
    assert missing == []
