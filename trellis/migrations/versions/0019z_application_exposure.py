"""ledger: what the firm owed and was promised when its application was decided

The RM's application page showed today's exposure plus the application: once approved,
its own offer (or loan) was in today's figure and counted twice, and a settled
application showed today's figures, not those it was decided on. The figure, without
the application itself, is kept at the decision.

Revision ID: 0019z_application_exposure
Revises: 0019l_ledger_cheaper_checks
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0019z_application_exposure'
down_revision = '0019l_ledger_cheaper_checks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('loan_applications') as batch:
        batch.add_column(sa.Column('exposure_fen', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('loan_applications') as batch:
        batch.drop_column('exposure_fen')
