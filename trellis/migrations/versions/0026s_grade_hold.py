"""scoring: grade hysteresis (a published grade moves only past its band by a margin)

- ``score_results.card_grade``: the grade the card's PD alone gives; ``grade`` stays the
  published grade (prices, limits and pages read it). Existing rows: the card's grade was
  the published one, so it is copied.
- ``score_results.grade_hold``: what the hold read (margin, the earlier record and grade).
- ``grade_hold_policies``: the margin in points from a date on, with its source; seeded
  with 5 points from 2020-01-01.

Revision ID: 0026s_grade_hold
Revises: 0014a_portfolio_default_rate
Create Date: 2026-12-07
"""
import datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0026s_grade_hold'
down_revision = '0014a_portfolio_default_rate'
branch_labels = None
depends_on = None

SOURCE = ("Risk-team setting: a grade moves only when the score is more than 5 points (an "
          "eighth of the 40 points that double the odds) past the edge of the grade's band, "
          "so that one small invoice does not re-price a firm; measured on the demo park "
          "(bench/RESULTS.md, card13).")


def upgrade() -> None:
    with op.batch_alter_table('score_results') as batch_op:
        batch_op.add_column(sa.Column('card_grade', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('grade_hold', sa.JSON(), nullable=True))
    op.execute("update score_results set card_grade = grade")
    op.create_table('grade_hold_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('margin_points', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.CheckConstraint('margin_points >= 0 and margin_points <= 100',
                       name=op.f('ck_grade_hold_policies_margin_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_hold_policies')),
    sa.UniqueConstraint('effective_from', name=op.f('uq_grade_hold_policies_effective_from'))
    )
    table = sa.table("grade_hold_policies", sa.column("effective_from", sa.Date),
                     sa.column("margin_points", sa.Integer), sa.column("source", sa.String))
    op.bulk_insert(table, [{"effective_from": datetime.date(2020, 1, 1), "margin_points": 5,
                            "source": SOURCE}])


def downgrade() -> None:
    op.drop_table('grade_hold_policies')
    with op.batch_alter_table('score_results') as batch_op:
        batch_op.drop_column('grade_hold')
        batch_op.drop_column('card_grade')
