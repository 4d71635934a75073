"""The one clock every package reads: timezone-aware UTC, and the business day in Beijing.

SQLModel stores datetimes as UTC; a naive ``datetime.now()`` would be local time on one
machine and UTC on another. Every table's ``created_at`` style default is :func:`utcnow`.

The business day (what "today" means for a due date, an offer's validity, interest, the
cooling-off, the daily jobs) is the date in Beijing, :func:`today`, never
``date.today()``: on a server kept in UTC that is the day before between 00:00 and 08:00
Beijing time, while every time the pages show is Beijing time (reader 13, J1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

#: The zone times are shown in to people: Beijing time (UTC+8, no daylight saving).
DISPLAY_TZ = "Asia/Shanghai"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """The business day: today's date in Beijing (:data:`DISPLAY_TZ`), whatever the
    server's own zone."""
    return datetime.now(ZoneInfo(DISPLAY_TZ)).date()


def day_of(value: datetime) -> date:
    """The Beijing date of *value* (a stored time; without a zone it is UTC)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(DISPLAY_TZ)).date()


def beijing_text(value: datetime) -> str:
    """*value* (a stored time; without a zone it is UTC) as Beijing time, to the minute:
    ``2026-12-06 19:12``. For texts made outside a web request (messages, exports); the
    pages use the ``day`` filter, which does the same."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(DISPLAY_TZ)).strftime("%Y-%m-%d %H:%M")
