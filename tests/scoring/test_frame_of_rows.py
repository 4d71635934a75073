"""frames.frame_of_rows builds the same frame as pandas' from_records (then the same
date parsing), whatever the driver returns in a column."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from trellis.scoring.frames import _dates, frame_of_rows

COLUMNS = {
    "ints": [3, 1, 2],
    "ints_none": [3, None, 2],
    "ints_floats": [3, 1.5, 2],
    "ints_bool": [True, 2, 3],
    "big": [2 ** 70, 1, 2],
    "bools": [True, False, True],
    "floats": [0.5, 1.25, 2.0],
    "text": ["a", "b", "c"],
    "text_none": ["a", None, "c"],
    "text_in_int": ["1", "2", "x"],
    "all_none": [None, None, None],
    "decimal": [Decimal("1.5"), Decimal("2"), None],
    "day": ["2026-01-02", "2025-12-31", "2024-02-29"],
    "day_none": ["2026-01-02", None, "2024-02-29"],
    "day_bad": ["2026-01-02", "not a date", "2024-02-29"],
    "day_time": ["2026-01-02 10:11:12.123456", "2025-12-31 00:00:00", "2024-02-29 23:59:59"],
    "day_obj": [date(2026, 1, 2), date(2025, 12, 31), date(2024, 2, 29)],
    "stamp_obj": [datetime(2026, 1, 2, 3), None, datetime(2024, 2, 29)],
}
DATES = ["day", "day_none", "day_time", "day_obj", "stamp_obj"]


def _both(rows, columns, integers, dates):
    new = _dates(frame_of_rows(rows, columns, integers=integers, dates=dates), *dates)
    old = _dates(pd.DataFrame.from_records(rows, columns=columns), *dates)
    return new, old


@pytest.mark.parametrize("name", sorted(COLUMNS))
@pytest.mark.parametrize("as_integer", [False, True])
def test_each_kind_of_column_as_from_records(name, as_integer):
    rows = [(i, v) for i, v in enumerate(COLUMNS[name])]
    dates = [name] if name in DATES else []
    integers = {"i", name} if as_integer else {"i"}
    new, old = _both(rows, ["i", name], integers, dates)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert list(new.dtypes) == list(old.dtypes)


def test_a_whole_table_and_none_rows():
    names = sorted(COLUMNS)
    rows = list(zip(*(COLUMNS[n] for n in names), strict=True))
    new, old = _both(rows, names, {"ints", "ints_none", "ints_floats", "big"}, ["day"])
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    new, old = _both([], names, {"ints"}, ["day"])
    pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_repeated_column_names_fall_back():
    rows = [(1, 2), (3, 4)]
    new, old = _both(rows, ["a", "a"], {"a"}, [])
    pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_sequence_values_stay_one_value():
    rows = [(1, [1, 2]), (2, [3, 4])]
    new, old = _both(rows, ["a", "b"], {"a"}, [])
    pd.testing.assert_frame_equal(new, old, check_exact=True)
