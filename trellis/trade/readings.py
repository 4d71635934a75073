"""Monthly meter readings (electricity, water, gas) and social-insurance headcount.

The onboarding area owns these tables and their import kinds (``utility_readings``,
``headcount_records``; models :class:`~trellis.trade.models.UtilityReading` and
``HeadcountRecord``, migration ``0013a_onboarding``). Scoring and the demo simulator reach
them through the light Core handles below, and only when the tables exist (a database
migrated before 0013a has none), reading just the columns they need. ``month`` is the
first day of the month a reading covers; a month without a reading is unknown, never zero.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

UTILITY_READINGS = sa.table(
    "utility_readings", sa.column("firm_id", sa.Integer), sa.column("utility", sa.String),
    sa.column("month", sa.Date), sa.column("quantity", sa.Numeric))
HEADCOUNT_RECORDS = sa.table(
    "headcount_records", sa.column("firm_id", sa.Integer), sa.column("month", sa.Date),
    sa.column("headcount", sa.Integer))
UTILITIES = ("electricity", "water", "gas")


def available(session: Session) -> bool:
    """Whether this database has the reading tables (the onboarding migration ran)."""
    insp = sa.inspect(session.connection())
    return insp.has_table("utility_readings") and insp.has_table("headcount_records")
