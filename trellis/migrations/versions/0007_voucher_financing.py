"""voucher financing: voucher parts through the ledger's origination

Revision ID: 0007_voucher_financing
Revises: 0005_ledger
Depends on: 0006_journeys
Create Date: 2026-11-30

``loan_applications.fragment_ids`` (the voucher parts an application pledges, like
``invoice_ids``) and ``loan_fragments`` (the voucher parts behind a loan, like
``loan_documents``). Needs the vouchers' tables (branch ``journeys``) for its foreign key.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_voucher_financing'
down_revision = '0005_ledger'
branch_labels = None
depends_on = ('0006_journeys',)


def upgrade() -> None:
    with op.batch_alter_table('loan_applications') as batch_op:
        batch_op.add_column(sa.Column('fragment_ids', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
    op.create_table('loan_fragments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('fragment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['fragment_id'], ['voucher_fragments.id'],
                            name=op.f('fk_loan_fragments_fragment_id_voucher_fragments')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'],
                            name=op.f('fk_loan_fragments_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_fragments'))
    )
    with op.batch_alter_table('loan_fragments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_fragments_fragment_id'), ['fragment_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_loan_fragments_loan_id'), ['loan_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('loan_fragments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loan_fragments_loan_id'))
        batch_op.drop_index(batch_op.f('ix_loan_fragments_fragment_id'))
    op.drop_table('loan_fragments')
    with op.batch_alter_table('loan_applications') as batch_op:
        batch_op.drop_column('fragment_ids')
