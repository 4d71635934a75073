"""Reading uploaded CSV and XLSX files into a header and rows.

Chinese spreadsheets are often saved as GBK: text files are decoded as UTF-8 (with or
without BOM) first, then GB18030 (a superset of GBK and GB2312), then by
charset-normalizer's best guess. UTF-16 (Excel's "Unicode text") is recognised by its BOM.
Rows are numbered as a spreadsheet shows them: the header is row 1.

Reading is bounded (:class:`Limits`) so that a small hostile file cannot stall a worker:
an XLSX is first checked from its zip directory alone (number of entries, declared
uncompressed size, compression ratio: a 71 KB file holding 8 million empty rows is refused
there), then its sheets' XML elements and rows are counted at C speed against a budget,
then the first worksheet's XML is scanned for the rectangle its cells span (rows over the
limit, or more cells than ``max_cells``, are refused there), and only then is it read, by
calamine (Rust; python-calamine), a few hundred nanoseconds an element where openpyxl
took 20 to 70 microseconds. A row wider than the column limit is refused while the rows
are turned into values. CSV has the same row and column limits.
Text holding a NUL character is refused (PostgreSQL cannot store it).
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import itertools
import logging
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from xml.etree import ElementTree

from python_calamine import CalamineWorkbook

from trellis.messages import N_, msg
from trellis.onboarding.errors import (
    BadFileContent,
    FileLimitExceeded,
    FileTooLarge,
    UnreadableFile,
)

logger = logging.getLogger(__name__)

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class Limits:
    """Bounds on reading one file; each is checked while streaming.

    ``max_rows`` counts every row after the header, blank ones included (in an XLSX, up
    to the last row holding a value); ``max_columns`` bounds the header and every row;
    ``max_uncompressed`` bounds the sum of an XLSX's declared uncompressed sizes (bytes);
    ``max_entries`` its number of zip entries;
    ``max_ratio`` the compression ratio of any entry above 1 MiB; ``max_elements`` the
    XML elements of its sheets and shared strings together, counted at C speed before
    the cell reader parses any; ``max_cells`` the rectangle from A1 to the sheet's
    farthest cell holding a value (the reader, calamine, allocates one slot for each: a
    lone cell at XFD1048576 would ask for 17 billion); ``max_part_bytes`` the declared
    size of each other part the reader parses (styles, workbook, relationships: a 4 MB
    upload holding 39 MB of cell styles cost calamine 2.3 s).
    """

    max_rows: int = 100_000
    max_columns: int = 200
    max_uncompressed: int = 100 * 1024 * 1024
    max_entries: int = 1000
    max_ratio: int = 100
    max_elements: int = 4_000_000
    max_cells: int = 4_000_000
    max_part_bytes: int = 8 * 1024 * 1024

    @classmethod
    def for_rows(cls, max_rows: int) -> Limits:
        """Limits for a file of at most *max_rows* rows, read during a request: 30 XML
        elements a row over a full file (what openpyxl writes for 5 columns of numbers
        and text; fewer rows may have more cells each) and a sheet rectangle of at most
        200 columns over those rows (5,000 rows: 160,000 elements, 1 million cells;
        calamine reads such a file in well under 0.2 s whatever the elements are)."""
        return cls(max_rows=max_rows, max_elements=max_rows * 30 + 10_000,
                   max_cells=(max_rows + 1) * 200, max_part_bytes=2 * 1024 * 1024)


DEFAULT_LIMITS = Limits()
_RATIO_FLOOR = 1024 * 1024  # small entries may compress well without harm


def _too_many_rows(limit: int) -> FileLimitExceeded:
    return FileLimitExceeded("The file has more than %(limit)d rows; split it into files "
                             "of at most %(limit)d rows and upload each.", limit=limit)


def _too_many_columns(limit: int, row: int) -> FileLimitExceeded:
    return FileLimitExceeded("Row %(row)d has more than %(limit)d columns; a file may have "
                             "at most %(limit)d columns.", row=row, limit=limit)


def _nul(row: int) -> BadFileContent:
    return BadFileContent("Row %(row)d holds a NUL character (\\0), which is not "
                             "text; save the file again as CSV or XLSX.", row=row)


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
            msg(N_("The file is %(size)s MB; the limit is "
                   "%(limit)s MB. Split it into smaller files and upload each."),
                size=format(len(data) / 1048576, '.1f'),
                limit=format(max_bytes / 1048576, '.1f')))


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
        # Late: only a file in neither UTF-8 nor GB18030 needs it, and it takes longer to
        # import than the rest of this module.
        from charset_normalizer import from_bytes

        best = from_bytes(data[:1_000_000]).best()
    except Exception:  # pragma: no cover - the detector is best effort
        best = None
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise UnreadableFile(N_("The file's text encoding could not be read. Save it as CSV "
                            "(UTF-8) or CSV (GBK) and upload it again."))


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _read_csv(data: bytes, limits: Limits = DEFAULT_LIMITS, head: int = 0) -> Table:
    text, encoding = decode(data)
    if "\x00" in text:
        raise _nul(text[:text.index("\x00")].count("\n") + 1)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    if not head and text.count("\n") > limits.max_rows:
        # Maybe too many rows (quoted cells may hold line breaks): count them at C speed
        # before building any row.
        try:
            records = sum(1 for _ in itertools.islice(
                csv.reader(io.StringIO(text, newline=""), delimiter=delimiter),
                limits.max_rows + 2))
        except csv.Error:
            records = 0  # reported with its row number below
        if records > limits.max_rows + 1:
            raise _too_many_rows(limits.max_rows)
    reader: Iterator[list[str]] = csv.reader(io.StringIO(text, newline=""),
                                             delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile(N_("The file is empty: it needs a header row and data rows.")) \
            from None
    except csv.Error as exc:
        raise UnreadableFile(msg(N_("The file is not valid CSV."), detail=str(exc))) from None
    if len(header) > limits.max_columns:
        raise _too_many_columns(limits.max_columns, 1)
    rows = []
    last_row = limits.max_rows + 1
    try:
        for number, cells in enumerate(reader, start=2):
            if number > last_row:
                raise _too_many_rows(limits.max_rows)
            if len(cells) > limits.max_columns:
                raise _too_many_columns(limits.max_columns, number)
            if not _blank(cells):
                rows.append((number, cells))
                if head and len(rows) >= head:
                    break
    except csv.Error as exc:
        raise UnreadableFile(msg(N_("The file is not valid CSV near row %(row)s."),
                                 row=len(rows) + 2, detail=str(exc))) \
            from None
    return Table([h.strip().lstrip("\ufeff") for h in header], rows, encoding, "csv")


def check_zip(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Check an XLSX's zip directory against *limits* without decompressing anything.

    The declared sizes can be trusted as bounds: Python's zip reader never returns more
    bytes than an entry declares. Raises :class:`FileLimitExceeded` or
    :class:`UnreadableFile`.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise UnreadableFile(N_("The spreadsheet could not be opened (it is not a valid .xlsx). "
                                "Save it as .xlsx or CSV and upload it again.")) from None
    if len(entries) > limits.max_entries:
        raise FileLimitExceeded(N_("The spreadsheet has %(count)d parts; at most %(limit)d are "
                                   "accepted."), count=len(entries), limit=limits.max_entries)
    total = sum(e.file_size for e in entries)
    if total > limits.max_uncompressed:
        raise FileLimitExceeded(N_("The spreadsheet unpacks to %(mb)d MB; the limit is "
                                   "%(limit)d MB. Split it into smaller files."),
                                mb=total // 1_048_576,
                                limit=limits.max_uncompressed // 1_048_576)
    for e in entries:
        if e.filename in _BOOK_PARTS and e.file_size > limits.max_part_bytes:
            raise FileLimitExceeded(N_("The spreadsheet's %(part)s part unpacks to %(kb)d KB; at "
                                       "most %(limit)d KB is accepted. Save it again from your "
                                       "spreadsheet program, or as CSV."), part=e.filename,
                                    kb=e.file_size // 1024,
                                    limit=limits.max_part_bytes // 1024)
        if e.file_size > _RATIO_FLOOR and \
                e.file_size > limits.max_ratio * max(e.compress_size, 1):
            raise FileLimitExceeded(N_("The spreadsheet is packed %(ratio)d times smaller than "
                                       "its contents, which real spreadsheets never are; it "
                                       "was refused as a possible zip bomb. Save it again "
                                       "from your spreadsheet program or as CSV."),
                                    ratio=e.file_size // max(e.compress_size, 1))


_MARKUP = ("xl/worksheets/", "xl/sharedStrings.xml")
#: The other parts calamine parses whole (their elements are not counted: bounded by size).
_BOOK_PARTS = frozenset({"xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                         "[Content_Types].xml", "_rels/.rels"})


#: XML elements a sheet row may carry (200 cells of <c><v> or <c><is><t>, with room).
ELEMENTS_PER_ROW = 600
_SPARE_ELEMENTS = 10_000   # sheet settings, styles of the sheet, shared-string overhead


def markup_counts(data: bytes, stop_after: int = 0) -> tuple[int, int]:
    """(XML elements, rows) of an XLSX's sheets and shared strings (every ``<`` and every
    ``<row``), counted while streaming at C speed (about 10 ms a MB), stopping past
    *stop_after* elements (0: never); (0, 0) for a file that is not an XLSX. Call after
    :func:`check_zip`, which bounds what is decompressed here. What reading a file costs
    grows with its elements (openpyxl spent 20 to 70 microseconds on each; calamine, the
    reader now, well under one)."""
    if not data.startswith(XLSX_MAGIC):
        return 0, 0
    elements = rows = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            if not entry.filename.startswith(_MARKUP):
                continue
            tail = b""
            with archive.open(entry) as stream:
                while chunk := stream.read(1 << 20):
                    elements += chunk.count(b"<")
                    rows += (tail + chunk).count(b"<row") - tail.count(b"<row")
                    tail = chunk[-3:]
                    if stop_after and elements > stop_after:
                        return elements, rows
    return elements, rows


def check_markup(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise :class:`FileLimitExceeded` when an XLSX has more than
    ``limits.max_elements`` XML elements, or more than its rows can hold
    (:data:`ELEMENTS_PER_ROW` a row): junk no row counter sees."""
    elements, rows = markup_counts(data, limits.max_elements)
    if elements > limits.max_elements or \
            elements > (rows + 1) * ELEMENTS_PER_ROW + _SPARE_ELEMENTS:
        raise FileLimitExceeded(N_("The spreadsheet holds more than %(limit)d XML elements, far "
                                   "more than its rows need. Save it again from your "
                                   "spreadsheet program, or as CSV."),
                                limit=min(limits.max_elements,
                                          (rows + 1) * ELEMENTS_PER_ROW + _SPARE_ELEMENTS))


_UNREADABLE_XLSX = ("The spreadsheet could not be opened (it is not a valid .xlsx). Save it "
                    "as .xlsx or CSV and upload it again.")
_BOOK_PARTS_MAX = 8 * 1024 * 1024  # workbook.xml and its relationships: small in real files

# Cells of a sheet's XML (tags in any namespace prefix). A cell that is not self-closing
# may hold a value; every such cell must carry a plain position (r="B7") so that the
# rectangle the reader allocates can be known before it runs.
_CELL_OPEN = re.compile(rb"<(?:\w+:)?c(?:\s[^>]*)?(?<!/)>")
_CELL_REF = re.compile(rb'<(?:\w+:)?c\s(?:[^>]*\s)?r="([A-Z]{1,3})([1-9][0-9]{0,6})"[^>]*(?<!/)>')
# A cell's value as written: the few a float cannot carry are put back from here.
_CELL_VALUE = re.compile(rb"<(?:\w+:)?c\s([^>]*)>\s*(?:<(?:\w+:)?f\b[^>]*/>|<(?:\w+:)?f\b[^>]*>"
                         rb"[^<]*</(?:\w+:)?f>)?\s*<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_LONG_INT = re.compile(rb">\s*-?[0-9]{16,}\s*<")
_ATTR_R = re.compile(rb'(?:^|\s)r="([A-Z]{1,3})([1-9][0-9]{0,6})"')
_ATTR_T = re.compile(rb'(?:^|\s)t="([A-Za-z]+)"')
_EXACT = 2 ** 53  # floats hold every integer below this exactly


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def first_sheet(archive: zipfile.ZipFile) -> tuple[str, str]:
    """(name, zip path) of a workbook's first worksheet (the sheet openpyxl calls
    ``worksheets[0]``: the first of workbook.xml whose relationship is a worksheet, so a
    chart sheet before it is passed over). Raises :class:`UnreadableFile`."""

    def part(name: str):
        try:
            info = archive.getinfo(name)
        except KeyError:
            raise UnreadableFile(_UNREADABLE_XLSX) from None
        if info.file_size > _BOOK_PARTS_MAX:
            raise UnreadableFile(_UNREADABLE_XLSX)
        try:
            return ElementTree.fromstring(archive.read(info))
        except ElementTree.ParseError:
            raise UnreadableFile(_UNREADABLE_XLSX) from None

    book, rels = part("xl/workbook.xml"), part("xl/_rels/workbook.xml.rels")
    targets = {r.get("Id"): (r.get("Type") or "", r.get("Target") or "")
               for r in rels.iter() if _local(r.tag) == "Relationship"}
    for sheet in book.iter():
        if _local(sheet.tag) != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), None)
        kind, target = targets.get(rid, ("", ""))
        if kind.endswith("/worksheet") and target:
            path = target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join("xl", target))
            return sheet.get("name") or "", path
    raise UnreadableFile(N_("The spreadsheet has no worksheet: it needs a header row and data "
                            "rows."))


@dataclass(frozen=True)
class SheetShape:
    """What the first worksheet's XML says before any reader parses it: the farthest
    row and column holding a value (1-based; 0 when none), and the values a float would
    change, by (row, column) from 0: error cells (``#N/A``, kept as that text, as openpyxl
    gives them) and integers of more than 15 digits (kept exact)."""

    rows: int
    columns: int
    exact: dict


_PLAIN_REF = re.compile(rb'<c r="([^"]*)"[^>]*(?<!/)>')
_PLAIN_REFS = re.compile(rb"(?:[A-Z]{1,3}[1-9][0-9]{0,6} )*")
_LETTERS = bytes(range(65, 91))
_DIGITS = b"0123456789"


def _plain_extent(xml: bytes) -> tuple[int, int]:
    """(farthest row, farthest column) of the cells that may hold a value when every
    cell is written ``<c r="B7" ...`` (as Excel, WPS, LibreOffice and openpyxl write
    them), found with bytes methods and one findall; (-1, -1) for any other writing."""
    if b":c " in xml or b":c>" in xml or b":c\n" in xml:
        return -1, -1
    opens = sum(xml.count(b"<c" + end) for end in (b" ", b">", b"/", b"\t", b"\n", b"\r"))
    if opens != xml.count(b'<c r="'):
        return -1, -1
    refs = _PLAIN_REF.findall(xml)  # self-closing cells hold no value: not placed
    if not refs:
        return 0, 0
    joined = b" ".join(refs) + b" "
    if not _PLAIN_REFS.fullmatch(joined):
        return -1, -1
    rows = max(map(int, joined.translate(None, _LETTERS).split()))
    columns = max(map(_column_number, set(joined.translate(None, _DIGITS).split())))
    return rows, columns


def sheet_shape(xml: bytes) -> SheetShape:
    """Scan a worksheet's XML at C speed (regular expressions; a few ms for a 5,000-row
    sheet). Raises :class:`UnreadableFile` when a cell that may hold a value has no plain
    position (its place, and so the reader's allocation, would be unknown)."""
    rows, columns = _plain_extent(xml)
    if rows < 0:  # cells written some other way (prefixes, attributes before r)
        refs = _CELL_REF.findall(xml)
        if len(refs) != len(_CELL_OPEN.findall(xml)):
            raise UnreadableFile(N_("The spreadsheet has cells without a position (such as "
                                    "B7); save it again from your spreadsheet program, or as "
                                    "CSV."))
        if not refs:
            return SheetShape(0, 0, {})
        rows = max(map(int, {d for _, d in refs}))
        columns = max(map(_column_number, {letters for letters, _ in refs}))
    exact: dict = {}
    if b't="e"' in xml or _LONG_INT.search(xml):
        for match in _CELL_VALUE.finditer(xml):
            attrs, raw = match.groups()
            typed = _ATTR_T.search(attrs)
            kind = typed[1] if typed else b"n"
            where = _ATTR_R.search(attrs)
            if where is None:
                continue
            at = (int(where[2]) - 1, _column_number(where[1]) - 1)
            if kind == b"e":
                exact[at] = html.unescape(raw.decode("utf-8", "replace"))
            elif kind == b"n" and _LONG_INT.fullmatch(b">" + raw + b"<"):
                number = int(raw)
                if abs(number) >= _EXACT:  # _values turns the smaller ones to int
                    exact[at] = number
    return SheetShape(rows, columns, exact)


def _values(row: list) -> list:
    """calamine's cells as openpyxl gave them: None for an empty cell, int for a whole
    number (openpyxl: a value written without a point), datetime for a date."""
    out: list = []
    append = out.append
    for c in row:
        t = c.__class__
        if t is str:
            append(c if c else None)
        elif t is float:
            append(int(c) if c.is_integer() and -_EXACT < c < _EXACT else c)
        elif t is date:
            append(datetime(c.year, c.month, c.day))
        else:
            append(c)
    return out


def _read_xlsx(data: bytes, limits: Limits = DEFAULT_LIMITS, head: int = 0) -> Table:
    """Read an XLSX's first worksheet with calamine (Rust), after :func:`check_zip`,
    :func:`check_markup` and :func:`sheet_shape` have bounded what it may cost."""

    check_zip(data, limits)
    try:
        check_markup(data, limits)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            name, path = first_sheet(archive)
            try:
                xml = archive.read(path)
            except KeyError:
                raise UnreadableFile(_UNREADABLE_XLSX) from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        raise UnreadableFile(_UNREADABLE_XLSX) from None
    shape = sheet_shape(xml)
    del xml
    if not head and shape.rows > limits.max_rows + 1:
        raise _too_many_rows(limits.max_rows)
    if shape.rows * shape.columns > limits.max_cells:
        raise FileLimitExceeded(
            N_("The spreadsheet's cells span %(rows)d rows by %(columns)d columns; at most "
               "%(limit)d cells are accepted. Delete stray cells far from the table, or save "
               "it as CSV."), rows=shape.rows, columns=shape.columns, limit=limits.max_cells)
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(data)) as book:
            grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:
        raise UnreadableFile(msg(N_("The spreadsheet could not be opened."
                                    " Save it as .xlsx or CSV and upload it again."),
                                 detail=exc.__class__.__name__)) from None
    for (r, c), value in shape.exact.items():
        if r < len(grid) and c < len(grid[r]):
            grid[r][c] = value
    if not grid:
        raise UnreadableFile(N_("The spreadsheet is empty: it needs a header row and data rows."))
    wide = limits.max_columns + 1
    header_row = _values(grid[0][:wide])
    _check_row(header_row, 1, limits)
    header = ["" if h is None else str(h).strip() for h in header_row]
    while header and not header[-1]:
        header.pop()
    if not head and len(grid) > limits.max_rows + 1:
        raise _too_many_rows(limits.max_rows)
    rows = []
    for number, raw in enumerate(grid[1:], start=2):
        raw = raw[:wide]
        if raw.count("") == len(raw):  # no value in this row: cheap
            continue
        cells = _values(raw)
        _check_row(cells, number, limits)
        cells = cells[:len(header)]
        if not _blank(cells):
            rows.append((number, cells))
            if head and len(rows) >= head:
                break
    return Table(header, rows, "xlsx", "xlsx")


def _read_xlsx_openpyxl(data: bytes, limits: Limits = DEFAULT_LIMITS, head: int = 0) -> Table:
    """The reader before calamine (openpyxl, 20 to 70 microseconds an XML element). Not
    used for uploads: kept as the reference the tests compare :func:`_read_xlsx`'s values
    with and bench/upload_xlsx.py times it against."""
    from openpyxl import load_workbook  # late: heavy, and only tests and the bench use it

    check_zip(data, limits)
    try:
        check_markup(data, limits)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        raise UnreadableFile(N_("The spreadsheet could not be opened (it is not a valid .xlsx). "
                                "Save it as .xlsx or CSV and upload it again.")) from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFile(msg(N_("The spreadsheet could not be opened."
                                    " Save it as .xlsx or CSV and upload it again."),
                                 detail=exc.__class__.__name__)) from None
    try:
        sheet = book.worksheets[0]
        # Bounded: openpyxl pads skipped rows and columns (a lone <row r="1048576"> is a
        # million rows), so both bounds are passed and one over each limit is asked for.
        wide = limits.max_columns + 1
        it = sheet.iter_rows(min_row=1, max_row=limits.max_rows + 2, min_col=1,
                             max_col=wide, values_only=True)
        header_row = next(it, None)
        if header_row is None:
            raise UnreadableFile(N_("The spreadsheet is empty: it needs a header row and data "
                                    "rows."))
        _check_row(header_row, 1, limits)
        header = ["" if h is None else str(h).strip() for h in header_row]
        while header and not header[-1]:
            header.pop()
        rows = []
        last_row = limits.max_rows + 1
        for number, cells in enumerate(it, start=2):
            if number > last_row:
                raise _too_many_rows(limits.max_rows)
            if cells.count(None) == len(cells):  # padding for skipped rows: cheap
                continue
            _check_row(cells, number, limits)
            cells = list(cells[:len(header)])
            if not _blank(cells):
                rows.append((number, cells))
                if head and len(rows) >= head:
                    break
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(msg(N_("The spreadsheet could not be read."
                                    " Save it as .xlsx or CSV and upload it again."),
                                 detail=exc.__class__.__name__)) from None
    finally:
        book.close()
    return Table(header, rows, "xlsx", "xlsx")


def _check_row(cells, number: int, limits: Limits) -> None:
    if len(cells) > limits.max_columns and cells[limits.max_columns] is not None:
        raise _too_many_columns(limits.max_columns, number)
    for c in cells:
        if isinstance(c, str) and "\x00" in c:
            raise _nul(number)


def precheck(data: bytes, filename: str = "", *, max_bytes: int = 0,
             limits: Limits = DEFAULT_LIMITS) -> None:
    """The checks that need no parsing (size; an XLSX's zip directory), for a caller that
    stores a file before reading it. Raises as :func:`read_table` would."""
    check_size(data, max_bytes)
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        check_zip(data, limits)
        try:
            check_markup(data, limits)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
            raise UnreadableFile(N_("The spreadsheet could not be opened (it is not a valid "
                                    ".xlsx). Save it as .xlsx or CSV and upload it again.")) \
                from None


def read_table(data: bytes, filename: str = "", *, max_bytes: int = 0,
               limits: Limits = DEFAULT_LIMITS, head: int = 0) -> Table:
    """Read *data* (CSV or XLSX, by name or content) into a :class:`Table`; with *head*,
    only the header and the first *head* non-blank rows (to show a sample: the rest of
    the file is not parsed, though an XLSX's directory and markup are still checked).

    Raises :class:`FileTooLarge` over *max_bytes* (0: no limit),
    :class:`FileLimitExceeded` over any of *limits*, and :class:`UnreadableFile` for
    other formats and undecodable text.
    """
    check_size(data, max_bytes)
    name = filename.lower()
    if data.startswith(XLS_MAGIC) or name.endswith(".xls"):
        raise UnreadableFile(N_("Old Excel .xls files are not accepted: save the sheet as .xlsx "
                                "or CSV and upload it again."))
    if data.startswith(XLSX_MAGIC) or name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data, limits, head)
    return _read_csv(data, limits, head)
