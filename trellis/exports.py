"""The one writer of every CSV and XLSX export: cells that a spreadsheet would run as a
formula are escaped (OWASP "CSV injection").

A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading apostrophe, so Excel, WPS and LibreOffice show it as text instead of evaluating
``=cmd|' /C calc'!A0`` or ``=HYPERLINK(...)``. Plain numbers written as text (``-12.50``,
``+8613800001111``) are left alone: they cannot call anything. Non-text values (int,
Decimal, date) are never changed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9,]*(\.[0-9]+)?%?")


def safe_cell(value: Any) -> Any:
    """*value*, with a leading apostrophe when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_START) \
            and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of *row* through :func:`safe_cell`."""
    return [safe_cell(v) for v in row]


class SafeWriter:
    """``csv.writer`` whose rows go through :func:`safe_cell`."""

    def __init__(self, out: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one row, its cells made safe."""
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write every row, cells made safe."""
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):
    """``csv.DictWriter`` whose values go through :func:`safe_cell`."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        """Write one row (a dict by field name), its values made safe."""
        return super().writerow({k: safe_cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        """Write every row, values made safe."""
        for row in rowdicts:
            self.writerow(row)


def writer(out: IO[str], **kwargs: Any) -> SafeWriter:
    """A CSV writer on the text stream *out* (``csv.writer`` keyword arguments)."""
    return SafeWriter(out, **kwargs)


def csv_bytes(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """*header* and *rows* as CSV, UTF-8 with BOM (Excel reads Chinese), CRLF lines."""
    out = io.StringIO(newline="")
    w = writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("utf-8-sig")
