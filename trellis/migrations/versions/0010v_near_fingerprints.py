"""chain: coarse fingerprints of documents presented for financing (near-duplicates go
to review; issue 10, defect 10)

Revision ID: 0010v_near_fingerprints
Revises: 0003_chain
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010v_near_fingerprints'
down_revision = '0003_chain'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chain_near_fingerprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('application_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_near_fingerprints')),
    sa.UniqueConstraint('fingerprint', 'subject_type', 'subject_id',
                        name=op.f('uq_chain_near_fingerprints_fingerprint_subject_type_subject_id'))
    )
    with op.batch_alter_table('chain_near_fingerprints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_near_fingerprints_fingerprint'),
                              ['fingerprint'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chain_near_fingerprints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_near_fingerprints_fingerprint'))
    op.drop_table('chain_near_fingerprints')
