"""Reading limits of ``trellis.onboarding.files``: hostile files refused fast (issue 12)."""

from __future__ import annotations

import time

import pytest

from tests import hostile
from trellis.onboarding import files
from trellis.onboarding.errors import BadFileContent, FileLimitExceeded


def test_the_audits_zip_bomb_is_small_and_refused_in_well_under_a_second():
    bomb = hostile.xlsx_empty_rows()
    assert len(bomb) < 120_000  # the audit's file was 71 KB
    started = time.perf_counter()
    with pytest.raises(FileLimitExceeded) as caught:
        files.read_table(bomb, "bomb.xlsx", max_bytes=20 * 1024 * 1024)
    assert time.perf_counter() - started < 1.0
    assert "zip bomb" in caught.value.message


@pytest.mark.parametrize("build, limits, words", [
    # Small sizes: what is measured is that reading stops at the limit, and a loaded
    # 2-core machine must not make it flaky.
    (lambda: hostile.xlsx_numbered_rows(1000), files.Limits(max_rows=500), "500 rows"),
    (lambda: hostile.xlsx_far_row(), files.Limits(max_rows=5000), "5000 rows"),
    (lambda: hostile.xlsx([[f"c{i}" for i in range(300)], [1]]), files.Limits(),
     "200 columns"),
    (lambda: hostile.xlsx_many_entries(), files.Limits(), "parts"),
    (lambda: hostile.xlsx_empty_rows(200_000), files.Limits(max_uncompressed=1_000_000,
                                                            max_ratio=10_000), "unpacks"),
    (lambda: hostile.csv_wide_header(), files.Limits(), "200 columns"),
    (lambda: hostile.csv_many_rows(1000), files.Limits(max_rows=500), "500 rows"),
    (lambda: b"a,b\n1,2\n" + b"1," * 300 + b"\n", files.Limits(), "Row 3"),
], ids=["rows", "far-row", "far-column", "entries", "unpacked-size", "csv-header",
        "csv-rows", "csv-wide-row"])
def test_each_limit_is_checked_while_streaming(build, limits, words):
    data = build()
    started = time.perf_counter()
    with pytest.raises(FileLimitExceeded) as caught:
        files.read_table(data, "f.xlsx" if data[:2] == b"PK" else "f.csv", limits=limits)
    assert time.perf_counter() - started < 1.0
    assert words in caught.value.message
    assert caught.value.status == 413


def test_a_cell_in_the_far_corner_is_not_padded_into_a_huge_row():
    started = time.perf_counter()
    table = files.read_table(hostile.xlsx_far_row(row=2), "far.xlsx")
    assert time.perf_counter() - started < 1.0
    assert table.header == ["h"] and table.rows == []


def test_files_at_the_limits_are_read():
    table = files.read_table(hostile.xlsx_numbered_rows(5000), "ok.xlsx",
                             limits=files.Limits(max_rows=5000))
    assert len(table.rows) == 4999 and table.header == [table.header[0]]
    table = files.read_table(hostile.csv_many_rows(5000), "ok.csv",
                             limits=files.Limits(max_rows=5000))
    assert len(table.rows) == 5000


@pytest.mark.parametrize("data, name", [
    ("发票号,金额\nINV\x001,100\n".encode(), "nul.csv"),
    ("发票号,金额\nINV\x001,100\n".encode("utf-16"), "nul16.csv"),
])
def test_a_nul_character_is_refused(data, name):
    with pytest.raises(BadFileContent) as caught:
        files.read_table(data, name)
    assert "Row 2" in caught.value.message and "NUL" in caught.value.message


def test_a_broken_zip_is_unreadable_not_a_crash():
    with pytest.raises(files.UnreadableFile):
        files.read_table(b"PK\x03\x04" + b"\x00" * 100, "broken.xlsx")


def test_xml_elements_no_row_counter_sees_are_refused_at_c_speed():
    """A few KB holding 250,000 elements in one cell took openpyxl 17 s (issue 12)."""
    import time

    from tests import hostile
    from trellis.onboarding import files as f

    junk = hostile.xlsx_junk_elements()
    started = time.perf_counter()
    with pytest.raises(f.FileLimitExceeded):
        f.read_table(junk, "junk.xlsx")
    with pytest.raises(f.FileLimitExceeded):
        f.precheck(junk, "junk.xlsx")
    assert time.perf_counter() - started < 0.5
    # a real file of the vendor's largest size passes the vendor's limits
    real = hostile.xlsx([["a", "b", "c", "d", "e"]]
                        + [[f"x{i}", i, i * 3, "2026-01-01", "abc"] for i in range(5000)])
    assert len(f.read_table(real, "real.xlsx", limits=f.Limits.for_rows(5000)).rows) == 5000


def test_head_reads_only_the_first_rows():
    from tests import hostile
    from trellis.onboarding import files as f

    rows = [["a", "b"]] + [[f"x{i}", i] for i in range(20_000)]
    for data, name in ((hostile.xlsx(rows), "t.xlsx"),
                       ("\n".join(",".join(map(str, r)) for r in rows).encode(), "t.csv")):
        table = f.read_table(data, name, head=3, limits=f.Limits(max_rows=100))
        assert table.header == ["a", "b"] and [r[0] for r in table.rows] == [2, 3, 4]
