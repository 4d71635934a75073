"""Reading an uploaded .xlsx on the vendor's path: openpyxl (before) beside calamine (now).

Issue 12, defect 1: the checks before the reader (zip directory, XML element budget of
30 a row, 160,000 for the vendor's 5,000 rows) bound what a file may hold, but openpyxl
spends 20 to 70 microseconds on each element, so a file crafted to sit just under the
budget still cost seconds inside the web request. Each file below is read by the whole
``files.read_table`` path with the vendor's limits, once with the openpyxl reader kept as
the reference (``files._read_xlsx_openpyxl``) and once with the calamine reader uploads
now use; both in the same run, best of ``--repeat`` runs, wall and CPU seconds.

Files: a real 5,000-row invoice sheet written by openpyxl (shared strings, dates, numbers;
its values are checked equal between the readers), and the crafted just-under-budget
sheets of tests/hostile.py (``xlsx_just_under_budget``: empty rich-text runs, runs with
text, number cells, styled empty cells).

    PYTHONPATH=. .venv/bin/python bench/upload_xlsx.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import time
from datetime import date, datetime, timedelta

from openpyxl import Workbook

from tests import hostile
from trellis.onboarding import files

ROWS = 5000
LIMITS = files.Limits.for_rows(ROWS)


def real_invoices(rows: int = ROWS) -> bytes:
    """What a vendor's ERP export looks like: the upload page's columns, 5,000 invoices."""
    book = Workbook()
    sheet = book.active
    sheet.append(["采购方信用代码", "发票号码", "金额", "开票日期", "到期日", "备注"])
    start = date(2026, 1, 1)
    for i in range(rows):
        issue = start + timedelta(days=i % 300)
        sheet.append([f"91310000MA1FL{i % 40:04d}X", f"{i:08d}", round(1000 + i * 7.31, 2),
                      datetime(issue.year, issue.month, issue.day), issue + timedelta(days=60),
                      "货款" if i % 3 else None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _time(reader, data: bytes, repeat: int) -> tuple[float, float, object]:
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            result = reader(data, LIMITS)
        except Exception as exc:  # a refusal is a result too
            result = exc
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, result


def _outcome(result) -> str:
    if isinstance(result, files.Table):
        return f"{len(result.rows)} rows"
    return f"refused ({result.__class__.__name__})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cases = [("real 5,000-row invoices", real_invoices())]
    cases += [(f"crafted: {kind}", hostile.xlsx_just_under_budget(kind, ROWS, LIMITS.max_elements))
              for kind in hostile.JUST_UNDER]
    print(f"vendor limits: {ROWS} rows, {LIMITS.max_elements:,} XML elements, "
          f"{LIMITS.max_cells:,} cells; best of {args.repeat}")
    print(f"{'file':28} {'KB':>5} {'elements':>9} | {'openpyxl wall':>13} {'cpu':>6} | "
          f"{'calamine wall':>13} {'cpu':>6} | {'ratio':>6} | outcome")
    worst = 0.0
    for name, data in cases:
        elements = files.markup_counts(data)[0]
        old_wall, old_cpu, old = _time(files._read_xlsx_openpyxl, data, args.repeat)
        new_wall, new_cpu, new = _time(files._read_xlsx, data, args.repeat)
        if isinstance(old, files.Table) and isinstance(new, files.Table):
            same = old.header == new.header and old.rows == new.rows
        else:
            same = type(old) is type(new)
        worst = max(worst, new_wall)
        print(f"{name:28} {len(data) // 1024:5d} {elements:9,d} | {old_wall:12.3f}s "
              f"{old_cpu:5.2f}s | {new_wall:12.3f}s {new_cpu:5.2f}s | "
              f"{old_wall / new_wall:5.1f}x | {_outcome(new)}"
              f"{'' if same else '  VALUES DIFFER FROM OPENPYXL'}")
    print(f"slowest accepted-size file with calamine: {worst:.3f}s wall")


if __name__ == "__main__":
    main()
