"""The one clock every package reads: timezone-aware UTC.

SQLModel stores datetimes as UTC; a naive ``datetime.now()`` would be local time on one
machine and UTC on another. Every table's ``created_at`` style default is :func:`utcnow`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

#: The zone times are shown in to people: Beijing time (UTC+8, no daylight saving).
DISPLAY_TZ = "Asia/Shanghai"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def beijing_text(value: datetime) -> str:
    """*value* (a stored time; without a zone it is UTC) as Beijing time, to the minute:
    ``2026-12-06 19:12``. For texts made outside a web request (messages, exports); the
    pages use the ``day`` filter, which does the same."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(DISPLAY_TZ)).strftime("%Y-%m-%d %H:%M")
