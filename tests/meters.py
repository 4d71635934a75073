"""The meter tables (power, water and gas readings; insured headcount) for tests whose
schema comes from the models rather than the migrations, which own those tables."""

from __future__ import annotations

import sqlalchemy as sa

from trellis.trade import readings


def ensure_reading_tables(session) -> None:
    """Create utility_readings and headcount_records as the onboarding migration does,
    unless they exist."""
    if readings.available(session):
        return
    md = sa.MetaData()
    sa.Table("utility_readings", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("firm_id", sa.Integer), sa.Column("utility", sa.String(12)),
             sa.Column("month", sa.Date), sa.Column("quantity", sa.Numeric(16, 3)))
    sa.Table("headcount_records", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("firm_id", sa.Integer), sa.Column("month", sa.Date),
             sa.Column("headcount", sa.Integer))
    md.create_all(session.connection())
