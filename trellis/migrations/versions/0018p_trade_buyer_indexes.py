"""trade: indexes for an anchor's desk and queue (its pending documents, its payables)

Revision ID: 0018p_trade_buyer_indexes
Revises: 0001_foundation
Create Date: 2026-12-06
"""
from alembic import op

revision = '0018p_trade_buyer_indexes'
down_revision = '0001_foundation'
branch_labels = ('trade_buyer_indexes',)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index('ix_invoices_buyer_status_due',
                              ['buyer_id', 'status', 'due_date', 'amount_fen', 'paid_fen'],
                              unique=False)
        batch_op.create_index('ix_invoices_buyer_status_issued',
                              ['buyer_id', 'status', 'issue_date'], unique=False)
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_orders_buyer_status', ['buyer_id', 'status'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_orders_buyer_status')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_buyer_status_issued')
        batch_op.drop_index('ix_invoices_buyer_status_due')
