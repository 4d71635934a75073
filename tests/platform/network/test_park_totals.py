"""Issue 15, F17: the home page ("发票金额（近 12 个月）") and the park page ("近12个月交易额")
showed two different totals under close labels: the home page counted rejected invoices,
the first day of the window and trade with firms outside the park; the park page did
not. Both now show the park graph's figure, under one label that says the period and
that rejected invoices are left out."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.platform.network.test_pages import park, rm  # noqa: F401
from trellis import clock
from trellis.platform.i18n import money

TODAY = clock.today()


def _label_and_value(page: str, box: str) -> tuple[str, str]:
    part = page[page.index(f'id="{box}"') :]
    part = part[: part.index("</div></div>") if "</div></div>" in part else 400]
    text = re.sub(r"<[^>]+>", " ", part.split(">", 1)[1])
    return " ".join(text.split()), part


def test_home_and_park_show_one_invoiced_figure_under_one_label(
    client,
    session,
    rm,  # noqa: F811
    park,  # noqa: F811
    make_invoice,
    make_firm,
):
    cluster, anchor, vendor, far = park
    make_invoice(vendor, anchor, 7_000_00, TODAY - timedelta(days=10), status="rejected")
    make_invoice(vendor, anchor, 3_000_00, TODAY - timedelta(days=365))  # before the window
    outsider = make_firm(name="园区外买方")
    make_invoice(vendor, outsider, 5_000_00, TODAY - timedelta(days=5))  # outside the park
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    home = client.get("/").get_data(as_text=True)
    page = client.get(f"/network/{cluster.code}").get_data(as_text=True)
    shown = money(70_000_00)  # 60,000 confirmed + 10,000 pending, both in the park
    start = (TODAY - timedelta(days=364)).isoformat()
    label = f"{start} 至 {TODAY.isoformat()} 开具的发票金额（不含被拒发票）"
    home_text, _ = _label_and_value(home, "kpi-invoiced")
    assert shown in home_text and label in home_text
    park_part = page[page.index('id="park-invoiced"') :]
    park_part = park_part[: park_part.index("</div>")]
    assert shown in park_part and label in park_part
    assert "不含被拒发票" in home[home.index('id="kpi-basis"') :]
    assert "首页显示同一口径的数字" in page
