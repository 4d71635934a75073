"""chain resilience: alerts, this database's instance id, registration claims

Revision ID: 0010a_chain_resilience
Revises: 0003_chain
Create Date: 2026-12-06 02:00:00
"""
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010a_chain_resilience'
down_revision = '0003_chain'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chain_alerts',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('raised_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_chain_alerts'))
    )
    instance = op.create_table('chain_instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_instance'))
    )
    # This database's identity, made once: it must exist (committed) before the first
    # registration, so that crash recovery finds the same one.
    op.bulk_insert(instance, [{'id': 1, 'instance_id': secrets.token_hex(32),
                               'created_at': datetime.now(UTC)}])
    with op.batch_alter_table('chain_fingerprints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim', sqlmodel.sql.sqltypes.AutoString(length=66),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chain_fingerprints', schema=None) as batch_op:
        batch_op.drop_column('claim')
    op.drop_table('chain_instance')
    op.drop_table('chain_alerts')
