"""Every string the network and onboarding pages show has a Chinese translation, and the
cluster, mapping and coverage pages read in Chinese by default."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from trellis.trade.models import ClusterManager

ROOT = Path(__file__).resolve().parents[3] / "trellis" / "platform"
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def _known() -> dict:
    known = {}
    for path in ROOT.glob("*/translations/zh_CN/LC_MESSAGES/messages.po"):
        with path.open("rb") as fh:
            known.update({m.id: m.string for m in read_po(fh) if m.id and m.string})
    return known


def test_every_network_string_has_a_chinese_translation():
    known = _known()
    missing, seen = [], 0
    for folder in (ROOT / "network", ROOT / "templates" / "network"):
        for filename, _line, message, *_ in extract_from_dir(folder, METHODS,
                                                              keywords=KEYWORDS):
            msgid = message if isinstance(message, str) else message[0]
            seen += 1
            if msgid and not known.get(msgid):
                missing.append(f"{filename}: {msgid}")
    assert seen > 150
    assert missing == []


def test_pages_in_chinese(client, logged_in, session, make_cluster):
    c = make_cluster()
    rm = logged_in("rm")
    session.add(ClusterManager(cluster_id=c.id, user_id=rm.id))
    session.flush()
    assert "新建园区" in client.get("/network/clusters/new").get_data(as_text=True)
    page = client.get(f"/network/{c.code}/settings").get_data(as_text=True)
    assert "预评估的数据依据" in page and "数据覆盖" in page and "交货" in page
