"""Hostile files for upload tests, built in memory (no fixtures on disk).

Each builder returns the bytes of a file a browser could upload. They were written from
the issue's description of what an outside audit sent (issue 12), not from the reader's
code.
"""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook


def xlsx(rows: list[list]) -> bytes:
    """A real workbook made by openpyxl holding *rows* on its first sheet."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _replace_sheet(xml: bytes) -> bytes:
    """A real workbook whose first sheet's XML is replaced by *xml*."""
    src = zipfile.ZipFile(io.BytesIO(xlsx([["a"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.infolist():
            body = xml if item.filename == "xl/worksheets/sheet1.xml" else src.read(item)
            dst.writestr(item.filename, body)
    return out.getvalue()


SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<sheetData>')
SHEET_TAIL = b"</sheetData></worksheet>"


def xlsx_empty_rows(count: int = 8_000_000) -> bytes:
    """The audit's zip bomb: *count* empty ``<row/>`` elements (8 million: about 48 MB of
    XML packed into about 71 KB)."""
    return _replace_sheet(SHEET_HEAD + b"<row/>" * count + SHEET_TAIL)


def xlsx_numbered_rows(count: int) -> bytes:
    """*count* rows each with one numbered cell: compresses like real data (no ratio
    alarm), so only the row counter can stop it."""
    body = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x%d</t></is></c></row>'
                    % (i, i, i * 7919 % 1_000_003) for i in range(1, count + 1))
    return _replace_sheet(SHEET_HEAD + body + SHEET_TAIL)


def xlsx_far_row(row: int = 1_048_576, column: str = "XFD") -> bytes:
    """A tiny sheet with a header cell and one cell at the far corner: a reader that pads
    skipped rows and columns builds a million rows of 16,384 cells."""
    return _replace_sheet(
        SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>'
        + b'<row r="%d"><c r="%s%d" t="inlineStr"><is><t>x</t></is></c></row>'
        % (row, column.encode(), row) + SHEET_TAIL)


def xlsx_many_entries(count: int = 5000) -> bytes:
    out = io.BytesIO()
    src = zipfile.ZipFile(io.BytesIO(xlsx([["a"]])))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item))
        for i in range(count):
            dst.writestr(f"xl/media/junk{i}.bin", b"")
    return out.getvalue()


def csv_wide_header(repeat: int = 50_000) -> bytes:
    """The audit's 250 KB header: ``金额,`` 50,000 times."""
    return ("金额," * repeat + "\n1\n").encode("utf-8")


def csv_many_rows(count: int, header: str = "a,b") -> bytes:
    return (header + "\n" + "1,2\n" * count).encode()



def json_deep(depth: int = 200_000) -> bytes:
    """JSON nested *depth* levels: with the recursion limit py_ecc sets (100,000), the C
    decoder overflows the stack on it and the process dies (a segmentation fault)."""
    return b"[" * depth + b"]" * depth


def json_deep_object(depth: int = 200_000) -> bytes:
    """The same, as objects inside a value of a real-looking document."""
    return b'{"format": "trellis-proof-v2", "document": ' + b'{"a":' * depth + b"1" \
        + b"}" * depth + b"}"


def xlsx_junk_elements(count: int = 250_000) -> bytes:
    """One cell holding *count* empty elements: about 1 MB of XML (under the size the zip
    ratio check looks at) packed into a few KB, with a single row, so no row counter sees
    it; openpyxl spends about 30 microseconds on each element (8 s here)."""
    cell = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t>' + b"<r/>" * count
            + b"</is></c></row>")
    return _replace_sheet(SHEET_HEAD + cell + SHEET_TAIL)


def _column(k: int) -> bytes:
    letters = b""
    k += 1
    while k:
        k, rest = divmod(k - 1, 26)
        letters = bytes([65 + rest]) + letters
    return letters


#: Row bodies of *n* units, and the XML elements (every ``<``) a unit and a row's fixed
#: part cost: kinds of markup a crafted file can repeat up to the element budget.
JUST_UNDER = {
    # one inline string holding n empty rich-text runs (openpyxl's slowest per element)
    "rich-runs": (lambda i, n: b'<c r="A%d" t="inlineStr"><is><t>a</t>' % i + b"<r/>" * n
                  + b"</is></c>", 1, 6),
    # one inline string of n rich-text runs holding text
    "runs-text": (lambda i, n: b'<c r="A%d" t="inlineStr"><is>' % i
                  + b"<r><t>x</t></r>" * n + b"</is></c>", 4, 4),
    # n number cells
    "num-cells": (lambda i, n: b"".join(b'<c r="%s%d"><v>%d</v></c>' % (_column(k), i, k)
                                        for k in range(n)), 4, 0),
    # n styled empty cells and one number
    "empty-cells": (lambda i, n: b"".join(b'<c r="%s%d" s="0"/>' % (_column(k), i)
                                          for k in range(n))
                    + b'<c r="%s%d"><v>1</v></c>' % (_column(n), i), 1, 4),
}


def xlsx_just_under_budget(kind: str = "rich-runs", rows: int = 5000,
                           budget: int = 160_000) -> bytes:
    """A sheet of *rows* rows filled with markup of *kind* up to just under *budget* XML
    elements (the vendor upload's budget for 5,000 rows is 160,000): the most a crafted
    file can make the reader parse and still be accepted by every check before it."""
    make, unit, fixed = JUST_UNDER[kind]
    spare = budget - 40  # the sheet's own head and tail
    n = (spare // rows - 2 - fixed) // unit  # 2: <row> and </row>
    body = b"".join(b'<row r="%d">' % i + make(i, n) + b"</row>" for i in range(1, rows + 1))
    return _replace_sheet(SHEET_HEAD + body + SHEET_TAIL)


def xlsx_bloated_styles(formats: int = 600_000) -> bytes:
    """A real sheet beside a styles part of *formats* cell formats (39 MB unpacked for
    600,000, packed about 10 times, so no ratio alarm): parts other than the sheets are
    parsed whole by the reader and counted by no element budget."""
    import random

    pick = random.Random(1).randrange
    xfs = b"".join(b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" xfId="%d"/>'
                   % (pick(200), pick(10**6)) for _ in range(formats))
    styles = (b'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.'
              b'openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="%d">' % formats
              + xfs + b"</cellXfs></styleSheet>")
    src = zipfile.ZipFile(io.BytesIO(xlsx([["a"], [1]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename,
                         styles if item.filename == "xl/styles.xml" else src.read(item))
    return out.getvalue()


def xlsx_lying_size(count: int = 2_000_000, declared: int = 200_000) -> bytes:
    """The zip bomb of :func:`xlsx_empty_rows` with its sheet's declared size (and CRC)
    set to those of its first *declared* bytes: a reader that trusts the stream instead
    of the directory would unpack and parse 12 MB from 21 KB."""
    import struct
    import zlib

    data = bytearray(xlsx_empty_rows(count))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    crc = zlib.crc32(archive.read(info)[:declared])
    struct.pack_into("<II", data, info.header_offset + 14, crc, info.compress_size)
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        size = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + size]) == info.filename.encode():
            struct.pack_into("<I", data, at + 16, crc)
            struct.pack_into("<I", data, at + 24, declared)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)
