"""protection: one settlement account proposal waiting at a time, in the database

A partial unique index on ``settlement_account_changes.status`` where it is 'proposed':
two proposals made at the same moment both passed the service's "one is already waiting"
check on PostgreSQL (outside drill attack13: 13-15 of 16 waited at once, and the admins
then approved each other's). Should several be waiting already, all but the newest are
rejected first (decided at the newest's time, no decider: as a withdrawal records it).

Revision ID: 0027p_settlement_one_waiting
Revises: payout12_payout_accounts
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0027p_settlement_one_waiting'
down_revision = 'payout12_payout_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE settlement_account_changes SET status = 'rejected', decided_at = "
               "(SELECT max(proposed_at) FROM settlement_account_changes WHERE status = "
               "'proposed') WHERE status = 'proposed' AND id < (SELECT max(id) FROM "
               "settlement_account_changes WHERE status = 'proposed')")
    op.create_index('uq_settlement_account_changes_waiting', 'settlement_account_changes',
                    ['status'], unique=True,
                    postgresql_where=sa.text("status = 'proposed'"),
                    sqlite_where=sa.text("status = 'proposed'"))


def downgrade() -> None:
    op.drop_index('uq_settlement_account_changes_waiting',
                  table_name='settlement_account_changes')
