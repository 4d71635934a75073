"""task runs: the state of background tasks, shared by every process

Revision ID: 0017a_task_runs
Revises: 0001_foundation
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0017a_task_runs'
down_revision = '0001_foundation'
branch_labels = ('tasks',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_runs',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('kwargs', sa.Text(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=True),
        sa.Column('errors', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('outcome', sa.Text(), nullable=False),
        sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('enqueued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("state in ('queued', 'running', 'done', 'failed')",
                           name=op.f('ck_task_runs_state')),
        sa.CheckConstraint('attempts >= 0 and rows_done >= 0 and errors >= 0',
                           name=op.f('ck_task_runs_counts_not_negative')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_runs')),
    )
    with op.batch_alter_table('task_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_runs_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_runs_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_runs_state'))
        batch_op.drop_index(batch_op.f('ix_task_runs_name'))
    op.drop_table('task_runs')
