"""Downloadable import templates: one per kind, as CSV (UTF-8 with BOM, which Excel
opens correctly in Chinese) or XLSX, with the header and example rows.

The example rows describe one small valid cluster; imported in :data:`IMPORT_ORDER`
(firms, relationships, orders, deliveries, invoices, confirmations, payments, credit
notes, tax filings, historical loans, utility readings, headcount) they go in without a
problem. The Chinese templates (headers in Chinese) give those values in Chinese words
(已确权, 供应商, 退货...), the English ones the codes; either imports the same.
"""

from __future__ import annotations

import io

from trellis import exports
from trellis.messages import N_, msg
from trellis.onboarding.errors import ImportRefused
from trellis.onboarding.kinds import KINDS, Kind, example_value

IMPORT_ORDER = ("firms", "relationships", "orders", "deliveries", "invoices", "confirmations",
                "payments", "credit_notes", "tax_filings", "loans", "utility_readings",
                "headcount")


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ImportRefused(msg(N_("Unknown kind of file %(kind)s: use one of "
                                   "%(choices)s."),
                                kind=kind, choices=list(KINDS)), field="kind") from None


def header(kind: str, lang: str = "zh") -> list[str]:
    """Column headers: Chinese names (``lang="zh"``) or the English keys."""
    return [c.zh if lang == "zh" and c.zh else c.key for c in _kind(kind).columns]


def example_rows(kind: str, lang: str = "en") -> list[list[str]]:
    """The example rows of *kind*'s template, one cell per column: coded values (roles,
    statuses, reasons...) as codes, or in Chinese words for ``lang="zh"`` (the importer
    reads both, :data:`~trellis.onboarding.kinds.ZH_WORDS`)."""
    cols = _kind(kind).columns
    n = max(len(c.example) for c in cols)
    return [[example_value(c, c.example[i], lang) if i < len(c.example) else ""
             for c in cols] for i in range(n)]


def template_csv(kind: str, lang: str = "zh") -> bytes:
    """*kind*'s template as CSV bytes (UTF-8 with BOM, CRLF) with headers in
    *lang* ("zh" or "en")."""
    out = io.StringIO(newline="")
    writer = exports.writer(out, lineterminator="\r\n")
    writer.writerow(header(kind, lang))
    writer.writerows(example_rows(kind, lang))
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(kind: str, lang: str = "zh") -> bytes:
    """*kind*'s template as an XLSX workbook (bold header row in *lang*, the example rows)."""
    # Late: openpyxl is heavy to import, and only this download needs it.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = kind
    sheet.append(exports.safe_row(header(kind, lang)))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in example_rows(kind, lang):
        # text cells: codes and account numbers keep leading zeros
        sheet.append(exports.safe_row(row))
    for i, col in enumerate(_kind(kind).columns, start=1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(14, len(col.zh) * 2
                                                                           + 4)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def filename(kind: str, fmt: str) -> str:
    """The download name of *kind*'s template in format *fmt* ("csv" or "xlsx")."""
    return f"trellis-{kind}-template.{fmt}"
