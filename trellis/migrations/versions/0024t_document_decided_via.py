"""trade: how a buyer decided an invoice or an order (its pages, or its ERP's API)

``invoices.decided_via`` and ``purchase_orders.decided_via``: "web" when a person decided
on the anchor's pages, "api" when the anchor's ERP did with a firm token (no user, so
``confirmed_by_id`` is NULL); NULL for documents loaded already decided (an import, the
demo). The notification job tells the seller of "web" and "api" decisions, saying when
the buyer's system decided (issue 15); imports are still not told.

Revision ID: 0024t_document_decided_via
Revises: 0023w_warning_cover_indexes
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0024t_document_decided_via'
down_revision = '0023w_warning_cover_indexes'
branch_labels = None
depends_on = None

TABLES = ('invoices', 'purchase_orders')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('decided_via', sa.String(length=8), nullable=True))
    # decisions made by a person so far were made on the pages
    for table in TABLES:
        op.execute(f"UPDATE {table} SET decided_via = 'web' WHERE confirmed_by_id IS NOT NULL")


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy of invoices would lose
    # its expression index (ix_invoices_buyer_status_open_due)
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN decided_via")
