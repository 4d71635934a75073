"""trade: a firm's industry in the national classification (GB/T 4754-2017)

Revision ID: 0020c_firm_industry_code
Revises: 0012b_firm_registration
Create Date: 2026-12-06

``firms.industry_code``: the division (大类, two digits, e.g. ``36`` 汽车制造业) or, when
only that is known, the section (门类, a letter) a park's firm list gives in 所属行业;
NULL when it does not say. ``firms.industry`` (the coarse industry) is unchanged. The
names live in ``trellis.trade.industries`` (issue 14).
"""
import sqlalchemy as sa
from alembic import op

revision = '0020c_firm_industry_code'
down_revision = '0012b_firm_registration'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('firms') as batch_op:
        batch_op.add_column(sa.Column('industry_code', sa.String(length=4), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('firms') as batch_op:
        batch_op.drop_column('industry_code')
