"""scoring: the stated portfolio default rate that anchors a card's PD level

Seeds one row: 4% of loans defaulting within 12 months, from 2020-01-01, with its source.
It is product data an admin changes; a card is anchored to the row in force on the
calibration date until the platform's own outcomes allow recalibration.

Revision ID: 0014a_portfolio_default_rate
Revises: 0004_scoring
Create Date: 2026-12-06
"""
import datetime
from decimal import Decimal

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014a_portfolio_default_rate'
down_revision = '0004_scoring'
branch_labels = None
depends_on = None

SOURCE = ("Risk-team assumption for a cluster with no outcomes yet: 12-month default "
          "(90+ days past due) of supply-chain loans to micro and small firms. Chinese banks "
          "report non-performing ratios of about 2-3% for inclusive small and micro loans; "
          "a loan-level default rate runs above a stock NPL ratio, hence 4%. Replace it with "
          "the bank's own observed rate.")


def upgrade() -> None:
    op.create_table('portfolio_default_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=7, scale=5), nullable=False),
    sa.Column('horizon_months', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.CheckConstraint('horizon_months > 0', name=op.f('ck_portfolio_default_rates_horizon_pos')),
    sa.CheckConstraint('rate > 0 and rate < 1', name=op.f('ck_portfolio_default_rates_rate_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portfolio_default_rates')),
    sa.UniqueConstraint('effective_from', name=op.f('uq_portfolio_default_rates_effective_from'))
    )
    table = sa.table("portfolio_default_rates", sa.column("effective_from", sa.Date),
                     sa.column("rate", sa.Numeric), sa.column("horizon_months", sa.Integer),
                     sa.column("source", sa.String))
    op.bulk_insert(table, [{"effective_from": datetime.date(2020, 1, 1),
                            "rate": Decimal("0.04000"), "horizon_months": 12,
                            "source": SOURCE}])


def downgrade() -> None:
    op.drop_table('portfolio_default_rates')
