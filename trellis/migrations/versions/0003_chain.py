"""chain

Revision ID: 0003_chain
Revises: 0001_foundation
Create Date: 2026-11-30 01:04:56.437056
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003_chain'
down_revision = '0001_foundation'
branch_labels = ('chain',)
depends_on = None


def upgrade() -> None:
    op.create_table('chain_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('root', sa.String(length=66), nullable=False),
    sa.Column('leaf_count', sa.Integer(), nullable=False),
    sa.Column('manifest_hash', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('chain_id', sa.BigInteger(), nullable=True),
    sa.Column('contract_address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True),
    sa.Column('tx_hash', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.Column('nonce', sa.BigInteger(), nullable=True),
    sa.Column('max_fee_per_gas', sa.BigInteger(), nullable=True),
    sa.Column('max_priority_fee_per_gas', sa.BigInteger(), nullable=True),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('block_number', sa.BigInteger(), nullable=True),
    sa.Column('block_hash', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.Column('included_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('gas_used', sa.BigInteger(), nullable=True),
    sa.Column('effective_gas_price', sa.BigInteger(), nullable=True),
    sa.Column('fee_wei', sa.BigInteger(), nullable=True),
    sa.Column('confirmations', sa.Integer(), nullable=False),
    sa.Column('anchor_count', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("state in ('pending', 'submitted', 'included', 'safe', 'finalized')", name=op.f('ck_chain_batches_state')),
    sa.CheckConstraint('leaf_count > 0', name=op.f('ck_chain_batches_leaf_count_pos')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_batches')),
    sa.UniqueConstraint('root', name=op.f('uq_chain_batches_root'))
    )
    with op.batch_alter_table('chain_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_batches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_chain_batches_state'), ['state'], unique=False)

    op.create_table('chain_fingerprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=66), nullable=False),
    sa.Column('variant', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('financed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('registrant', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.Column('registered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_fingerprints')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_chain_fingerprints_fingerprint'))
    )
    with op.batch_alter_table('chain_fingerprints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_fingerprints_subject_id'), ['subject_id'], unique=False)

    op.create_table('chain_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('doc_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('source_id', sa.BigInteger(), nullable=True),
    sa.Column('canonical', sa.Text(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('salt', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status in ('queued', 'batched')", name=op.f('ck_chain_documents_status')),
    sa.ForeignKeyConstraint(['batch_id'], ['chain_batches.id'], name=op.f('fk_chain_documents_batch_id_chain_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_documents')),
    sa.UniqueConstraint('doc_type', 'doc_id', name=op.f('uq_chain_documents_doc_type_doc_id'))
    )
    with op.batch_alter_table('chain_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_documents_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chain_documents_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_chain_documents_source', ['doc_type', 'source', 'source_id'], unique=False)
        batch_op.create_index('ix_chain_documents_status', ['status', 'id'], unique=False)

    op.create_table('chain_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('max_fee_per_gas', sa.BigInteger(), nullable=False),
    sa.Column('max_priority_fee_per_gas', sa.BigInteger(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['chain_batches.id'], name=op.f('fk_chain_transactions_batch_id_chain_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_transactions')),
    sa.UniqueConstraint('tx_hash', name=op.f('uq_chain_transactions_tx_hash'))
    )
    with op.batch_alter_table('chain_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_transactions_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_chain_transactions_sender_nonce', ['chain_id', 'sender', 'nonce'], unique=False)
        batch_op.create_index(batch_op.f('ix_chain_transactions_state'), ['state'], unique=False)

    op.create_table('chain_leaves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('value_index', sa.Integer(), nullable=False),
    sa.Column('tree_index', sa.Integer(), nullable=False),
    sa.Column('leaf', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['chain_batches.id'], name=op.f('fk_chain_leaves_batch_id_chain_batches')),
    sa.ForeignKeyConstraint(['document_id'], ['chain_documents.id'], name=op.f('fk_chain_leaves_document_id_chain_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_leaves')),
    sa.UniqueConstraint('batch_id', 'value_index', name=op.f('uq_chain_leaves_batch_id_value_index')),
    sa.UniqueConstraint('document_id', name=op.f('uq_chain_leaves_document_id'))
    )
    with op.batch_alter_table('chain_leaves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_leaves_batch_id'), ['batch_id'], unique=False)

    op.create_table('chain_audit_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('checked', sa.Integer(), nullable=False),
    sa.Column('discrepancy_count', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("state in ('queued', 'running', 'done', 'failed')", name=op.f('ck_chain_audit_runs_state')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_chain_audit_runs_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_audit_runs'))
    )


def downgrade() -> None:
    op.drop_table('chain_audit_runs')
    with op.batch_alter_table('chain_leaves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_leaves_batch_id'))

    op.drop_table('chain_leaves')
    with op.batch_alter_table('chain_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_transactions_state'))
        batch_op.drop_index('ix_chain_transactions_sender_nonce')
        batch_op.drop_index(batch_op.f('ix_chain_transactions_batch_id'))

    op.drop_table('chain_transactions')
    with op.batch_alter_table('chain_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_chain_documents_status')
        batch_op.drop_index('ix_chain_documents_source')
        batch_op.drop_index(batch_op.f('ix_chain_documents_created_at'))
        batch_op.drop_index(batch_op.f('ix_chain_documents_batch_id'))

    op.drop_table('chain_documents')
    with op.batch_alter_table('chain_fingerprints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_fingerprints_subject_id'))

    op.drop_table('chain_fingerprints')
    with op.batch_alter_table('chain_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_batches_state'))
        batch_op.drop_index(batch_op.f('ix_chain_batches_created_at'))

    op.drop_table('chain_batches')
