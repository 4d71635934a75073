"""The calamine reader gives the import validators the values openpyxl gave (issue 12).

Uploads are read by calamine (Rust) since openpyxl's 20 to 70 microseconds an XML element
let a crafted vendor file cost seconds inside a request. ``files._read_xlsx_openpyxl`` is
the reader from before, kept as the reference: every workbook here is read by both and
the cells compared with their types (1 and 1.0, a date and a datetime are told apart).
"""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date, datetime, timedelta
from datetime import time as clock

import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from tests import hostile
from trellis.onboarding import files, kinds
from trellis.onboarding.errors import FileLimitExceeded, UnreadableFile


def _typed(table: files.Table):
    return (table.header, [(n, [(type(c), c) for c in cells]) for n, cells in table.rows])


def _same(data: bytes, limits: files.Limits = files.DEFAULT_LIMITS, head: int = 0):
    new = files._read_xlsx(data, limits, head)
    old = files._read_xlsx_openpyxl(data, limits, head)
    assert _typed(new) == _typed(old)
    return new


def _book(rows: list[list], epoch=None, formats: dict | None = None) -> bytes:
    book = Workbook()
    if epoch is not None:
        book.epoch = epoch
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref, fmt in (formats or {}).items():
        sheet[ref].number_format = fmt
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["销售方信用代码", "发票号码", "金额", "开票日期", "到期日", "备注", "数量"]


def test_a_vendor_invoice_sheet_reads_the_same():
    rows = [HEADER,
            ["091310000MA1FL0001", "00012345", 1234.56, datetime(2026, 3, 1),
             date(2026, 4, 30), "首批", 3],
            ["91310000MA1FL0002X", "12345678901234567890", 100, "2026-03-02", "2026/4/1",
             None, 2.5],
            [],
            [None, None, None, None, None, None, None],
            ["91310000MA1FL0003Y", 20260301, -0.0, datetime(2026, 3, 1, 12, 30, 15),
             clock(6, 30), True, 10**15 + 1],
            ["  有空格  ", "=1+1", 0.1 + 0.2, 45000, 1e20, False, -3],
            [None, None, None, None, None, None, "最后一列"]]
    table = _same(_book(rows))
    assert table.header == HEADER
    assert [n for n, _ in table.rows] == [2, 3, 6, 7, 8]
    first = table.rows[0][1]
    assert first[:2] == ["091310000MA1FL0001", "00012345"]  # leading zeros kept
    assert first[3] == datetime(2026, 3, 1) and first[4] == datetime(2026, 4, 30)
    assert table.rows[1][1][2] == 100 and type(table.rows[1][1][2]) is int


def test_dates_times_and_durations_read_the_same():
    rows = [["a", "b", "c", "d", "e", "f"],
            [0.5, 45000.99999999, 0, 45000.5, 1.0000001, 59],
            [1.5, 0.25, 61, 2958465, 1, 60]]
    formats = {"A2": "yyyy-mm-dd", "B2": "yyyy-mm-dd", "C2": "yyyy-mm-dd",
               "D2": "yyyy-mm-dd hh:mm", "E2": "yyyy-mm-dd", "F2": "yyyy-mm-dd",
               "A3": "[h]:mm", "B3": "h:mm", "C3": "m/d/yy", "D3": "yyyy-mm-dd",
               "E3": "yyyy-mm-dd", "F3": "d-mmm-yy"}
    table = _same(_book(rows, formats=formats))
    assert table.rows[1][1][0] == timedelta(days=1, hours=12)
    assert table.rows[0][1][5] == datetime(1900, 2, 28)  # Excel's 1900 leap day, as before
    rows[2][3] = 2_900_000  # 2958465 is past 9999-12-31 counted from 1904
    _same(_book(rows, epoch=CALENDAR_MAC_1904, formats=formats))


def test_a_sheet_that_starts_away_from_a1_keeps_its_row_numbers():
    data = hostile._replace_sheet(
        hostile.SHEET_HEAD
        + b'<row r="1"><c r="C1" t="inlineStr"><is><t>h</t></is></c>'
          b'<c r="D1" t="inlineStr"><is><t>k</t></is></c></row>'
          b'<row r="6"><c r="D6"><v>7</v></c></row>' + hostile.SHEET_TAIL)
    table = _same(data)
    assert table.header == ["", "", "h", "k"] and table.rows == [(6, [None, None, None, 7])]


def _cells(xml: bytes) -> bytes:
    return hostile._replace_sheet(hostile.SHEET_HEAD + xml + hostile.SHEET_TAIL)


def test_values_a_float_cannot_carry_are_put_back():
    """Error cells (calamine gives '') and integers past 2**53 (calamine gives a float)
    are taken from the sheet's XML, so an e-invoice number of 20 digits written as a
    number stays exact, and #N/A is not mistaken for a blank cell."""
    data = _cells(
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>'
        b'<c r="D1" t="inlineStr"><is><t>d</t></is></c></row>'
        b'<row r="2"><c r="A2"><v>12345678901234567890</v></c><c r="B2" t="e"><v>#N/A</v></c>'
        b'<c r="C2" t="n"><f>A2+0</f><v>-9007199254740993</v></c>'
        b'<c r="D2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
        b'<row r="3"><c r="A3"><v>9007199254740992</v></c><c r="B3" t="str"><v>007</v></c>'
        b'<c r="C3" t="b"><v>1</v></c><c r="D3"><v>1E+20</v></c></row>')
    table = _same(data)
    assert table.rows[0][1] == [12345678901234567890, "#N/A", -9007199254740993, "#DIV/0!"]
    assert table.rows[1][1] == [9007199254740992, "007", True, 1e20]
    assert kinds.text(40)(table.rows[0][1][0]) == "12345678901234567890"
    with pytest.raises(kinds.CellError):
        kinds.parse_amount_fen(table.rows[0][1][1])


def test_known_differences_give_the_validators_the_same_values():
    """Three things calamine reads differently, none of which a validator sees:
    ``<v>1.0</v>`` is 1 (openpyxl: 1.0; Excel writes 1), text without
    ``xml:space="preserve"`` loses its outer spaces (every validator strips them), and
    ``_x000D_`` in text is a carriage return (Excel's escape; openpyxl keeps the six
    characters)."""
    data = _cells(b'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>'
                  b'<c r="B1" t="inlineStr"><is><t>b</t></is></c>'
                  b'<c r="C1" t="inlineStr"><is><t>c</t></is></c></row>'
                  b'<row r="2"><c r="A2"><v>1.0</v></c>'
                  b'<c r="B2" t="inlineStr"><is><t> F-1 </t></is></c>'
                  b'<c r="C2" t="inlineStr"><is><t>x_x000D_y</t></is></c></row>')
    new = files._read_xlsx(data).rows[0][1]
    old = files._read_xlsx_openpyxl(data).rows[0][1]
    assert new == [1, "F-1", "x\ry"] and old == [1.0, " F-1 ", "x_x000D_y"]
    for parse in (kinds.parse_amount_fen, kinds.parse_quantity, kinds.parse_count,
                  kinds.text(10)):
        assert parse(new[0]) == parse(old[0])
    assert kinds.text(10)(new[1]) == kinds.text(10)(old[1])


def test_the_first_worksheet_is_read_past_a_chart_sheet_and_by_its_name():
    book = Workbook()
    book.active.title = "说明 & notes"
    book.active.append(["h1", "h2"])
    book.active.append(["v", 1])
    chart = BarChart()
    chart.add_data(Reference(book.active, min_col=2, min_row=1, max_row=2), titles_from_data=True)
    book.create_chartsheet("chart", 0).add_chart(chart)
    book.create_sheet("second").append(["other"])
    out = io.BytesIO()
    book.save(out)
    table = _same(out.getvalue())
    assert table.header == ["h1", "h2"] and table.rows == [(2, ["v", 1])]


def test_head_reads_the_same_first_rows():
    rows = [["a", "b"]] + [[f"x{i}", i] for i in range(300)]
    table = _same(_book(rows), files.Limits(max_rows=100), head=3)
    assert [n for n, _ in table.rows] == [2, 3, 4]


def test_cells_without_a_position_are_refused_not_guessed():
    data = _cells(b'<row><c t="inlineStr"><is><t>h</t></is></c><c><v>2</v></c></row>')
    with pytest.raises(UnreadableFile) as caught:
        files.read_table(data, "noref.xlsx")
    assert "position" in caught.value.message


@pytest.mark.parametrize("xml", [
    b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1048576"><v>2</v></c></row>',
    b"<row r=\"1\"><c r='XFD1048576'><v>2</v></c><c r=\"A1\"><v>1</v></c></row>",
    b'<row r="1"><c r="A1"><v>1</v></c><c s="1" r = "XFD1048576"><v>2</v></c></row>',
])
def test_a_far_cell_is_refused_before_the_reader_allocates_for_it(xml):
    """calamine allocates the rectangle from the first to the last cell: a lone cell at
    XFD1048576 asked for 512 GiB and aborted the process (found writing this change).
    Positions written in any way the pattern does not know are refused too."""
    started = time.perf_counter()
    with pytest.raises((FileLimitExceeded, UnreadableFile)):
        files.read_table(_cells(xml), "far.xlsx", limits=files.Limits(max_rows=2_000_000))
    assert time.perf_counter() - started < 0.5


def test_a_styled_empty_cell_far_away_is_no_reason_to_refuse():
    data = _cells(b'<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c>'
                  b'<c r="XFD1048576" s="1"/></row><row r="2"><c r="A2"><v>5</v></c></row>')
    assert _typed(files.read_table(data, "ok.xlsx")) == (["h"], [(2, [(int, 5)])])


def test_a_broken_workbook_part_is_unreadable():
    src = zipfile.ZipFile(io.BytesIO(hostile.xlsx([["a"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename != "xl/_rels/workbook.xml.rels":
                dst.writestr(item.filename, src.read(item))
    with pytest.raises(UnreadableFile):
        files.read_table(out.getvalue(), "broken.xlsx")


@pytest.mark.parametrize("build", [hostile.xlsx_bloated_styles, hostile.xlsx_lying_size])
def test_parts_no_element_budget_counts_are_refused_fast(build):
    """Found while moving to calamine: it parses the styles part whole (39 MB of cell
    formats in a 4 MB upload cost it 2.3 s), and a sheet whose zip entry declares less
    than it holds must be refused at the declared size, not unpacked."""
    data = build()
    started = time.perf_counter()
    with pytest.raises((FileLimitExceeded, UnreadableFile)):
        files.read_table(data, "x.xlsx", limits=files.Limits.for_rows(5000))
    assert time.perf_counter() - started < 0.5
