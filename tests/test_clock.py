"""The business day is Beijing's (reader 13, J1): between 00:00 and 08:00 Beijing time a
server kept in UTC is still on the day before, and every time a page shows is Beijing time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from trellis import clock


class _At(datetime):
    """A datetime whose now() is 2026-12-07 17:30 UTC (01:30 on the 8th in Beijing)."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        instant = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)
        return instant.astimezone(tz) if tz is not None else instant.replace(tzinfo=None)


def test_today_is_the_beijing_date_when_utc_is_still_yesterday(monkeypatch):
    monkeypatch.setattr(clock, "datetime", _At)
    assert clock.utcnow().date() == date(2026, 12, 7)
    assert clock.today() == date(2026, 12, 8)


@pytest.mark.parametrize(("stored", "day"), [
    (datetime(2026, 12, 7, 15, 59, tzinfo=UTC), date(2026, 12, 7)),
    (datetime(2026, 12, 7, 16, 0, tzinfo=UTC), date(2026, 12, 8)),
    (datetime(2026, 12, 7, 16, 0), date(2026, 12, 8)),  # naive: stored UTC
])
def test_day_of_a_stored_time_is_its_beijing_date(stored, day):
    assert clock.day_of(stored) == day


def test_no_module_reads_the_servers_own_date():
    """``date.today()`` is the server's zone (UTC in production): the business day comes
    from :func:`trellis.clock.today` only."""
    root = Path(__file__).resolve().parent.parent / "trellis"
    found = [f"{p.relative_to(root)}:{i}" for p in root.rglob("*.py")
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\bdate\.today\(\)|utcnow\(\)\.date\(\)|datetime\.now\(UTC\)\.date\(\)",
                          line) and p.name != "clock.py"]
    assert found == []
