"""invoices: paid amount between 0 and the invoice's amount

Revision ID: 0011a_invoice_paid_check
Revises: 0007_voucher_financing
Create Date: 2026-12-06

Two payments of one invoice at once once lost one of them (``paid_fen += x`` on a stale
read). The service now adds atomically; this CHECK stands behind it, so no path can record
more paid than the invoice is worth. Rows already above the amount (none are expected)
are capped first so that the constraint can be created.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011a_invoice_paid_check'
down_revision = '0007_voucher_financing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("UPDATE invoices SET paid_fen = amount_fen WHERE paid_fen > amount_fen"))
    op.execute(sa.text("UPDATE invoices SET paid_fen = 0 WHERE paid_fen < 0"))
    with op.batch_alter_table('invoices') as batch_op:
        batch_op.create_check_constraint('paid_within_amount',
                                         'paid_fen >= 0 and paid_fen <= amount_fen')


def downgrade() -> None:
    with op.batch_alter_table('invoices') as batch_op:
        batch_op.drop_constraint('paid_within_amount', type_='check')
