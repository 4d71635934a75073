"""ledger: a voucher part stands behind one loan at most (a unique index)

Double financing of a voucher part is refused by the services (the firm's lock, the
open-loan check when an offer is accepted, the part's ``held`` status when it is
pledged); this index is the database's own guard behind them. It is a full index, not
one on live rows: a part is pledged once, ever. Its status goes ``held`` -> ``financed``
-> ``settled`` and never back (``trg_voucher_fragments_status``), also when the loan is
cancelled before pay-out (the part is detached from the loan, not freed), so a second row
for one part is always an error. The unique index takes the place of the plain one on
``fragment_id``.

A database that already holds two rows for one part stops here with their ids: which loan
the part really stands behind is for a person to decide, not for a migration.

Revision ID: 0022l_loan_fragment_once
Revises: 0021l_loan_cancel_reason_message
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0022l_loan_fragment_once'
down_revision = '0021l_loan_cancel_reason_message'
branch_labels = None
depends_on = None


def upgrade() -> None:
    twice = op.get_bind().execute(sa.text(
        "SELECT fragment_id, count(*) FROM loan_fragments GROUP BY fragment_id "
        "HAVING count(*) > 1 ORDER BY fragment_id")).all()
    if twice:
        raise RuntimeError(
            "loan_fragments: voucher parts behind more than one loan (fragment id, rows): "
            f"{[tuple(r) for r in twice]}; settle which loan each stands behind first")
    op.create_index('uq_loan_fragments_fragment_id', 'loan_fragments', ['fragment_id'],
                    unique=True)
    op.drop_index('ix_loan_fragments_fragment_id', table_name='loan_fragments')


def downgrade() -> None:
    op.create_index('ix_loan_fragments_fragment_id', 'loan_fragments', ['fragment_id'],
                    unique=False)
    op.drop_index('uq_loan_fragments_fragment_id', table_name='loan_fragments')
