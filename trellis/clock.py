"""The one clock every package reads: timezone-aware UTC.

SQLModel stores datetimes as UTC; a naive ``datetime.now()`` would be local time on one
machine and UTC on another. Every table's ``created_at`` style default is :func:`utcnow`.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)
