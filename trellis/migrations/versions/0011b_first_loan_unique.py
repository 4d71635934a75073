"""loans: at most one first loan per firm

Revision ID: 0011b_first_loan_unique
Revises: 0011a_invoice_paid_check
Create Date: 2026-12-06

Two offers of one firm accepted at once both counted no earlier loan and made two "first"
loans (both with the cooling-off waiver). The service now locks the firm's row before it
counts; this unique partial index stands behind it. A cancelled loan leaves the index, so
the firm's next loan can be its first. Should a database already hold two live first
loans of one firm, the later ones stop being first before the index is built.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011b_first_loan_unique'
down_revision = '0011a_invoice_paid_check'
branch_labels = None
depends_on = None

WHERE = "first_loan AND status <> 'cancelled'"


def upgrade() -> None:
    op.execute(sa.text(
        f"UPDATE loans SET first_loan = false WHERE {WHERE} AND id <> ("
        f"SELECT min(l2.id) FROM loans l2 WHERE l2.firm_id = loans.firm_id AND "
        f"l2.first_loan AND l2.status <> 'cancelled')"))
    op.create_index('uq_loans_first_loan', 'loans', ['firm_id'], unique=True,
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index('uq_loans_first_loan', table_name='loans')
