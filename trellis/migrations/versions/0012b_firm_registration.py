"""trade: a self-registered firm waits for an RM's approval

Revision ID: 0012b_firm_registration
Revises: 0012a_session_generation
Create Date: 2026-12-06

``firms.registration``: "pending" for a firm that registered from scratch (no
invitation) until a relationship manager approves it, then "approved"; NULL for firms
known from a cluster's data. A pending firm sees no other firm and files no trade entries.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012b_firm_registration'
down_revision = '0012a_session_generation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('firms') as batch_op:
        batch_op.add_column(sa.Column('registration', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('firms') as batch_op:
        batch_op.drop_column('registration')
