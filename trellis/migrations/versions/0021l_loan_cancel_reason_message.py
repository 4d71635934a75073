"""ledger: a loan's cancel reason is a stored message (JSON), not English text

``loans.cancel_reason`` held "Not paid out: <the registry's English>" cut to 300
characters; it now holds the message's JSON (``Message.dumps``: template and parameters,
money as fen), rendered per locale on the pages, and a nested message with document
names can pass 300 characters: the column becomes TEXT.

SQLite does not enforce a VARCHAR's length (the column is TEXT there already) and a
batch rebuild of ``loans`` would drop its triggers (``trg_loans_terms_fixed``), so only
PostgreSQL is altered.

Revision ID: 0021l_loan_cancel_reason_message
Revises: 0019z_application_exposure
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = '0021l_loan_cancel_reason_message'
down_revision = '0019z_application_exposure'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('loans', 'cancel_reason', type_=sa.Text(),
                        existing_type=sa.String(length=300), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE loans SET cancel_reason = left(cancel_reason, 300) "
                   "WHERE length(cancel_reason) > 300")
        op.alter_column('loans', 'cancel_reason', type_=sa.String(length=300),
                        existing_type=sa.Text(), existing_nullable=False)
