"""trade: an anchor's outstanding invoices by due date, in one index

The desk's overdue figure read every confirmed invoice of the anchor past its due date
(the index 0018p had no way to skip the paid ones): 70,439 index entries on the
10,000-firm cluster, 15 ms, to sum 4,278. The new index keeps whether the invoice is
still outstanding (``amount_fen > paid_fen``) before the due date, so due, overdue and
the issuable vouchers read only the outstanding ones; it replaces 0018p's
``ix_invoices_buyer_status_due`` (its first two columns serve the pending count as before).

Revision ID: 0019p_invoices_open_due
Revises: 0018p_trade_buyer_indexes
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0019p_invoices_open_due'
down_revision = '0018p_trade_buyer_indexes'
branch_labels = None
depends_on = '0011a_invoice_paid_check'   # after its table copy (SQLite), which would drop this index


def upgrade() -> None:
    op.create_index('ix_invoices_buyer_status_open_due', 'invoices',
                    ['buyer_id', 'status', sa.text('(amount_fen > paid_fen)'), 'due_date',
                     'amount_fen', 'paid_fen'], unique=False)
    op.drop_index('ix_invoices_buyer_status_due', table_name='invoices')


def downgrade() -> None:
    op.create_index('ix_invoices_buyer_status_due', 'invoices',
                    ['buyer_id', 'status', 'due_date', 'amount_fen', 'paid_fen'], unique=False)
    op.drop_index('ix_invoices_buyer_status_open_due', table_name='invoices')
