"""Reading uploaded CSV and XLSX files into a header and rows.

Chinese spreadsheets are often saved as GBK: text files are decoded as UTF-8 (with or
without BOM) first, then GB18030 (a superset of GBK and GB2312), then by
charset-normalizer's best guess. UTF-16 (Excel's "Unicode text") is recognised by its BOM.
Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from trellis.network.errors import FileTooLarge, UnreadableFile

logger = logging.getLogger(__name__)

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class Table:
    """A file's header (stripped strings) and its data rows as ``(row_number, cells)``.

    ``rows`` is a list; cells are strings for CSV and Python values (str, int, float,
    datetime) for XLSX. Blank rows are dropped but keep their numbers.
    """

    header: list[str]
    rows: list[tuple[int, list]]
    encoding: str
    file_type: str


def check_size(data: bytes, max_bytes: int) -> None:
    """Raise :class:`FileTooLarge` when *data* is over *max_bytes*."""
    if max_bytes and len(data) > max_bytes:
        raise FileTooLarge(
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{max_bytes / 1_048_576:.1f} MB. Split it into smaller files and upload each.")


def decode(data: bytes) -> tuple[str, str]:
    """Decode text bytes; return ``(text, encoding label)``. Raises :class:`UnreadableFile`."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "UTF-8 (BOM)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    for codec, label in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
        try:
            return data.decode(codec), label
        except UnicodeDecodeError:
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:1_000_000]).best()
    except Exception:  # pragma: no cover - the detector is best effort
        best = None
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise UnreadableFile("The file's text encoding could not be read. Save it as CSV "
                         "(UTF-8) or CSV (GBK) and upload it again.")


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    reader: Iterator[list[str]] = csv.reader(io.StringIO(text, newline=""),
                                             delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile("The file is empty: it needs a header row and data rows.") \
            from None
    except csv.Error as exc:
        raise UnreadableFile(f"The file is not valid CSV: {exc}.") from None
    rows = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not _blank(cells):
                rows.append((number, cells))
    except csv.Error as exc:
        raise UnreadableFile(f"The file is not valid CSV near row {len(rows) + 2}: {exc}.") \
            from None
    return Table([h.strip().lstrip("\ufeff") for h in header], rows, encoding, "csv")


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFile(f"The spreadsheet could not be opened ({exc.__class__.__name__})."
                             " Save it as .xlsx or CSV and upload it again.") from None
    try:
        sheet = book.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        header_row = next(it, None)
        if header_row is None:
            raise UnreadableFile("The spreadsheet is empty: it needs a header row and data "
                                 "rows.")
        header = ["" if h is None else str(h).strip() for h in header_row]
        while header and not header[-1]:
            header.pop()
        rows = []
        for number, cells in enumerate(it, start=2):
            cells = list(cells[:len(header)])
            if not _blank(cells):
                rows.append((number, cells))
    finally:
        book.close()
    return Table(header, rows, "xlsx", "xlsx")


def read_table(data: bytes, filename: str = "", *, max_bytes: int = 0) -> Table:
    """Read *data* (CSV or XLSX, by name or content) into a :class:`Table`.

    Raises :class:`FileTooLarge` over *max_bytes* (0: no limit) and
    :class:`UnreadableFile` for other formats and undecodable text.
    """
    check_size(data, max_bytes)
    name = filename.lower()
    if data.startswith(XLS_MAGIC) or name.endswith(".xls"):
        raise UnreadableFile("Old Excel .xls files are not accepted: save the sheet as .xlsx "
                             "or CSV and upload it again.")
    if data.startswith(XLSX_MAGIC) or name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    return _read_csv(data)
