"""A small industrial park exported the way a bank would, shaped unlike the demo.

Different header names (Chinese and English, none of them Trellis's own), no deliveries,
payments without references, confirmation status (确权) in its own file, tax filings
with their periods, dates as 2026/3/1 and amounts with thousands separators. The trade is
clean and steady: every invoice has an order, every anchor pays on time, every tax filing
matches the invoices of its own period. Seeded, so each run writes the same files.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from trellis import clock
from trellis.trade import uscc

FILES = ("firms", "relationships", "orders", "invoices", "confirmations", "payments",
         "tax")


@dataclass
class Park:
    folder: Path
    anchors: list[str] = field(default_factory=list)
    vendors: list[str] = field(default_factory=list)
    invoices: int = 0


def _code(prefix: str, n: int) -> str:
    return uscc.make(f"{prefix}{n:07d}")


def _money(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def _day(d: date) -> str:
    return f"{d.year}/{d.month}/{d.day}"


def _months_before(d: date, n: int) -> date:
    """*d* moved *n* calendar months back, the day kept or clamped to the month's end."""
    y, m = divmod(d.year * 12 + d.month - 1 - n, 12)
    last = (date(y + (m == 11), (m + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m + 1, min(d.day, last))


def _filing_periods(today: date) -> dict[str, tuple[date, date]]:
    """The last full quarter ("2026Q3") and the last full year ("2025年度") before today."""
    q = (today.month - 1) // 3  # quarters of this year already over
    year, quarter = (today.year, q) if q else (today.year - 1, 4)
    q_start = date(year, 3 * quarter - 2, 1)
    q_end = (date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)) \
        - timedelta(days=1)
    last = today.year - 1
    return {f"{year}Q{quarter}": (q_start, q_end),
            f"{last}年度": (date(last, 1, 1), date(last, 12, 31))}


def write(folder: Path, *, vendors: int = 24, months: int = 18, seed: int = 11,
          today: date | None = None) -> Park:
    """Write the park's CSV files into *folder*; return what they hold."""
    rng = random.Random(seed)
    today = today or clock.today()
    park = Park(folder)
    park.anchors = [_code("91320500MB", i) for i in (1, 2)]
    park.vendors = [_code("92320500MC", i) for i in range(1, vendors + 1)]
    rows = {name: [] for name in FILES}
    rows["firms"].append(["社会信用代码", "客户名称", "企业类型", "所属行业", "注册地", "手机"])
    for i, code in enumerate(park.anchors):
        rows["firms"].append([code, f"苏州示范核心企业{i + 1}有限公司", "核心企业", "制造业",
                              "苏州工业园区", f"0512-6600{i:04d}"])
    for i, code in enumerate(park.vendors):
        rows["firms"].append([code, f"苏州配套供应商{i + 1}号", "供应商", "制造业",
                              "苏州工业园区", f"1391234{i:04d}"])
    rows["relationships"].append(["供应商代码", "采购方代码", "合作开始", "账期天数"])
    rows["orders"].append(["order_no", "buyer", "seller", "order_amount", "po_date"])
    rows["invoices"].append(["invoice_no", "seller", "buyer", "invoice_amount", "date",
                             "due", "order_no", "备注"])
    rows["confirmations"].append(["发票号", "销方税号", "购方税号", "确权结果", "确权日期"])
    rows["payments"].append(["payer", "payee", "交易金额", "value_date", "invoice_no"])
    rows["tax"].append(["纳税人识别号", "税款所属期", "申报销售额", "已缴税额"])
    # One invoice in each of the *months* whole months before today, counted back from
    # today as scoring counts them (30-day steps from the 1st drifted off the calendar
    # and, after about the 5th of a month, left the latest month without sales).
    start = _months_before(today, months)
    periods = _filing_periods(today)
    for v, code in enumerate(park.vendors):
        anchor = park.anchors[v % 2]
        terms = 45
        rows["relationships"].append([code, anchor, _day(start - timedelta(days=200)), terms])
        level = rng.randrange(60_000_00, 180_000_00)
        in_period: dict[tuple, int] = {}
        for m in range(months):
            issued = _months_before(today, months - m) + timedelta(days=1 + rng.randrange(0, 5))
            if issued > today - timedelta(days=3):
                continue
            amount = level + rng.randrange(-level // 10, level // 10)
            po = f"PO{v:03d}{m:03d}"
            number = f"{3200000 + v * 1000 + m}"
            rows["orders"].append([po, anchor, code, _money(amount),
                                   _day(issued - timedelta(days=7))])
            due = issued + timedelta(days=terms)
            rows["invoices"].append([number, code, anchor, _money(amount), _day(issued),
                                     _day(due), po, "月结"])
            park.invoices += 1
            rows["confirmations"].append([number, code, anchor, "已确权",
                                          _day(issued + timedelta(days=3))])
            if due <= today:
                rows["payments"].append([anchor, code, _money(amount), _day(due), number])
            for label, (p_start, p_end) in periods.items():
                if p_start <= issued <= p_end:
                    in_period[label] = in_period.get(label, 0) + amount
        for label, (p_start, _) in periods.items():
            if p_start >= start and in_period.get(label):
                # declared at or a little above the invoices of the same period
                declared = in_period[label] + rng.randrange(0, in_period[label] // 5)
                rows["tax"].append([code, label, _money(declared),
                                    _money(declared * 3 // 100)])
    for name, table in rows.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8-sig") as fh:
            csv.writer(fh).writerows(table)
    return park
